"""Writes on the breach register, the disclosure register and the privacy notice's versions. Each
service validates first, writes in one transaction, and records what it changed in the change log
(field names only). Bad input raises ValidationError, keyed by field where there is one, and
writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from shared import clock
from shared.compliance.clocks import ico_report_deadline
from shared.compliance.models import (
    Breach,
    BreachNotification,
    DataSubject,
    Disclosure,
    DisclosureGround,
    NoticeVersion,
)
from shared.dates import PAST, PLANNED
from shared.privacy.retention.registry import Category
from shared.schools.models import School
from shared.changes import Action, Actor
from shared.audit.services import change_log_record

CREATE, UPDATE = Action.CREATE, Action.UPDATE
CATEGORY_VALUES = frozenset(category.value for category in Category)

# What an operator may edit on an open breach as the assessment develops.
BREACH_ASSESSMENT_FIELDS = ("summary", "nature", "occurred_at", "aware_at", "people_categories", "data_categories",
                            "people_affected", "records_affected", "consequences", "measures", "risk")


def _not_in_future(when: dt.datetime | None, field: str, what: str) -> None:
    if when is not None and when > clock.now():
        raise ValidationError({field: f"{what} cannot be in the future."})
    PAST.check(when, field=field)


def _choices_check(values: Sequence[str], allowed: Iterable[str], field: str, what: str) -> list[str]:
    values = list(dict.fromkeys(values))
    if not values:
        raise ValidationError({field: f"Name at least one {what}."})
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError({field: f"Unknown {what}: {', '.join(unknown)}."})
    return values


def _breach_assessment_check(data: dict) -> dict:
    for name in ("summary", "nature", "consequences", "measures"):
        data[name] = (data.get(name) or "").strip()
    missing = {name: "Required." for name in ("summary", "nature", "consequences", "measures") if not data[name]}
    if missing:
        raise ValidationError(missing)
    if data["risk"] not in Breach.Risk.values:
        raise ValidationError({"risk": "Unknown risk level."})
    _not_in_future(data["aware_at"], "aware_at", "The time we became aware")
    _not_in_future(data.get("occurred_at"), "occurred_at", "The time it happened")
    if data.get("occurred_at") and data["occurred_at"] > data["aware_at"]:
        raise ValidationError({"occurred_at": "A breach cannot happen after we became aware of it."})
    data["people_categories"] = _choices_check(data["people_categories"], DataSubject.values, "people_categories",
                                               "category of people")
    data["data_categories"] = _choices_check(data["data_categories"], CATEGORY_VALUES, "data_categories",
                                             "category of data")
    return data


# --- Breaches ------------------------------------------------------------------------------------


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
    _not_in_future(reported_at, "reported_at", "The report's time")
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
    _not_in_future(notified_at, "notified_at", "The notification's time")
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


# --- Disclosures ---------------------------------------------------------------------------------


@transaction.atomic
def disclosure_record(*, actor: Actor, recipient: str, disclosed_at: dt.datetime, ground: str,
                      data_categories: Sequence[str], description: str, authorised_by: str, people: str = "",
                      references: str = "", schools: Iterable[School] = ()) -> Disclosure:
    """Record personal data given to a third party. Only the privacy notice's grounds are accepted:
    a disclosure on any other ground is one the notice promised not to make."""
    if ground not in DisclosureGround.values:
        raise ValidationError({"ground": "The privacy notice allows a disclosure only on the grounds it lists."})
    data = {"recipient": recipient.strip(), "description": description.strip(), "authorised_by": authorised_by.strip(),
            "people": people.strip(), "references": references.strip()}
    missing = {name: "Required." for name in ("recipient", "description", "authorised_by") if not data[name]}
    if missing:
        raise ValidationError(missing)
    if ground == DisclosureGround.PERMISSION and not data["references"]:
        raise ValidationError({"references": "Say where the person's permission is recorded."})
    _not_in_future(disclosed_at, "disclosed_at", "The disclosure's time")
    categories = _choices_check(data_categories, CATEGORY_VALUES, "data_categories", "category of data")
    disclosure = Disclosure(**data, disclosed_at=disclosed_at, ground=ground, data_categories=categories,
                            recorded_by_id=actor.user_id)
    disclosure.full_clean()
    disclosure.save()
    schools = list(schools)
    disclosure.schools.set(schools)
    change_log_record(actor=actor, instance=disclosure, action=CREATE,
                      fields=["disclosed_at", "ground", "data_categories"]
                      + [name for name, value in data.items() if value] + (["schools"] if schools else []))
    return disclosure


# --- The privacy notice --------------------------------------------------------------------------


@transaction.atomic
def notice_version_publish(*, actor: Actor, version: str, text: str, summary: str,
                           published_on: dt.date | None = None) -> NoticeVersion:
    """Publish a new version of the privacy notice: from now on every site shows it, and a browser
    that saw an earlier version is shown this version's summary of changes."""
    version, text, summary = version.strip(), text.strip(), summary.strip()
    published_on = published_on or clock.today()
    PLANNED.check(published_on, field="published_on")
    errors = {}
    if not version:
        errors["version"] = "Name the version."
    elif NoticeVersion.objects.filter(version__iexact=version).exists():
        errors["version"] = f"Version {version} exists already."
    if not text:
        errors["text"] = "Give the notice's full text."
    if not summary:
        errors["summary"] = "Summarise what changed: this is what people are shown."
    if errors:
        raise ValidationError(errors)
    current = NoticeVersion.objects.select_for_update().order_by("-published_on", "-id").first()
    if published_on > clock.today():
        raise ValidationError({"published_on": "Publish on today's date or earlier; it shows from when it is posted."})
    if current is not None and published_on < current.published_on:
        raise ValidationError({"published_on": f"Version {current.version} was published on "
                                               f"{current.published_on:%d %B %Y}: a new version cannot predate it."})
    if current is not None and current.text.strip() == text:
        raise ValidationError({"text": f"The text is the same as version {current.version}'s."})
    notice = NoticeVersion.objects.create(version=version, text=text, summary=summary, published_on=published_on,
                                          published_by_id=actor.user_id)
    change_log_record(actor=actor, instance=notice, action=CREATE,
                      fields=["version", "text", "summary", "published_on"])
    return notice
