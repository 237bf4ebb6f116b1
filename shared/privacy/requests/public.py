"""The public request page's submissions ("via our contact page"): until the person confirms their
email address by the link mailed to it, nothing is stored. The submission travels inside that link,
signed (Django's signing, the project's secret key) and dated, and expires after
``SUBMISSION_DAYS``; confirming it once lands the request (``orchestration.public_requests``), and
its random reference, kept on the request, refuses a second landing. Signed is not encrypted: the
link carries the person's own words readably, so it goes only to their own address, and its route
is in ``config.redaction.SECRET_ROUTES`` (never logged or kept in the visit log).

What reaches us, and when: the request is received on the day it was submitted, not the day the
link was followed. The ICO's time limit runs "from the day the organisation receives the request";
a request has reached us when the person sends it, and confirming the address is our own check that
the answer goes to the right person (like any check of identity it must not cost the person days).
So ``received_on`` is the submission date the link carries, and the address counts as verified on
the day it is confirmed."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError

from shared import clock

SALT = "privacy.public-request"
SUBMISSION_DAYS = 7
DETAILS_MAX = 4000
VENDOR = "vendor"


@dataclass(frozen=True)
class Submission:
    """What the person sent: the right (or a complaint or question), whose data it is about
    (``school_id`` None: the vendor's), who they are, the details, when and its reference."""

    kind: str
    school_id: int | None
    name: str
    email: str
    details: str
    submitted_on: dt.date
    ref: str


def submission_token(*, kind: str, school_id: int | None, name: str, email: str, details: str,
                     submitted_on: dt.date) -> str:
    """The signed, compressed submission to mail to ``email`` (its confirmation link's key)."""
    return signing.dumps({"k": kind, "s": school_id, "n": name, "e": email, "d": details,
                          "t": submitted_on.isoformat(), "r": secrets.token_hex(16)},
                         salt=SALT, compress=True)


def submission_read(token: str) -> Submission:
    """The submission a link carries; refuses (ValidationError) a forged, damaged or expired one."""
    try:
        data = signing.loads(token, salt=SALT)  # its age by ``shared.clock``, below, not the wall clock
        submission = Submission(kind=str(data["k"]), school_id=int(data["s"]) if data["s"] is not None else None,
                          name=str(data["n"]), email=str(data["e"]), details=str(data["d"]),
                                submitted_on=dt.date.fromisoformat(data["t"]), ref=str(data["r"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError("This link is not valid: it may have been cut short. Copy the whole link from the "
                              "message, or make the request again.") from None
    if (clock.today() - submission.submitted_on).days > SUBMISSION_DAYS:
        raise ValidationError(f"This link has expired (links last {SUBMISSION_DAYS} days): please make the request "
                              "again.")
    return submission


IDENTITY_SALT = "privacy.request-identity"


def identity_token(*, schema: str, request_id: int, paused_since: dt.date) -> str:
    """The key of the link that confirms a requester's identity (``services.request_identity_confirm``):
    it names the request and the day it began to wait, so a link from an earlier wait is refused."""
    return signing.dumps({"s": schema, "q": request_id, "p": paused_since.isoformat()}, salt=IDENTITY_SALT)


def identity_token_read(token: str) -> tuple[str, int, dt.date]:
    """(schema, request id, the day its wait began) from an identity link; refuses a forged or damaged one."""
    try:
        data = signing.loads(token, salt=IDENTITY_SALT)
        return str(data["s"]), int(data["q"]), dt.date.fromisoformat(data["p"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError("This link is not valid: it may have been cut short. Copy the whole link from the "
                              "message.") from None
