"""The personal-data breach register: recording a breach and revising its assessment, the decision
whether to report it to the ICO, the report, the notifications of affected schools and people, and
closing it once its record is complete; and the reads behind the console's register and the
dashboard's list of reports due. The 72-hour deadline itself is ``breach_report_deadline``.

Each write validates first, writes in one transaction, and records what it changed in the change
log (field names only); bad input raises ValidationError, keyed by field where there is one, and
writes nothing. A lookup by an id from a request goes through ``access_breach`` (Http404 when
unknown)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from shared import clock
from shared.audit.services import change_log_record
from shared.changes import Action, Actor
from shared.compliance.breach_report_deadline import (
    ICO_REPORT_WINDOW,
    NEAR_DUE,
    ReportClock,
    ico_report_deadline,
    report_clock,
)
from shared.compliance.models import Breach, BreachNotification, DataSubject
from shared.compliance.validation import CATEGORY_VALUES, choices_check, not_in_future
from shared.schools.models import School

CREATE, UPDATE = Action.CREATE, Action.UPDATE

# What an operator may edit on an open breach as the assessment develops.
BREACH_ASSESSMENT_FIELDS = ("summary", "nature", "occurred_at", "aware_at", "people_categories", "data_categories",
                            "people_affected", "records_affected", "consequences", "measures", "risk")


def _breach_assessment_check(data: dict) -> dict:
    for name in ("summary", "nature", "consequences", "measures"):
        data[name] = (data.get(name) or "").strip()
    missing = {name: "Required." for name in ("summary", "nature", "consequences", "measures") if not data[name]}
    if missing:
        raise ValidationError(missing)
    if data["risk"] not in Breach.Risk.values:
        raise ValidationError({"risk": "Unknown risk level."})
    not_in_future(data["aware_at"], "aware_at", "The time we became aware")
    not_in_future(data.get("occurred_at"), "occurred_at", "The time it happened")
    if data.get("occurred_at") and data["occurred_at"] > data["aware_at"]:
        raise ValidationError({"occurred_at": "A breach cannot happen after we became aware of it."})
    data["people_categories"] = choices_check(data["people_categories"], DataSubject.values, "people_categories",
                                               "category of people")
    data["data_categories"] = choices_check(data["data_categories"], CATEGORY_VALUES, "data_categories",
                                             "category of data")
    return data


# --- Writes ---------------------------------------------------------------------------------------


@transaction.atomic
def breach_record(*, actor: Actor, summary: str, nature: str, aware_at: dt.datetime, risk: str,
                  people_categories: Sequence[str], data_categories: Sequence[str], consequences: str, measures: str,
                  people_affected: int | None = None, records_affected: int | None = None,
                  occurred_at: dt.datetime | None = None, schools: Iterable[School] = ()) -> Breach:
    """Open a breach in the register. The ICO's 72 hours run from ``aware_at``."""
    data = _breach_assessment_check({
        "summary": summary, "nature": nature, "aware_at": aware_at, "occurred_at": occurred_at, "risk": risk,
        "people_categories": people_categories, "data_categories": data_categories, "consequences": consequences,
        "measures": measures, "people_affected": people_affected, "records_affected": records_affected,
    })
    breach = Breach(**data, recorded_by_id=actor.user_id)
    breach.full_clean()
    breach.save()
    schools = list(schools)
    breach.schools.set(schools)
    change_log_record(actor=actor, instance=breach, action=CREATE,
                      fields=[name for name, value in data.items() if value not in (None, "")]
                      + (["schools"] if schools else []))
    return breach


def _open_breach(breach: Breach) -> Breach:
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    if breach.closed_at is not None:
        raise ValidationError("This breach is closed: its record can no longer change.")
    return breach


@transaction.atomic
def breach_update(*, actor: Actor, breach: Breach, schools: Iterable[School] | None = None, **changes) -> Breach:
    """Revise an open breach's assessment as more is learned (numbers, consequences, risk...)."""
    unknown = set(changes) - set(BREACH_ASSESSMENT_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    current = _open_breach(breach)
    data = _breach_assessment_check({**{name: getattr(current, name) for name in BREACH_ASSESSMENT_FIELDS}, **changes})
    if current.ico_reported_at is not None and data["aware_at"] != current.aware_at:
        raise ValidationError({"aware_at": "The breach was reported already; the time we became aware is fixed."})
    if current.ico_decision == Breach.Decision.NOT_REPORT and data["risk"] != Breach.Risk.LOW:
        raise ValidationError({"risk": "The decision was not to report because the risk was low: decide again "
                                       "before raising the risk."})
    fields = [name for name in BREACH_ASSESSMENT_FIELDS if getattr(current, name) != data[name]]
    for name in fields:
        setattr(current, name, data[name])
    current.full_clean()
    if fields:
        current.save(update_fields=fields)
    if schools is not None:
        schools = list(schools)
        if {s.pk for s in schools} != set(current.schools.values_list("pk", flat=True)):
            current.schools.set(schools)
            fields.append("schools")
    if fields:
        change_log_record(actor=actor, instance=current, action=UPDATE, fields=fields)
    return current


@transaction.atomic
def breach_decide(*, actor: Actor, breach: Breach, decision: str, reasoning: str) -> Breach:
    """Record whether the breach is reported to the ICO, and why. The reasoning is required either
    way: a decision not to report is the one the ICO will ask to see justified. A breach is
    reportable unless it is unlikely to result in a risk to people, so "do not report" needs the
    risk assessed as low."""
    if decision not in Breach.Decision.values:
        raise ValidationError({"decision": "Decide to report or not to report."})
    if not reasoning.strip():
        raise ValidationError({"reasoning": "Give the reasoning for the decision, also when it is not to report."})
    breach = _open_breach(breach)
    if decision == Breach.Decision.NOT_REPORT and breach.risk != Breach.Risk.LOW:
        raise ValidationError({"decision": "A breach is reported unless it is unlikely to result in a risk to people; "
                                           f"this one is assessed as: {breach.get_risk_display().lower()}."})
    if decision == Breach.Decision.NOT_REPORT and breach.ico_reported_at is not None:
        raise ValidationError({"decision": "This breach was reported to the ICO already."})
    breach.ico_decision = decision
    breach.ico_decision_reasoning = reasoning.strip()
    breach.ico_decided_at = clock.now()
    fields = ["ico_decision", "ico_decision_reasoning", "ico_decided_at"]
    breach.save(update_fields=fields)
    change_log_record(actor=actor, instance=breach, action=UPDATE, fields=fields)
    return breach


@transaction.atomic
def breach_ico_report_record(*, actor: Actor, breach: Breach, reported_at: dt.datetime, reference: str = "",
                             delay_reason: str = "") -> Breach:
    """Record the report made to the ICO. One made after the 72 hours must say why it was late."""
    breach = _open_breach(breach)
    if breach.ico_decision != Breach.Decision.REPORT:
        raise ValidationError("Record the decision to report before recording the report.")
    not_in_future(reported_at, "reported_at", "The report's time")
    if reported_at < breach.aware_at:
        raise ValidationError({"reported_at": "The report cannot precede our becoming aware of the breach."})
    if reported_at > ico_report_deadline(breach.aware_at) and not delay_reason.strip():
        raise ValidationError({"delay_reason": "The report came after the 72 hours: say why it was late."})
    breach.ico_reported_at = reported_at
    breach.ico_reference = reference.strip()
    breach.ico_delay_reason = delay_reason.strip()
    fields = ["ico_reported_at"] + [f for f in ("ico_reference", "ico_delay_reason") if getattr(breach, f)]
    breach.save(update_fields=["ico_reported_at", "ico_reference", "ico_delay_reason"])
    change_log_record(actor=actor, instance=breach, action=UPDATE, fields=fields)
    return breach


@transaction.atomic
def breach_notification_record(*, actor: Actor, breach: Breach, audience: str, recipient: str, method: str,
                               notified_at: dt.datetime, content: str,
                               school: School | None = None) -> BreachNotification:
    """Record that an affected school, or the people affected, were told about the breach."""
    breach = _open_breach(breach)
    if audience not in BreachNotification.Audience.values:
        raise ValidationError({"audience": "Unknown audience."})
    if audience == BreachNotification.Audience.SCHOOL:
        if school is None:
            raise ValidationError({"school": "Name the school that was told."})
        if not breach.schools.filter(pk=school.pk).exists():
            raise ValidationError({"school": "That school is not among the breach's affected schools."})
    elif school is not None:
        raise ValidationError({"school": "A notification of the people affected names no school."})
    if not recipient.strip() or not content.strip():
        raise ValidationError("Say who was told and what they were told.")
    not_in_future(notified_at, "notified_at", "The notification's time")
    if notified_at < breach.aware_at:
        raise ValidationError({"notified_at": "A notification cannot precede our becoming aware of the breach."})
    notification = BreachNotification(breach=breach, audience=audience, school=school, recipient=recipient.strip(),
                                      method=method, notified_at=notified_at, content=content.strip(),
                                      recorded_by_id=actor.user_id)
    notification.full_clean()
    notification.save()
    change_log_record(actor=actor, instance=notification, action=CREATE,
                      fields=["breach", "audience", "recipient", "method", "notified_at", "content"]
                      + (["school"] if school else []))
    return notification


MAX_PEOPLE_PER_SEND = 2000
# A pupil's UPN (a letter, 11 digits, then a digit or letter): never in a message.
_UPN_SHAPE = re.compile(r"\b[A-Za-z]\d{11}[0-9A-Za-z]\b")


def _addresses_parse(addresses: str | Iterable[str]) -> list[str]:
    raw = re.split(r"[\s,;]+", addresses) if isinstance(addresses, str) else list(addresses)
    seen, bad, result = set(), [], []
    for item in (a.strip().lower() for a in raw):
        if not item or item in seen:
            continue
        try:
            validate_email(item)
        except ValidationError:
            bad.append(item[:80])
            continue
        seen.add(item)
        result.append(item)
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ValidationError({"addresses": f"Not an email address: {shown}. Nothing was sent."})
    if not result:
        raise ValidationError({"addresses": "Give the email address of each person to tell, one a line."})
    if len(result) > MAX_PEOPLE_PER_SEND:
        raise ValidationError({"addresses": f"Send to at most {MAX_PEOPLE_PER_SEND} people at a time."})
    return result


@transaction.atomic
def breach_people_notify(*, actor: Actor, breach: Breach, addresses: str | Iterable[str],
                         content: str) -> list[BreachNotification]:
    """Tell the people affected by a high-risk breach by email, from the register: one message to each
    address (``shared.mail``, topic legal: always sent), and one notification recorded per person,
    queued, then marked sent or failed as its message is delivered or set aside
    (``breach_deliveries_refresh``). Refused, sending and recording nothing, for a breach whose risk
    is not high, a closed breach, a bad address, or a message that holds something shaped like a UPN."""
    from django.urls import reverse

    from shared.mail.links import absolute_url
    from shared.mail.services import mail_send
    from shared.mail.topics import Topic

    breach = _open_breach(breach)
    if breach.risk != Breach.Risk.HIGH:
        raise ValidationError("Only a breach whose risk to people is high is notified to the people affected "
                              "(UK GDPR Article 34): change the assessment first if the risk is high.")
    content = content.strip()
    errors = {}
    if not content:
        errors["content"] = "Write what they are told: what happened, the likely consequences, what we are doing " \
                            "and who to contact."
    elif len(content) > 10000:
        errors["content"] = "Keep the message under 10,000 characters."
    elif _UPN_SHAPE.search(content):
        errors["content"] = "The message holds something shaped like a pupil's UPN: take it out."
    if errors:
        raise ValidationError(errors)
    people = _addresses_parse(addresses)
    now = clock.now()
    context = {"reference": breach.reference, "content": content,
               "privacy_url": absolute_url(reverse("privacy_notice", urlconf="config.urls_public"))}
    notifications = []
    for address in people:
        try:
            message = mail_send(to=address, template="legal/breach_notice", topic=Topic.LEGAL, context=context)
        except ValueError:  # an address the mail service will not send to: refuse the whole mailing
            raise ValidationError({"addresses": f"Not an address we can send to: {address[:80]}. Nothing was sent."}) from None
        notification = BreachNotification.objects.create(
            breach=breach, audience=BreachNotification.Audience.PEOPLE, recipient=address,
            method=BreachNotification.Method.EMAIL, notified_at=now, content=content, recorded_by_id=actor.user_id,
            message_id=message.pk if message is not None else None,
            delivery="queued" if message is not None else "failed")
        change_log_record(actor=actor, instance=notification, action=CREATE,
                          fields=["breach", "audience", "recipient", "method", "notified_at", "content", "message_id",
                                  "delivery"])
        notifications.append(notification)
    return notifications


def breach_deliveries_refresh(breach: Breach) -> int:
    """Mark each queued email notification of ``breach`` sent or failed as its message now stands
    (delivered, or set aside after its retries). Returns how many were marked."""
    from shared.mail.models import OutgoingMessage

    queued = list(breach.notifications.filter(delivery="queued", message_id__isnull=False))
    if not queued:
        return 0
    outcomes = dict(OutgoingMessage.objects.filter(pk__in=[n.message_id for n in queued]).values_list("pk", "state"))
    marked = 0
    with transaction.atomic():
        for notification in queued:
            outcome = outcomes.get(notification.message_id)
            if outcome in ("sent", "failed"):
                notification.delivery = outcome
                notification.save(update_fields=["delivery"])
                change_log_record(actor=Actor.system(), instance=notification, action=UPDATE, fields=["delivery"])
                marked += 1
    return marked


def breach_close_problems(breach: Breach) -> list[str]:
    """What still stands in the way of closing the breach (nothing: it can be closed)."""
    problems = []
    if not breach.ico_decision:
        problems.append("Record the decision whether to report to the ICO, with its reasoning.")
    elif breach.ico_decision == Breach.Decision.REPORT and breach.ico_reported_at is None:
        problems.append("The decision is to report to the ICO: record when it was reported.")
    notifications = list(breach.notifications.all())
    told = {n.school_id for n in notifications if n.audience == BreachNotification.Audience.SCHOOL}
    untold = [school.name for school in breach.schools.all() if school.pk not in told]
    if untold:
        problems.append(f"Record notifying each affected school: {', '.join(untold)} not yet.")
    if breach.risk == Breach.Risk.HIGH and not any(n.audience == BreachNotification.Audience.PEOPLE
                                                   for n in notifications):
        problems.append("The risk is high: record notifying the people affected.")
    return problems


@transaction.atomic
def breach_close(*, actor: Actor, breach: Breach) -> Breach:
    """Close a breach once its record is complete: the decision with reasoning, the report where
    the decision is to report, every affected school told, and the people told where the risk is
    high."""
    breach = _open_breach(breach)
    problems = breach_close_problems(breach)
    if problems:
        raise ValidationError(problems)
    breach.closed_at = clock.now()
    breach.save(update_fields=["closed_at"])
    change_log_record(actor=actor, instance=breach, action=UPDATE, fields=["closed_at"])
    return breach


# --- Reads ----------------------------------------------------------------------------------------


def breach_clock(breach: Breach, *, as_of: dt.datetime | None = None) -> ReportClock:
    return report_clock(aware_at=breach.aware_at, decision=breach.ico_decision, reported_at=breach.ico_reported_at,
                        as_of=as_of or clock.now())


def breach_list(*, status: str = "open") -> QuerySet[Breach]:
    """Breaches, newest awareness first; ``status`` is "open", "closed" or "" (all)."""
    queryset = Breach.objects.prefetch_related("schools")
    if status == "open":
        queryset = queryset.filter(closed_at__isnull=True)
    elif status == "closed":
        queryset = queryset.filter(closed_at__isnull=False)
    return queryset


def access_breach(breach_id: int) -> Breach:
    return get_object_or_404(Breach.objects.prefetch_related("schools", "notifications__school"), pk=breach_id)


@dataclass(frozen=True)
class BreachDue:
    breach: Breach
    clock: ReportClock


def breaches_due(*, as_of: dt.datetime | None = None, within: dt.timedelta = NEAR_DUE) -> list[BreachDue]:
    """Open breaches whose ICO report is overdue or due within ``within`` (and not decided against),
    most urgent first: the dashboard's list."""
    as_of = as_of or clock.now()
    candidates = (Breach.objects.filter(closed_at__isnull=True, ico_reported_at__isnull=True,
                                        aware_at__lt=as_of - ICO_REPORT_WINDOW + within)
                  .exclude(ico_decision=Breach.Decision.NOT_REPORT).order_by("aware_at", "id"))
    return [BreachDue(breach, breach_clock(breach, as_of=as_of)) for breach in candidates]
