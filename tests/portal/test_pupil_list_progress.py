"""The pupil list's progress column: computed in PostgreSQL as the pupil page computes it in
Python, hand-checked on made-up pupils, sortable by name, year and progress with the filters kept
when sorting and paging, and a fixed number of queries a page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from shared import clock
from tenants.assessment import selectors as assessment
from tenants.assessment.models import Aspect, Grade, Result, Target
from tenants.pupils.models import Pupil
from tests.helpers import school_client

pytestmark = pytest.mark.django_db


def made_up_pupil(aspect, *, baseline: int, latest: int, target: int, surname: str) -> Pupil:
    """A pupil with a baseline 300 days ago, a latest result 100 days ago and a target 100 days
    ahead: at the latest result the flight path is halfway between the baseline's and the target's
    points (0.5 tolerance either side)."""
    today = clock.today()
    grades = {g.points: g for g in Grade.objects.filter(grade_set=aspect.grade_set)}
    pupil = Pupil.objects.create(forename="Test", surname=surname, year_group="Year 9", on_roll=True)
    Result.objects.create(pupil=pupil, aspect=aspect, grade=grades[baseline], recorded_on=today - dt.timedelta(days=300))
    Result.objects.create(pupil=pupil, aspect=aspect, grade=grades[latest], recorded_on=today - dt.timedelta(days=100))
    Target.objects.create(pupil=pupil, subject=aspect.subject, grade=grades[target], due_on=today + dt.timedelta(days=100))
    return pupil


def test_progress_from_the_database_is_the_flight_path_status_hand_computed(oakfield):
    with schema_context(oakfield.school.schema_name):
        aspect = Aspect.objects.filter(is_headline=True).select_related("subject", "grade_set").first()
        # halfway between 2 and 8 is 5: 5 is on track, 4 (1 below) is below, 6 (1 above) is above
        on = made_up_pupil(aspect, baseline=2, latest=5, target=8, surname="Zon")
        below = made_up_pupil(aspect, baseline=2, latest=4, target=8, surname="Zbelow")
        above = made_up_pupil(aspect, baseline=2, latest=6, target=8, surname="Zabove")
        restricted = made_up_pupil(aspect, baseline=2, latest=4, target=8, surname="Zrestricted")
        Pupil.objects.filter(pk=restricted.pk).update(processing_restricted=True)
        listed, _ = assessment.pupils_with_progress(Pupil.objects.filter(pk__in=[on.pk, below.pk, above.pk,
                                                                                  restricted.pk]),
                                                    subject=aspect.subject)
        ranks = {p.surname: p.progress_rank for p in listed}

    assert ranks == {"Zon": 2, "Zbelow": 1, "Zabove": 3, "Zrestricted": None}


def test_progress_from_the_database_agrees_with_the_pupil_page_for_every_pupil(oakfield):
    with schema_context(oakfield.school.schema_name):
        pupils = list(Pupil.objects.filter(on_roll=True, processing_restricted=False, processing_objected=False))
        by_subject = {}
        for subject in assessment.pupils_with_progress(Pupil.objects.none())[1]:
            listed, _ = assessment.pupils_with_progress(Pupil.objects.filter(pk__in=[p.pk for p in pupils]),
                                                        subject=subject)
            by_subject[subject.pk] = {p.pk: assessment.PROGRESS_RANK.get(p.progress_rank, "unknown") for p in listed}
        expected = {s.subject.pk: {} for s in assessment.pupil_progress(pupils[0])}
        for pupil in pupils:
            for line in assessment.pupil_progress(pupil):
                if line.subject.pk in by_subject:
                    expected[line.subject.pk][pupil.pk] = line.status
        overall, _ = assessment.pupils_with_progress(Pupil.objects.filter(pk__in=[p.pk for p in pupils]))
        overall = {p.pk: p.progress_rank for p in overall}

    statuses = [s for table in by_subject.values() for s in table.values()]
    assert {"below", "on", "above"} & set(statuses), "the demo gives some pupils a status"
    assert by_subject == {k: v for k, v in expected.items() if k in by_subject}
    rank = {"below": 1, "on": 2, "above": 3}
    for pupil in pupils:  # overall: the lowest of the subjects
        known = [rank[t[pupil.pk]] for t in by_subject.values() if t[pupil.pk] in rank]
        assert overall[pupil.pk] == (min(known) if known else None)


def test_the_list_sorts_by_progress_name_and_year(oakfield, password):
    client = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        subject = Aspect.objects.filter(is_headline=True).first().subject

    by_progress = client.get(f"/pupils/?subject={subject.pk}&sort=progress").context["rows"]
    backwards = client.get(f"/pupils/?subject={subject.pk}&sort=-progress").context["rows"]
    by_name = client.get("/pupils/?sort=-name").context["rows"]
    by_year = client.get("/pupils/?sort=year").context["rows"]

    ranks = [p.progress_rank for p, *_ in by_progress]
    known = [r for r in ranks if r is not None]
    assert known == sorted(known) and ranks == known + [None] * (len(ranks) - len(known))
    back = [p.progress_rank for p, *_ in backwards]
    back_known = [r for r in back if r is not None]
    assert back_known == sorted(back_known, reverse=True) and back == back_known + [None] * (len(back) - len(back_known))
    assert len(set(known)) > 1, "the first page holds more than one status"
    names = [(p.surname, p.forename) for p, *_ in by_name]
    assert names == sorted(names, reverse=True)
    years = [p.year_group for p, *_ in by_year]
    assert years == sorted(years)


def test_sorting_and_paging_keep_the_filters(oakfield, password):
    client = school_client(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        subject = Aspect.objects.filter(is_headline=True).first().subject
        on_roll = Pupil.objects.filter(on_roll=True).count()
    assert on_roll > 50, "the demo school fills more than one page"

    response = client.get(f"/pupils/?subject={subject.pk}&characteristic=&sort=-name")
    page = response.content.decode()
    second = client.get(f"/pupils/?subject={subject.pk}&characteristic=&sort=-name&page=2")
    filtered = client.get("/pupils/?characteristic=eal&sort=progress").content.decode()

    assert f'href="?subject={subject.pk}&amp;characteristic=&amp;sort=progress"' in page
    assert f'href="?subject={subject.pk}&amp;characteristic=&amp;sort=-name&amp;page=2"' in page
    firsts = [p.pk for p, *_ in response.context["rows"]]
    seconds = [p.pk for p, *_ in second.context["rows"]]
    assert len(firsts) == 50 and len(seconds) == on_roll - 50 and not set(firsts) & set(seconds)
    assert 'href="?characteristic=eal&amp;sort=-progress"' in filtered


def test_the_progress_filter_keeps_only_that_status(oakfield, password):
    client = school_client(oakfield, oakfield.demo.head_email, password)

    below = client.get("/pupils/?progress=below").context["rows"]
    unknown = client.get("/pupils/?progress=unknown").context["rows"]

    assert below and {p.progress_rank for p, *_ in below} == {1}
    assert {p.progress_rank for p, *_ in unknown} <= {None}


@pytest.mark.parametrize("query", ["?sort=progress", "?sort=-progress&progress=below", ""])
def test_the_list_runs_the_same_queries_however_many_pupils(oakfield, password, query):
    client = school_client(oakfield, oakfield.demo.head_email, password)
    client.get(f"/pupils/{query}")
    with CaptureQueriesContext(connection) as before:
        client.get(f"/pupils/{query}")
    with schema_context(oakfield.school.schema_name):
        aspect = Aspect.objects.filter(is_headline=True).select_related("grade_set", "subject").first()
        for n in range(30):
            made_up_pupil(aspect, baseline=2, latest=3 + n % 4, target=8, surname=f"Extra{n:02d}")
    with CaptureQueriesContext(connection) as after:
        client.get(f"/pupils/{query}")

    assert len(after) == len(before)


def test_the_pages_python_progress_is_the_databases(oakfield):
    """Sorted by name or year the page's progress comes from Python (``progress_attach``): the same
    ranks as the database's, overall and per subject, restricted pupils included."""
    with schema_context(oakfield.school.schema_name):
        aspect = Aspect.objects.filter(is_headline=True).select_related("subject", "grade_set").first()
        restricted = made_up_pupil(aspect, baseline=2, latest=4, target=8, surname="Zrestricted")
        Pupil.objects.filter(pk=restricted.pk).update(processing_restricted=True)
        everyone = Pupil.objects.all()
        for subject in (None, aspect.subject):
            annotated, subjects = assessment.pupils_with_progress(everyone, subject=subject)
            in_python = assessment.progress_attach(list(everyone.order_by("pk")), subject=subject)
            names = ["progress_rank"] + ([f"progress_{s.pk}" for s in subjects] if subject is None else [])
            expected = {p.pk: tuple(getattr(p, n) for n in names) for p in annotated}
            assert {p.pk: tuple(getattr(p, n) for n in names) for p in in_python} == expected
            assert expected[restricted.pk] == (None,) * len(names)
            assert len({v[0] for v in expected.values()}) > 2
