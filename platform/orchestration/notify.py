"""The mail the vendor's own work sends to the people who must act on it, across the line: a school's
admins (read in the school's schema) told of support-access requests and their expiry, of their
school's overdue data requests, and of new Terms of Use; the DPOs' daily digest of near-due and
overdue requests and breach clocks; and the client contacts told of a new privacy notice.

Every message goes through ``shared.mail.services.mail_send`` (recorded, delivered on commit, retried).
None holds a UPN or a pupil's name: items are named by their reference, kind and dates, never by who
they are about; the page behind each link (after signing in) says the rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import structlog
from django.db import transaction
from django.urls import reverse
from django_tenants.utils import get_public_schema_name, schema_context

from shared import clock
from shared.audit.services import change_log_record
from shared.automation import recording
from shared.changes import Action, Actor
from shared.clients.selectors import contacts_for_service_notices
from shared.compliance.breaches import breaches_due
from shared.compliance.models import NoticeVersion, TermsVersion
from shared.mail.links import absolute_url
from shared.mail.models import OutgoingMessage
from shared.mail.services import mail_send
from shared.mail.tokens import address_normal
from shared.mail.topics import Topic
from shared.operators.models import Operator
from shared.operators.selectors import operator_addresses
from shared.schools.models import School
from shared.schools.selectors import open_schools
from shared.support.models import SupportAccessRequest
from shared.support.services import support_request_create
from tenants.users.selectors import school_admin_addresses

log = structlog.get_logger(__name__)
TENANT_URLS, PUBLIC_URLS = "config.urls_tenants", "config.urls_public"
DIGEST_TEMPLATE = "alerts/digest"


def _mail(**kwargs):
    """``mail_send``, but a stored address the mail service refuses (ValueError: not an address) is
    logged and skipped, so one bad record stops no one else's message."""
    try:
        return mail_send(**kwargs)
    except ValueError as error:
        log.warning("mail.refused", template=kwargs.get("template"), error=str(error)[:200])
        return None


def school_admins(school: School) -> list[str]:
    """The addresses of ``school``'s active admins, read in its schema."""
    with schema_context(school.schema_name):
        return school_admin_addresses()


# --- Support access --------------------------------------------------------------------------------


def _support_mail(grant: SupportAccessRequest, template: str) -> int:
    school = grant.school
    context = {
        "school_name": school.name, "operator_name": grant.operator.user.get_full_name() or "A member of our support team",
        "ticket_reference": grant.ticket_reference, "duration_hours": grant.duration_hours,
        "write_allowed": grant.write_allowed, "expires_at": grant.expires_at,
        "support_url": absolute_url(reverse("support_access", urlconf=TENANT_URLS), school=school),
    }
    addresses = school_admins(school)
    for address in addresses:
        _mail(to=address, template=template, context=context, topic=Topic.SUPPORT, school=school)
    return len(addresses)


@transaction.atomic
def support_request_make(*, operator, school: School, **fields) -> SupportAccessRequest:
    """An operator's support-access request (``shared.support.services.support_request_create``), and
    a mail to each of the school's admins with the link to approve or refuse it on the school's site."""
    access_request = support_request_create(operator=operator, school=school, **fields)
    told = _support_mail(access_request, "support/requested")
    log.info("support.request_mailed", request_id=access_request.pk, school_id=school.pk, recipients=told)
    return access_request


def support_grants_expired_notify(*, now: dt.datetime | None = None) -> int:
    """Tell each school's admins, once, that an approved grant has expired (a revoked one they ended
    themselves). Returns how many grants were told of. Safe to run again: each grant is marked as it
    is told of, in the same transaction as its mail."""
    with schema_context(get_public_schema_name()):
        return _support_grants_expired_notify(now=now or clock.now())


def _support_grants_expired_notify(*, now: dt.datetime) -> int:
    due = list(SupportAccessRequest.objects.filter(state=SupportAccessRequest.State.APPROVED, expires_at__lte=now,
                                                   expiry_notified_at__isnull=True).values_list("pk", flat=True))
    told = 0
    for pk in due:
        with transaction.atomic():
            grant = (SupportAccessRequest.objects.select_for_update(skip_locked=True, of=("self",))
                     .select_related("school", "operator__user")
                     .filter(pk=pk, expiry_notified_at__isnull=True).first())
            if grant is None:
                continue
            grant.expiry_notified_at = now
            grant.save(update_fields=["expiry_notified_at"])
            change_log_record(actor=Actor.system(), instance=grant, action=Action.UPDATE, fields=["expiry_notified_at"])
            if grant.school.status == School.Status.ACTIVE and grant.school.schema_dropped_at is None:
                _support_mail(grant, "support/expired")
            told += 1
    return told


# --- The daily alerts digest -----------------------------------------------------------------------


@dataclass
class DigestItem:
    reference: str
    what: str
    due: str
    overdue: bool
    url: str


@dataclass
class Digest:
    """What the day's flag found: for the DPOs (the vendor's requests and the breach clocks), and for
    each school's admins (their school's overdue requests)."""

    dpo: list[DigestItem] = field(default_factory=list)
    schools: dict[int, list[DigestItem]] = field(default_factory=dict)


def request_item(request, deadline: dt.date, *, overdue: bool, school: School | None = None) -> DigestItem:
    """One request as a digest line: its reference, kind and deadline (never who it is about)."""
    if school is None:
        url = absolute_url(reverse("subject_request", kwargs={"request_id": request.pk}, urlconf=PUBLIC_URLS))
    else:
        url = absolute_url(reverse("rights_request", kwargs={"request_id": request.pk}, urlconf=TENANT_URLS),
                           school=school)
    return DigestItem(reference=f"Request #{request.pk}", what=request.get_kind_display(), due=f"{deadline:%d %B %Y}",
                      overdue=overdue, url=url)


def breach_items(*, as_of: dt.datetime | None = None) -> list[DigestItem]:
    from django.utils import timezone

    items = []
    for due in breaches_due(as_of=as_of):
        items.append(DigestItem(reference=f"Breach {due.breach.reference}", what="Report to the ICO",
                                due=f"{timezone.localtime(due.clock.deadline):%d %B %Y %H:%M}",
                                overdue=due.clock.deadline <= (as_of or clock.now()),
                                url=absolute_url(reverse("breach_detail", kwargs={"breach_id": due.breach.pk}, urlconf=PUBLIC_URLS))))
    return items


def _already_sent_today(address: str, today: dt.date) -> bool:
    """Whether ``today``'s digest has gone to ``address``: its outgoing message is the record, and its
    subject names the day it is for (the day of the run, not of the row: a run just after midnight
    belongs to its own day, and the check reads no wall clock)."""
    return OutgoingMessage.objects.filter(to=address_normal(address), template=DIGEST_TEMPLATE,
                                          subject__endswith=f"({today.day} {today:%B %Y})").exists()


def alerts_digest_send(*, digest: Digest, today: dt.date | None = None) -> int:
    """Mail the day's digest: to each DPO the whole vendor list, to each school's admins their
    school's overdue requests. Once per day and address: a second run the same day sends nothing.
    Returns the number of messages sent."""
    today = today or clock.today()
    sent = 0

    def send(address: str, items: list[DigestItem], school: School | None) -> None:
        nonlocal sent
        if not items or _already_sent_today(address, today):
            return
        context = {"items": items, "today": today, "overdue": sum(1 for item in items if item.overdue),
                   "school_name": school.name if school else ""}
        _mail(to=address, template=DIGEST_TEMPLATE, context=context, topic=Topic.ALERTS, school=school)
        sent += 1

    with schema_context(get_public_schema_name()), transaction.atomic():
        # In public: operators' users live there (from a school's schema the join would read its users).
        for address in operator_addresses(role=Operator.Role.DPO):
            send(address, digest.dpo, None)
    for school in open_schools().filter(pk__in=list(digest.schools)):
        with transaction.atomic():
            for address in school_admins(school):
                send(address, digest.schools[school.pk], school)
    log.info("alerts.digest_sent", messages=sent)
    return sent


# --- New versions of the privacy notice and the Terms of Use -----------------------------------------


def notice_change_tell(*, version_id: int | None = None) -> int:
    """Mail every current client contact with an address that a new privacy notice is published: its
    summary of changes and the link to it. Service-critical (legal): sent whatever their preferences,
    and the message says why. Returns the number of messages."""
    version = (NoticeVersion.objects.filter(pk=version_id).first() if version_id is not None
               else NoticeVersion.objects.order_by("-published_on", "-id").first())
    if version is None:
        return 0
    url = absolute_url(reverse("privacy_notice_version", kwargs={"version": version.version}, urlconf=PUBLIC_URLS))
    count = 0
    for contact in contacts_for_service_notices():
        with transaction.atomic():
            _mail(to=contact.email, template="legal/notice_changed", topic=Topic.LEGAL,
                      context={"version": version.version, "summary": version.summary, "url": url,
                               "published_on": version.published_on, "contact_name": contact.full_name,
                               "school_name": contact.school.name})
        count += 1
    log.info("notice.change_mailed", version_id=version.pk, messages=count)
    return count


def terms_change_tell(*, version_id: int | None = None) -> int:
    """Mail each open school's admins that new Terms of Use are published, with the summary of
    changes and the link to the school site's page where they accept them. Returns the number of
    messages."""
    version = (TermsVersion.objects.filter(pk=version_id).first() if version_id is not None
               else TermsVersion.objects.order_by("-published_on", "-id").first())
    if version is None:
        return 0
    count = 0
    for school in open_schools():
        url = absolute_url(reverse("terms_of_use", urlconf=TENANT_URLS), school=school)
        with recording("terms_change_mail", school_id=school.pk):  # this school's run, as its page lists
            addresses = school_admins(school)
        with transaction.atomic():
            for address in addresses:
                _mail(to=address, template="legal/terms_changed", topic=Topic.LEGAL, school=school,
                          context={"version": version.version, "summary": version.summary, "url": url,
                                   "published_on": version.published_on, "school_name": school.name})
        count += len(addresses)
    log.info("terms.change_mailed", version_id=version.pk, messages=count)
    return count
