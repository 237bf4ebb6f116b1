"""Reads on client records. Every lookup by an id from a request goes through an ``access_*``
helper, which raises Http404 for an unknown id."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from shared import clock
from shared.clients.models import Complaint, Contact, ContactConsent, Contract, CorrespondenceAttachment, OptionalMail
from shared.schools.models import School


def current_contract(school: School) -> Contract | None:
    return school.contracts.order_by("-starts_on", "-id").first()


def client_list(*, search: str = "", status: str = "") -> QuerySet[School]:
    """Schools with their current contract's status and last use, and open complaints, for the
    clients list; ``search`` matches name, subdomain or a contact's name or email."""
    latest = Contract.objects.filter(school=OuterRef("pk")).order_by("-starts_on", "-id")
    queryset = School.objects.annotate(
        contract_status=Subquery(latest.values("status")[:1]),
        last_used_on=Subquery(latest.values("last_used_on")[:1]),
        open_complaints=Count("complaints", filter=Q(complaints__status__in=Complaint.OPEN_STATUSES), distinct=True),
    ).prefetch_related("domains").order_by("name")
    if search.strip():
        term = search.strip()
        queryset = queryset.filter(
            Q(name__icontains=term) | Q(domains__domain__istartswith=term)
            | Q(contacts__full_name__icontains=term) | Q(contacts__email__icontains=term)
        ).distinct()
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def access_school(school_id: int) -> School:
    return get_object_or_404(School, pk=school_id)


def access_contact(*, school: School, contact_id: int) -> Contact:
    """A contact of this school: another school's contact is not found, not shown."""
    return get_object_or_404(Contact, pk=contact_id, school=school)


def access_complaint(complaint_id: int) -> Complaint:
    return get_object_or_404(Complaint.objects.select_related("school", "contact"), pk=complaint_id)


def complaint_list(*, status: str = "", search: str = "") -> QuerySet[Complaint]:
    queryset = Complaint.objects.select_related("school", "contact")
    if status == "open":
        queryset = queryset.filter(status__in=Complaint.OPEN_STATUSES)
    elif status:
        queryset = queryset.filter(status=status)
    if search.strip():
        queryset = queryset.filter(Q(summary__icontains=search.strip()) | Q(school__name__icontains=search.strip()))
    return queryset


def dashboard_counts() -> dict[str, int]:
    from shared.billing.selectors import invoices_overdue

    return {
        "active_clients": School.objects.filter(status=School.Status.ACTIVE).count(),
        "cancelled_clients": School.objects.filter(status=School.Status.CANCELLED).count(),
        "overdue_invoices": invoices_overdue().count(),
        "open_complaints": Complaint.objects.filter(status__in=Complaint.OPEN_STATUSES).count(),
    }


def access_attachment(*, school: School, attachment_id: int) -> CorrespondenceAttachment:
    """One of ``school``'s correspondence attachments (404 for another school's)."""
    return get_object_or_404(CorrespondenceAttachment.objects.select_related("correspondence"),
                             pk=attachment_id, correspondence__school=school)


def contacts_to_write_to(school: School) -> QuerySet[Contact]:
    """The client's contacts an automated mailing may write to: those with an email address whose
    processing is not restricted at their request."""
    return school.contacts.filter(processing_restricted=False).exclude(email="")
def contacts_for_service_notices(*, today: dt.date | None = None) -> QuerySet[Contact]:
    """The contacts a service notice (a new privacy notice) goes to: every current contact of a
    school the vendor serves (active, site open) with an email address. Not those who stopped being
    the school's contact (``ended_on`` today or earlier), nor those whose processing is restricted at
    their request; an erased contact is no longer here at all."""
    today = today or clock.today()
    return (Contact.objects.filter(school__status=School.Status.ACTIVE, school__schema_dropped_at__isnull=True,
                                   processing_restricted=False)
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today)).exclude(email="")
            .select_related("school").order_by("school__name", "full_name", "pk"))


def consents_in_force(*, as_of: dt.datetime) -> Q:
    """Consents given at or before ``as_of`` and not withdrawn by then."""
    return Q(given_at__lte=as_of) & (Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=as_of))


def contacts_for_optional_mail(*, purpose: str, as_of: dt.datetime | None = None) -> QuerySet[Contact]:
    """The one list an optional communication (``OptionalMail``) goes to: the contacts with an email
    address whose consent to ``purpose`` is in force at ``as_of`` (now by default). Anyone who
    never consented, or withdrew at or before ``as_of``, is not on it; nor are those whose processing
    is restricted at their request, nor the contacts of a school whose data has been destroyed."""
    if purpose not in OptionalMail.values:
        raise ValueError(f"not an optional communication: {purpose!r}")
    as_of = as_of or clock.now()
    consented = ContactConsent.objects.filter(consents_in_force(as_of=as_of), purpose=purpose)
    return (Contact.objects.filter(pk__in=consented.values("contact_id"), school__schema_dropped_at__isnull=True,
                                   processing_restricted=False)
            .exclude(email="").select_related("school").order_by("school__name", "full_name", "pk"))


def contact_consents(*, school: School) -> dict[int, list[ContactConsent]]:
    """Every consent of the school's contacts, newest first, by contact id."""
    by_contact: dict[int, list[ContactConsent]] = {}
    for consent in ContactConsent.objects.filter(contact__school=school).order_by("-given_at", "-id"):
        by_contact.setdefault(consent.contact_id, []).append(consent)
    return by_contact
