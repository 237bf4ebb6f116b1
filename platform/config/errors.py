"""Error pages that need the request (its site's look, the privacy footer) and, for a bad request, a
message meant for the person: the reason a ``BadRequest`` names, never a technical one."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.shortcuts import render


def bad_request(request, exception):
    reason = str(exception) if isinstance(exception, BadRequest) else ""
    return render(request, "400.html", {"reason": reason}, status=400)
