"""Reads on support access: requests and the access log for the console and the school's site.
The school's data as an operator sees it under a grant is ``orchestration.support``.

The school's site reads these public rows from inside the school's schema. There, ``users_user``
is the school's own table, so an operator's name is never read by joining ``operator__user``:
``operator_names`` reads them in ``public``."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_tenants.utils import get_public_schema_name, schema_context

from shared import clock
from shared.operators.models import Operator
from shared.schools.models import School
from shared.support.models import SupportAccessLog, SupportAccessRequest

State = SupportAccessRequest.State


def support_requests_of_operator(*, operator: Operator, school: School | None = None) -> QuerySet[SupportAccessRequest]:
    """An operator's own requests, newest first; for one school when ``school`` is given."""
    queryset = SupportAccessRequest.objects.filter(operator=operator).select_related("school")
    return queryset.filter(school=school) if school is not None else queryset


def support_requests_pending(*, school: School) -> QuerySet[SupportAccessRequest]:
    return SupportAccessRequest.objects.filter(school=school, state=State.PENDING).order_by("requested_at", "id")


def support_grants_current(*, school: School) -> QuerySet[SupportAccessRequest]:
    """Approved grants to this school that have not expired yet."""
    return SupportAccessRequest.objects.filter(school=school, state=State.APPROVED, expires_at__gt=clock.now()) \
        .order_by("expires_at", "id")


def support_requests_decided(*, school: School) -> QuerySet[SupportAccessRequest]:
    """Everything else the school has been asked: refused, revoked and expired."""
    return SupportAccessRequest.objects.filter(school=school).exclude(state=State.PENDING) \
        .exclude(state=State.APPROVED, expires_at__gt=clock.now())


def support_log_of_school(*, school: School) -> QuerySet[SupportAccessLog]:
    """Every attempt to open this school's data from the console, newest first."""
    return SupportAccessLog.objects.filter(school=school).select_related("grant")


def access_support_request(*, school: School, request_id: int) -> SupportAccessRequest:
    """A request to this school: another school's request is not found, not shown."""
    return get_object_or_404(SupportAccessRequest, pk=request_id, school=school)


def operator_names(operator_ids) -> dict[int, str]:
    """Operators' names by operator id, read in ``public`` whatever schema the caller is in."""
    ids = {i for i in operator_ids if i is not None}
    if not ids:
        return {}
    with schema_context(get_public_schema_name()):
        return {pk: full_name or email for pk, full_name, email in
                Operator.objects.filter(pk__in=ids).values_list("pk", "user__full_name", "user__email")}


# --- The school's data, under a grant -------------------------------------------------------------
