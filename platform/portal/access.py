"""Who may open which school-site page: each view names the roles allowed on it. Which pupils
and groups an account may see is the pupils selectors' (``access_pupil``, ``access_group``)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from tenants.users.models import User

STAFF = (User.Role.SCHOOL_ADMIN, User.Role.TEACHER)
ADMIN = User.Role.SCHOOL_ADMIN


def role_required(*roles: str):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied("Your account cannot open this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
