"""The school site: who sees what, the marksheet, and the UPN never shown."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from shared import clock
from tenants.assessment.models import Aspect, Grade, Result
from tenants.pupils.models import Group, Pupil
from tenants.users.models import User
from tests.helpers import host_client, school_client

pytestmark = pytest.mark.django_db

SITE_PAGES = ["/", "/pupils/", "/analysis/", "/users/", "/import/", "/retention/"]


def signed_in(school, email, password):
    return school_client(school, email, password)


def ids_in(school):
    with schema_context(school.school.schema_name):
        pupil = Pupil.objects.order_by("pk").first()
        group = Group.objects.filter(kind=Group.Kind.TEACHING).order_by("pk").first()
        return pupil.pk, group.pk


def test_every_school_site_url_refuses_a_user_of_another_school(oakfield, riverside, password):
    """A signed-in Riverside teacher's session means nothing on Oakfield's host."""
    client = signed_in(riverside, riverside.demo.head_email, password)
    pupil_id, group_id = ids_in(oakfield)
    client.defaults["HTTP_HOST"] = oakfield.hostname

    for path in [*SITE_PAGES, f"/pupils/{pupil_id}/", f"/pupils/{pupil_id}/report/", f"/groups/{group_id}/marksheet/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path


def test_a_parent_asking_for_another_familys_child_gets_a_404(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.parent_email, password)
    with schema_context(oakfield.school.schema_name):
        own = Pupil.objects.get(parent_links__parent__user__email=oakfield.demo.parent_email)
        other = Pupil.objects.exclude(pk=own.pk).first()

    assert client.get(f"/pupils/{own.pk}/").status_code == 200
    assert client.get(f"/pupils/{other.pk}/").status_code == 404
    assert client.get("/pupils/999999/").status_code == 404


def test_a_pupil_sees_only_themself(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.pupil_email, password)
    with schema_context(oakfield.school.schema_name):
        own = Pupil.objects.get(user__email=oakfield.demo.pupil_email)
        other = Pupil.objects.exclude(pk=own.pk).first()

    assert client.get("/")["Location"] == f"/pupils/{own.pk}/"
    assert client.get(f"/pupils/{other.pk}/").status_code == 404


def test_a_teacher_sees_only_their_groups_and_their_pupils(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.teacher_email, password)
    with schema_context(oakfield.school.schema_name):
        teacher = User.objects.get(email=oakfield.demo.teacher_email)
        mine = list(Group.objects.filter(staff=teacher))
        not_mine = Group.objects.exclude(staff=teacher).filter(kind=Group.Kind.TEACHING).first()
        my_pupils = set(Pupil.objects.filter(groups__in=mine).values_list("pk", flat=True))
        stranger = Pupil.objects.exclude(pk__in=my_pupils).first()

    listed = client.get("/pupils/")

    assert mine and not_mine
    assert listed.context["page"].paginator.count == len(my_pupils)
    assert client.get(f"/groups/{mine[0].pk}/marksheet/").status_code == 200
    assert client.get(f"/groups/{not_mine.pk}/marksheet/").status_code == 404
    assert client.get(f"/pupils/{stranger.pk}/").status_code == 404


def marksheet_setup(school):
    with schema_context(school.school.schema_name):
        teacher = User.objects.get(email=school.demo.teacher_email)
        group = Group.objects.filter(staff=teacher).first()
        aspect = Aspect.objects.filter(is_headline=True).first()
        pupils = list(group.pupils.all())
        grades = list(Grade.objects.filter(grade_set=aspect.grade_set))
    return group, aspect, pupils, grades


def test_a_marksheet_is_saved_in_one_request(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.teacher_email, password)
    group, aspect, pupils, grades = marksheet_setup(oakfield)
    day = (clock.today() - dt.timedelta(days=3)).isoformat()  # results are of days that have been
    data = {"aspect": aspect.pk, "date": day, **{f"pupil-{p.pk}": grades[i % len(grades)].pk for i, p in enumerate(pupils)}}

    response = client.post(f"/groups/{group.pk}/marksheet/", data)

    assert response.status_code == 302
    with schema_context(oakfield.school.schema_name):
        saved = dict(Result.objects.filter(aspect=aspect, recorded_on=day).values_list("pupil_id", "grade_id"))
    assert saved == {p.pk: grades[i % len(grades)].pk for i, p in enumerate(pupils)}


def test_a_marksheet_save_is_all_or_nothing(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.teacher_email, password)
    group, aspect, pupils, grades = marksheet_setup(oakfield)
    with schema_context(oakfield.school.schema_name):
        outsider = Pupil.objects.exclude(groups=group).first()
        before = Result.objects.count()
    data = {"aspect": aspect.pk, "date": (clock.today() - dt.timedelta(days=2)).isoformat(),
            **{f"pupil-{p.pk}": grades[0].pk for p in pupils},
            f"pupil-{outsider.pk}": grades[0].pk}

    response = client.post(f"/groups/{group.pk}/marksheet/", data, follow=True)

    assert b"Nothing was saved." in response.content
    with schema_context(oakfield.school.schema_name):
        assert Result.objects.count() == before


def test_the_pupil_page_shows_the_new_result_on_its_chart(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.teacher_email, password)
    group, aspect, pupils, grades = marksheet_setup(oakfield)
    top = grades[-1]
    day = clock.today() - dt.timedelta(days=1)
    client.post(f"/groups/{group.pk}/marksheet/", {"aspect": aspect.pk, "date": day.isoformat(), f"pupil-{pupils[0].pk}": top.pk})

    page = client.get(f"/pupils/{pupils[0].pk}/").content.decode()

    assert f"<title>{top.label} on {day:%d %b %Y}</title>" in page


def test_the_upn_never_appears_in_any_rendered_page(oakfield, password):
    with schema_context(oakfield.school.schema_name):
        upns = [upn for upn in Pupil.objects.values_list("upn", flat=True) if upn]
        pupil_ids = list(Pupil.objects.values_list("pk", flat=True)[:5])
        group_id = Group.objects.filter(staff__email=oakfield.demo.teacher_email).first().pk
        parent_child = Pupil.objects.get(parent_links__parent__user__email=oakfield.demo.parent_email).pk
    assert upns
    pages = []
    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    for path in [*SITE_PAGES, *(f"/pupils/{pk}/" for pk in pupil_ids), *(f"/pupils/{pk}/report/" for pk in pupil_ids),
                 f"/groups/{group_id}/marksheet/",
                 "/pupils/?characteristic=sen", "/analysis/?subject=1"]:
        pages.append(admin.get(path).content.decode())
    parent = signed_in(oakfield, oakfield.demo.parent_email, password)
    pages += [parent.get("/").content.decode(), parent.get(f"/pupils/{parent_child}/").content.decode()]

    assert all(page for page in pages)
    leaked = [upn for upn in upns for page in pages if upn in page]
    assert leaked == []


def test_filters_narrow_the_pupil_list(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        eal = Pupil.objects.filter(on_roll=True, eal=True).count()
        year = Pupil.objects.filter(on_roll=True, year_group="Year 3").count()

    assert client.get("/pupils/?characteristic=eal").context["page"].paginator.count == eal
    assert client.get("/pupils/?year=Year+3").context["page"].paginator.count == year


@pytest.mark.parametrize("path", ["/pupils/", "/analysis/"])
def test_query_count_does_not_grow_with_pupils(oakfield, password, path):
    client = signed_in(oakfield, oakfield.demo.head_email, password)
    client.get(path)  # the process's caches warm (shared.process_cache), as in both counts below
    with CaptureQueriesContext(connection) as before:
        client.get(path)
    with schema_context(oakfield.school.schema_name):
        template = Pupil.objects.first()
        for n in range(40):
            template.pk = None
            template.xporter_id = f"EXTRA{n}"
            template.save()
    with CaptureQueriesContext(connection) as after:
        client.get(path)

    assert len(before) > 3
    assert len(after) == len(before)


def test_cohort_analysis_compares_the_groups_the_dfe_asks_for(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.head_email, password)

    response = client.get("/analysis/")

    tables = {key: rows for key, _, rows in response.context["measures"].breakdowns}
    assert list(tables) == ["all", "year", "group", "disadvantaged", "sen", "eal", "fsm", "looked_after", "gender"]
    disadvantaged = {r.label: r for r in tables["disadvantaged"]}
    assert set(disadvantaged) == {"Disadvantaged", "Not disadvantaged"}
    assert sum(r.pupils for r in disadvantaged.values()) == tables["all"][0].pupils == sum(r.pupils for r in tables["year"])
    assert b"<svg" in response.content


def test_progress_status_against_the_flight_path():
    from decimal import Decimal

    from tenants.assessment.progress import Point, progress_status

    baseline, target = Point(dt.date(2026, 9, 1), Decimal(2)), Point(dt.date(2027, 7, 1), Decimal(6))
    halfway = dt.date(2027, 1, 30)  # about half way: the path expects about 4 points

    assert progress_status(baseline=baseline, target=target, latest=Point(halfway, Decimal(4))) == "on"
    assert progress_status(baseline=baseline, target=target, latest=Point(halfway, Decimal(3))) == "below"
    assert progress_status(baseline=baseline, target=target, latest=Point(halfway, Decimal(5))) == "above"
    assert progress_status(baseline=baseline, target=None, latest=Point(halfway, Decimal(5))) == "unknown"


def test_the_school_admin_invites_a_parent_who_then_sees_only_their_child(oakfield, password, smtp,
                                                                          django_capture_on_commit_callbacks):
    from tenants.pupils.models import ParentCarer
    from tests.mail_fixtures import mail_deliver_all

    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        carer = ParentCarer.objects.filter(user__isnull=True).first()
        child_ids = set(carer.children.values_list("pk", flat=True))

    response = admin.post("/users/", {"email": "New.Parent@Example.org", "full_name": "New Parent", "role": "parent",
                                      "parent_carer": carer.pk}, follow=True)
    assert next(str(m) for m in response.context["messages"]).startswith("Invitation sent to new.parent@example.org.")
    assert b"/accounts/set-password/" not in response.content  # the link is mailed, never shown
    mail_deliver_all()
    (message,) = smtp.messages
    assert message["To"] == "new.parent@example.org" and oakfield.school.name in message["Subject"]
    (link,) = [url for url in smtp.links(message) if "/accounts/set-password/" in url]
    parent = host_client(oakfield.hostname)
    assert urlsplit(link).hostname == oakfield.hostname
    form = parent.get(urlsplit(link).path, follow=True)
    parent.post(form.redirect_chain[-1][0], {"new_password1": "a-long-new-pass-9", "new_password2": "a-long-new-pass-9"})
    parent.post("/accounts/login/", {"username": "new.parent@example.org", "password": "a-long-new-pass-9"})

    children = parent.get("/")
    assert {p.pk for p in children.context["children"]} == child_ids


def test_inviting_a_parent_without_their_record_is_refused(oakfield, password):
    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        before = User.objects.count()

    response = admin.post("/users/", {"email": "p2@example.org", "full_name": "P Two", "role": "parent"})

    assert b"Choose which parent or carer this account is for." in response.content
    with schema_context(oakfield.school.schema_name):
        assert User.objects.count() == before


@pytest.mark.parametrize("path", ["/users/", "/import/", "/retention/"])
def test_only_the_school_admin_manages_users_and_imports(oakfield, password, path):
    assert signed_in(oakfield, oakfield.demo.teacher_email, password).get(path).status_code == 403
    assert signed_in(oakfield, oakfield.demo.head_email, password).get(path).status_code == 200


def test_a_malformed_upload_changes_nothing_and_says_where(oakfield, password):
    import io
    import json

    admin = signed_in(oakfield, oakfield.demo.head_email, password)
    with schema_context(oakfield.school.schema_name):
        before = Pupil.objects.count()
    upload = io.BytesIO(json.dumps({"Students": [{"Id": "NEW1", "Forename": "A", "Surname": "B"},
                                                 {"Id": "NEW2", "Forename": "", "Surname": "C"}]}).encode())
    upload.name = "export.json"

    response = admin.post("/import/", {"file": upload}, follow=True)

    assert b"Nothing was imported: Students row NEW2: Forename is missing" in response.content
    with schema_context(oakfield.school.schema_name):
        assert Pupil.objects.count() == before


def test_a_parent_can_open_their_childs_report_and_no_other(oakfield, password):
    client = signed_in(oakfield, oakfield.demo.parent_email, password)
    with schema_context(oakfield.school.schema_name):
        own = Pupil.objects.get(parent_links__parent__user__email=oakfield.demo.parent_email)
        other = Pupil.objects.exclude(pk=own.pk).first()

    report = client.get(f"/pupils/{own.pk}/report/")

    assert report.status_code == 200 and b"Progress report" in report.content
    assert client.get(f"/pupils/{other.pk}/report/").status_code == 404


def test_the_school_admin_sets_the_grace_period_for_leavers(oakfield, password):
    from tenants.pupils.models import RetentionSettings

    admin = signed_in(oakfield, oakfield.demo.head_email, password)

    response = admin.post("/retention/", {"grace_months": "6"})

    assert response.status_code == 302
    with schema_context(oakfield.school.schema_name):
        assert RetentionSettings.objects.get().grace_months == 6


def test_a_teachers_dashboard_lists_no_other_account(oakfield, password):
    """Parents' and pupils' names and emails are for the school admin's user list only: neither
    dashboard lists the school's accounts."""
    with schema_context(oakfield.school.schema_name):
        others = list(User.objects.exclude(email=oakfield.demo.teacher_email).values_list("email", "full_name"))
    teacher = signed_in(oakfield, oakfield.demo.teacher_email, password)
    head = signed_in(oakfield, oakfield.demo.head_email, password)

    seen_by_teacher = teacher.get("/")
    seen_by_head = head.get("/")

    assert seen_by_teacher.status_code == 200 and "users" not in seen_by_teacher.context
    assert len(others) == 3  # the head, a parent and a pupil
    for email, name in others:
        assert email.encode() not in seen_by_teacher.content
        assert name.encode() not in seen_by_teacher.content
    assert seen_by_head.status_code == 200 and "users" not in seen_by_head.context
    for email, _ in others:
        if email != oakfield.demo.head_email:
            assert email.encode() not in seen_by_head.content
