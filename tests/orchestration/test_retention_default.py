"""The default rule on the database: "Any category not specifically defined: 7 years from the date
of receipt". Each of the vendor's default-category records (and a school's own closed requests)
is kept on the day before its seventh anniversary of receipt and deleted on the day itself: a
request received on 2 May 2019 is there on 1 May 2026 and gone on 2 May 2026 (the same reading as
"a visit made on 1 January 2026 is kept 365 days and goes on 1 January 2027"). What is still being
handled (an open request or breach, an active hold, the notice in force) is never deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tenants.utils import schema_context

from orchestration.retention.run import retention_run
from shared.backups.models import SchoolDataKey
from shared.compliance.models import (
    Breach,
    BreachNotification,
    Disclosure,
    NoticeVersion,
    Recipient,
    RecipientHolding,
    TermsVersion,
)
from shared.privacy.models import DeletionRecord, ErasureLedgerEntry, LegalHold, SubjectRequest
from shared.schools.models import School
from tenants.rights.models import SchoolRequest

pytestmark = pytest.mark.django_db
RECEIVED = dt.date(2019, 5, 2)
AT = dt.datetime(2019, 5, 2, 11, 0, tzinfo=dt.timezone.utc)
DAY_BEFORE, ON_THE_DAY = dt.date(2026, 5, 1), dt.date(2026, 5, 2)


def subject_request(state=SubjectRequest.State.COMPLETED) -> SubjectRequest:
    return SubjectRequest.objects.create(kind="access", state=state, received_on=RECEIVED, requester_name="Rhea Quest",
                                         requester_email="rhea@example.org", closed_on=dt.date(2019, 5, 30))


def breach(closed=True) -> Breach:
    made = Breach.objects.create(summary="Laptop left on a train", nature="Lost laptop", aware_at=AT,
                                 occurred_at=AT - dt.timedelta(days=400), consequences="Few", measures="Wiped",
                                 risk=Breach.Risk.LOW, closed_at=AT + dt.timedelta(days=10) if closed else None)
    BreachNotification.objects.create(breach=made, audience="people", recipient="Parents of 3 pupils", method="letter",
                                      notified_at=AT + dt.timedelta(days=2), content="We lost a laptop")
    return made


def disclosure() -> Disclosure:
    return Disclosure.objects.create(recipient="Police, PC Dee", disclosed_at=AT, ground="legal_obligation",
                                     description="One pupil's attendance", authorised_by="DPO")


def ended_hold() -> LegalHold:
    return LegalHold.objects.create(reason="Claim by a former client", owner="dpo", starts_on=dt.date(2018, 1, 1),
                                    ends_on=RECEIVED, category="tax")


def superseded_notice() -> NoticeVersion:
    old = NoticeVersion.objects.create(version="2012-old", published_on=dt.date(2012, 1, 1), text="Old", summary="First")
    NoticeVersion.objects.create(version="2019-new", published_on=RECEIVED, text="New", summary="Second")
    return old


def superseded_terms() -> TermsVersion:
    old = TermsVersion.objects.create(version="2012-old", published_on=dt.date(2012, 1, 1), text="Old", summary="First")
    TermsVersion.objects.create(version="2019-new", published_on=RECEIVED, text="New", summary="Second")
    return old


def recipient(**fields) -> Recipient:
    values = {"name": "County records office", "kind": Recipient.Kind.DISCLOSURE, "contact": "The archivist",
              "how_to_reach": "records@county.example", "created_at": AT} | fields
    return Recipient.objects.create(**values)


def person_holding() -> RecipientHolding:
    return RecipientHolding.objects.create(recipient=recipient(), person="contact:41", what="Their contact details",
                                           created_at=AT)


PUBLIC = {  # kind: (make, model)
    "subject_request": (subject_request, SubjectRequest),
    "breach": (breach, Breach),
    "disclosure": (disclosure, Disclosure),
    "legal_hold": (ended_hold, LegalHold),
    "notice_version": (superseded_notice, NoticeVersion),
    "terms_version": (superseded_terms, TermsVersion),
    "recipient_holding": (person_holding, RecipientHolding),
    "recipient": (recipient, Recipient),
}


@pytest.mark.parametrize(("as_of", "kept"), [(DAY_BEFORE, True), (ON_THE_DAY, False)])
@pytest.mark.parametrize("kind", sorted(PUBLIC))
def test_a_default_category_record_goes_7_years_from_receipt(kind, as_of, kept):
    make, model = PUBLIC[kind]
    row = make()

    retention_run(as_of=as_of, scope="public")

    assert model.objects.filter(pk=row.pk).exists() == kept
    recorded = DeletionRecord.objects.filter(kind=kind, unit=f"{kind}:{row.pk}")
    assert recorded.exists() != kept
    if not kept:
        assert recorded.get().category == "default" and recorded.get().due_on == ON_THE_DAY


def test_a_breach_goes_with_its_notifications():
    made = breach()

    retention_run(as_of=ON_THE_DAY, scope="public")

    assert not BreachNotification.objects.filter(breach_id=made.pk).exists()
    assert DeletionRecord.objects.get(kind="breach", unit=f"breach:{made.pk}").records_deleted == 2


def test_what_is_still_being_handled_is_never_deleted():
    open_request = subject_request(state=SubjectRequest.State.IN_PROGRESS)
    open_breach = breach(closed=False)
    active_hold = LegalHold.objects.create(reason="Ongoing investigation", owner="dpo", starts_on=RECEIVED, category="tax")
    superseded_notice()
    newest = NoticeVersion.objects.create(version="2099-current", published_on=dt.date(2099, 1, 1), text="In force",
                                          summary="Latest")

    retention_run(as_of=dt.date(2200, 1, 1), scope="public")

    assert SubjectRequest.objects.filter(pk=open_request.pk).exists()
    assert Breach.objects.filter(pk=open_breach.pk).exists()
    assert LegalHold.objects.filter(pk=active_hold.pk).exists()
    assert list(NoticeVersion.objects.values_list("pk", flat=True)) == [newest.pk]  # only the one in force


@pytest.mark.parametrize(("as_of", "kept"), [(DAY_BEFORE, True), (ON_THE_DAY, False)])
def test_a_schools_closed_request_goes_7_years_from_receipt_in_its_own_schema(oakfield, riverside, as_of, kept):
    made = {}
    for seeded in (oakfield, riverside):
        with schema_context(seeded.school.schema_name):
            made[seeded.school.pk] = (
                SchoolRequest.objects.create(kind="access", state="completed", received_on=RECEIVED,
                                             requester_name="Pat Parent", closed_on=dt.date(2019, 5, 20)).pk,
                SchoolRequest.objects.create(kind="erasure", state="received", received_on=RECEIVED,
                                             requester_name="Open Olu").pk)

    retention_run(as_of=as_of, school_id=oakfield.school.pk, scope="school")

    with schema_context(oakfield.school.schema_name):
        closed, still_open = made[oakfield.school.pk]
        assert SchoolRequest.objects.filter(pk=closed).exists() == kept
        assert SchoolRequest.objects.filter(pk=still_open).exists()
    with schema_context(riverside.school.schema_name):  # another school's run is another school's business
        assert SchoolRequest.objects.filter(pk__in=made[riverside.school.pk]).count() == 2
    unit = f"school:{oakfield.school.pk}:request:{closed}"
    assert DeletionRecord.objects.filter(kind="school_request", unit=unit).exists() != kept


def test_the_erasure_ledger_outlives_every_readable_backup(oakfield):
    school = oakfield.school
    entry = ErasureLedgerEntry.objects.create(school=school, schema_name=school.schema_name, model="pupils.Pupil",
                                              object_id=991)
    vendor_entry = ErasureLedgerEntry.objects.create(school=school, schema_name="public", model="clients.Contact",
                                                     object_id=992)
    keys = SchoolDataKey.objects.filter(school=school, destroyed_at__isnull=True)

    retention_run(as_of=dt.date(2200, 1, 1), scope="public")
    assert ErasureLedgerEntry.objects.filter(pk=entry.pk).exists()  # the schema is live
    School.objects.filter(pk=school.pk).update(schema_dropped_at=AT)  # (as if dropped: the row only)
    if keys.exists():
        retention_run(as_of=dt.date(2200, 1, 2), scope="public")
        assert ErasureLedgerEntry.objects.filter(pk=entry.pk).exists()  # a backup key survives
        keys.update(destroyed_at=AT, wrapped_key=None)
    retention_run(as_of=dt.date(2200, 1, 3), scope="public")

    assert not ErasureLedgerEntry.objects.filter(pk=entry.pk).exists()
    assert ErasureLedgerEntry.objects.filter(pk=vendor_entry.pk).exists()  # public's backups may still hold that one


def test_a_schools_closed_request_goes_with_its_export_files(oakfield):
    from django.core.files.base import ContentFile

    from tenants.configuration.storage import school_files
    from tenants.rights.models import ExportLink

    with schema_context(oakfield.school.schema_name):
        request = SchoolRequest.objects.create(kind="access", state="completed", received_on=RECEIVED,
                                               requester_name="Pat Parent", closed_on=dt.date(2019, 5, 20))
        name = school_files.save(f"{oakfield.school.schema_name}/exports/old.zip", ContentFile(b"PK"))
        ExportLink.objects.create(request=request, token_digest="d" * 64, file=name, size=2,
                                  expires_at=AT + dt.timedelta(days=7))

    retention_run(as_of=ON_THE_DAY, school_id=oakfield.school.pk, scope="school")

    assert not school_files.exists(name)
    with schema_context(oakfield.school.schema_name):
        assert not ExportLink.objects.filter(request_id=request.pk).exists()


def test_the_hosts_holding_of_everyone_stays_while_the_relation_does():
    """A holding of everyone in a scope (the host's) is the live relation, not one person's data
    passed on once: the default rule does not end it, and its recipient stays with it."""
    host = recipient(name="Rackspace", kind=Recipient.Kind.SUB_PROCESSOR)
    holding = RecipientHolding.objects.create(recipient=host, scope=RecipientHolding.Scope.VENDOR, what="Everything",
                                              created_at=AT)

    retention_run(as_of=ON_THE_DAY + dt.timedelta(days=4000), scope="public")

    assert RecipientHolding.objects.filter(pk=holding.pk).exists() and Recipient.objects.filter(pk=host.pk).exists()


def test_a_terms_version_a_school_accepted_stays_while_the_acceptance_does(oakfield):
    from shared.compliance.models import TermsAcceptance

    old = superseded_terms()
    TermsAcceptance.objects.create(school=oakfield.school, terms=old, user_id=1, user_name="Head", accepted_at=AT)

    retention_run(as_of=ON_THE_DAY, scope="public")

    assert TermsVersion.objects.filter(pk=old.pk).exists()
