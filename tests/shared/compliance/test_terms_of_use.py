"""The Terms of Use in public: version 1 is the text in the repository and holds every section UK GDPR
Article 28(3) requires; a new version that drops one is refused; the console publishes versions and
shows each client's acceptances; the processor record names the version each school accepted."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from orchestration.retention.delete import DELETERS
from shared import clock
from shared.audit.models import ChangeLogEntry
from shared.compliance import processing, terms_of_use
from shared.compliance.models import TermsAcceptance, TermsVersion
from shared.operators.models import Operator
from tenants.users.models import User
from tests.helpers import console_client, form_token

pytestmark = pytest.mark.django_db
TERMS = Path(__file__).resolve().parents[3] / "shared" / "compliance" / "terms" / "terms-of-use-v1.txt"
MOMENT = timezone.make_aware(dt.datetime(2026, 11, 20, 9, 30))
R = Operator.Role

# What UK GDPR Article 28(3) says the contract must contain, and the heading of the terms that
# contains it.
ARTICLE_28_3 = {
    "subject matter, duration, nature and purpose": "Subject matter, duration, nature and purpose of the processing",
    "type of personal data and categories of data subjects": "Types of personal data and categories of data subjects",
    "(a) only on documented instructions, including transfers": "Processing only on the school's documented instructions",
    "(b) persons authorised committed to confidentiality": "Confidentiality",
    "(c) all measures required by Article 32": "Security of processing",
    "(d) conditions for engaging another processor": "Sub-processors",
    "(e) assisting with data subjects' rights": "Assisting with data subjects' rights",
    "(f) assisting with Articles 32 to 36": "Assisting with security, breaches and impact assessments",
    "(g) deletion or return at the end": "Deletion or return at the end of the service",
    "(h) information and audits": "Information and audits",
    "the clients' own obligation (the privacy notice)": "The school's obligations as controller",
}
# What each section must at least say, in the words of the Article (or the notice).
SECTION_SAYS = {
    "Processing only on the school's documented instructions": ["only on the school's documented instructions",
                                                                "transfer of personal data outside the United Kingdom",
                                                                "instruction infringes"],
    "Confidentiality": ["duty of confidentiality"],
    "Security of processing": ["Article 32"],
    "Sub-processors": ["prior written authorisation", "same data protection obligations", "fully liable"],
    "Assisting with data subjects' rights": ["Chapter III"],
    "Assisting with security, breaches and impact assessments": ["Articles 32 to 36", "without undue delay",
                                                                 "impact assessments", "prior consultation"],
    "Deletion or return at the end of the service": ["at the school's choice", "return", "delete"],
    "Information and audits": ["demonstrate compliance", "audits, including inspections"],
    "The school's obligations as controller": ["must process this data in accordance with applicable data protection "
                                               "legislation"],
}


def _sections(text: str) -> dict[str, str]:
    """The text under each numbered heading line."""
    parts = re.split(r"^\d+\. (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _actor():
    from shared.changes import Actor

    return Actor.operator(Operator.objects.get(role=R.DPO).user)


def _publish_2(**overrides) -> TermsVersion:
    data = {"version": "2", "summary": "Names a second hosting site.",
            "text": TERMS.read_text(encoding="utf-8") + "\nA second hosting site in the United Kingdom."}
    return terms_of_use.terms_version_publish(actor=_actor(), **{**data, **overrides})


def _accept(school, *, at=MOMENT, ip="198.51.100.4", monkeypatch) -> TermsAcceptance:
    monkeypatch.setattr(clock, "now", lambda: at)
    with schema_context(school.school.schema_name):
        head = User.objects.get(email=school.demo.head_email)
        return terms_of_use.terms_accept(user=head, school=school.school, version_id=terms_of_use.terms_current().pk,
                                         name="Helen Morris", ip_address=ip)


def test_version_1_is_the_text_in_the_repository():
    current = terms_of_use.terms_current()

    assert (current.version, current.published_on) == ("1", dt.date(2026, 11, 1))
    assert current.text == TERMS.read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("requirement", list(ARTICLE_28_3))
def test_version_1_has_a_section_for_each_thing_article_28_3_requires(requirement):
    sections = _sections(terms_of_use.terms_current().text)
    heading = ARTICLE_28_3[requirement]

    assert heading in sections, requirement
    for words in SECTION_SAYS.get(heading, []):
        assert words in " ".join(sections[heading].split()), (heading, words)
    assert heading in [required for required, _ in terms_of_use.REQUIRED_SECTIONS]  # and publishing checks it


def test_a_new_version_without_a_required_section_is_refused_and_changes_nothing():
    text = TERMS.read_text(encoding="utf-8").replace("4. Confidentiality\n", "4. Staff\n")
    versions, logged = TermsVersion.objects.count(), ChangeLogEntry.objects.count()

    with pytest.raises(ValidationError) as refused:
        _publish_2(text=text)

    assert "Confidentiality" in str(refused.value)
    assert (TermsVersion.objects.count(), ChangeLogEntry.objects.count()) == (versions, logged)


def test_publishing_a_version_is_change_logged_and_makes_it_current():
    version = _publish_2()

    assert terms_of_use.terms_current() == version
    entry = ChangeLogEntry.objects.filter(object_type="compliance.termsversion", object_id=str(version.pk)).get()
    assert entry.action == "create" and "text" in entry.fields


def test_only_a_school_admin_accepts(oakfield):
    with schema_context(oakfield.school.schema_name):
        teacher = User.objects.get(email=oakfield.demo.teacher_email)
        with pytest.raises(PermissionDenied):
            terms_of_use.terms_accept(user=teacher, school=oakfield.school, version_id=terms_of_use.terms_current().pk,
                                      name="Jaya Patel", ip_address=None)


def test_the_console_publishes_a_version(oakfield):
    client = console_client(R.DPO)
    page = client.get("/console/compliance/terms/")
    text = TERMS.read_text(encoding="utf-8") + "\nA new clause."

    response = client.post("/console/compliance/terms/", {"form_token": form_token(page), "version": "2",
                                                          "published_on": clock.today().isoformat(),
                                                          "summary": "A new clause.", "text": text})

    assert response.status_code == 302
    assert terms_of_use.terms_current().version == "2"
    assert terms_of_use.terms_acceptance_due(school_id=oakfield.school.pk)


def test_the_client_page_shows_who_accepted_when_and_from_where(oakfield, riverside, monkeypatch):
    TermsAcceptance.objects.filter(school=oakfield.school).delete()
    acceptance = _accept(oakfield, monkeypatch=monkeypatch)
    client = console_client(R.SUPPORT)

    page = client.get(f"/console/clients/{oakfield.school.pk}/").content.decode()

    assert "Current version <strong>1</strong> accepted 20 Nov 2026 09:30 by Helen Morris" in page
    assert f"user id {acceptance.user_id}, from 198.51.100.4" in page
    _publish_2()
    page = client.get(f"/console/clients/{oakfield.school.pk}/").content.decode()
    assert "Current version 2 not accepted yet" in page and "The school last accepted version 1." in page
    assert "198.51.100.4" in page  # the history
    assert "198.51.100.4" not in client.get(f"/console/clients/{riverside.school.pk}/").content.decode()


def test_the_processor_record_names_the_version_each_school_accepted(oakfield, riverside, monkeypatch):
    TermsAcceptance.objects.filter(school__in=[oakfield.school, riverside.school]).delete()
    _accept(oakfield, monkeypatch=monkeypatch)

    records = {r.school_name: r for r in processing.processor_records()}

    assert records["Oakfield Primary"].terms == "Terms of Use version 1, accepted 20 November 2026 by Helen Morris"
    assert records["Riverside Academy"].terms == ("No version of the Terms of Use accepted yet "
                                                  "(version 1 waits for the school's admin)")
    assert all("Terms of Use version 1, accepted" in row.lawful_basis for row in records["Oakfield Primary"].rows)
    _publish_2()
    oak = next(r for r in processing.processor_records() if r.school_name == "Oakfield Primary")
    assert oak.terms.endswith("(version 2 waits for the school's admin)")
    csv_text = processing.record_csv()
    assert "Terms of Use version 1, accepted 20 November 2026 by Helen Morris" in csv_text
    page = console_client(R.DPO).get("/console/compliance/processing/").content.decode()
    assert "Instructions: Terms of Use version 1, accepted 20 November 2026 by Helen Morris" in page


def test_the_acceptances_go_with_the_clients_records(oakfield):
    assert TermsAcceptance.objects.filter(school=oakfield.school).exists()

    DELETERS["client_records"](f"school:{oakfield.school.pk}", clock.today())

    assert not TermsAcceptance.objects.filter(school=oakfield.school).exists()


def test_the_console_lists_the_schools_that_have_not_accepted_the_current_version(oakfield, riverside, monkeypatch):
    client = console_client(R.DPO)
    assert "Every school has accepted version 1." in client.get("/console/compliance/terms/").content.decode()

    _publish_2()
    _accept(riverside, monkeypatch=monkeypatch)

    page = client.get("/console/compliance/terms/").content.decode()
    waiting = page.split("Not yet accepted")[1].split("</section>")[0]
    assert "Oakfield Primary" in waiting and "Riverside Academy" not in waiting
    assert list(terms_of_use.schools_without_current_terms()) == [oakfield.school]


def test_the_terms_have_a_public_page_on_the_vendors_host():
    from django.conf import settings

    from tests.helpers import host_client

    _publish_2()
    client = host_client(settings.BASE_DOMAIN)

    current = client.get("/terms/")
    earlier = client.get("/terms/versions/1/")

    assert current.status_code == earlier.status_code == 200
    assert b"Version 2, published" in current.content and b"Processing only on the school" in current.content
    assert b"an earlier version" in earlier.content
    assert client.get("/terms/versions/nope/").status_code == 404
