"""The charts as markup: a pupil's progress chart (assessment points along the x-axis, grade labels,
a legend, the flight path, the target marked; a title, a description and a table for screen
readers) and the cohort bars; escaping; the pupils with no results, no target or one result; and the
words beside them on the pupil page and the report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from tenants.assessment import charts
from tenants.assessment.calendar import windows
from tenants.assessment.models import Aspect, AssessmentPoint, Grade, GradeSet, Result, Subject, Target
from tenants.assessment.progress import ABOVE, BELOW, ON, UNKNOWN
from tenants.assessment.selectors import CohortRow, SubjectProgress, pupil_progress
from tenants.pupils.models import Pupil
from tests.helpers import school_client

pytestmark = pytest.mark.django_db

LABELS = ["WTS-", "WTS", "WTS+", "EXS-", "EXS", "EXS+", "GDS-", "GDS"]
# A school year of its own, far from the demo's calendar: Autumn, Spring, Summer 2031/32.
POINTS = [("Autumn 2031", dt.date(2031, 12, 10)), ("Spring 2032", dt.date(2032, 3, 25)),
          ("Summer 2032", dt.date(2032, 7, 10))]
SITE_CSS = Path(__file__).resolve().parents[3] / "platform" / "static" / "css" / "site.css"


def _svg(markup: str) -> ET.Element:
    (svg,) = re.findall(r"<svg.*?</svg>", str(markup), flags=re.S)
    return ET.fromstring(svg)  # well-formed, or this raises


def _label_spans(svg: ET.Element) -> list[tuple[float, float]]:
    """Where each x-axis label runs (as the chart reckons widths), in order."""
    spans = []
    for tick in svg.findall("./g[@class='x-axis']/g"):
        text = tick.find("text")
        if text is not None:
            x, width = float(text.get("x")), max(charts._width(s.text or "") for s in text.iter("tspan"))
            anchor = text.get("text-anchor")
            start = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
            spans.append((start, start + width))
    return spans


def _texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter("text")]


@pytest.fixture
def school(oakfield):
    """A subject with its headline aspect and grade set, a pupil, and the school's calendar with
    POINTS in it, inside Oakfield's schema (rolled back after the test)."""
    with schema_context(oakfield.school.schema_name):
        grade_set = GradeSet.objects.create(name="Test scale")
        grades = {label: Grade.objects.create(grade_set=grade_set, label=label, order=i, points=Decimal(i + 1))
                  for i, label in enumerate(LABELS)}
        grade_set.expected_from, grade_set.greater_depth_from = grades["EXS"], grades["GDS"]
        grade_set.save()
        subject = Subject.objects.create(name="Astronomy")
        aspect = Aspect.objects.create(subject=subject, name="Teacher assessment", grade_set=grade_set,
                                       is_headline=True)
        pupil = Pupil.objects.create(forename="Amira", surname="Khan")
        points = [AssessmentPoint.objects.create(name=name, date=day) for name, day in POINTS]
        yield type("School", (), {"grades": grades, "subject": subject, "aspect": aspect, "pupil": pupil,
                                  "points": points, "grade_set": grade_set, "oakfield": oakfield})


def _result(school, label: str, day: dt.date) -> Result:
    return Result.objects.create(pupil=school.pupil, aspect=school.aspect, grade=school.grades[label], recorded_on=day)


def _progress(school) -> SubjectProgress:
    return next(p for p in pupil_progress(school.pupil) if p.subject.pk == school.subject.pk)


def test_the_progress_chart_names_its_points_marks_its_target_and_explains_itself(school):
    with schema_context(school.oakfield.school.schema_name):
        _result(school, "WTS+", dt.date(2031, 12, 10))
        _result(school, "EXS-", dt.date(2032, 3, 20))
        Target.objects.create(pupil=school.pupil, subject=school.subject, grade=school.grades["GDS-"],
                              due_on=dt.date(2032, 7, 10))
        progress = _progress(school)
        markup = charts.progress_chart(progress)
    svg = _svg(markup)

    # for screen readers: a title and a description, named by aria-labelledby
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.get("role") == "img"
    assert svg.find("title").get("id") == title_id and svg.find("title").text == "Astronomy: results over time"
    desc = svg.find("desc")
    assert desc.get("id") == desc_id
    assert desc.text.startswith("Results in Astronomy: WTS+ at Autumn 2031 (10 Dec 2031); EXS- at Spring 2032 (20 Mar 2032).")
    assert "Target GDS- by 10 Jul 2032" in desc.text and desc.text.endswith("Progress: Below the flight path to the target.")
    # the legend: results, flight path, target with its grade and due date
    legend = svg.find("./g[@class='legend']")
    assert _texts(legend) == ["Results", "Flight path", "Target GDS- by 10 Jul 2032"]
    # x-axis: one tick per assessment point, named by it, in date order; labels on two lines
    ticks = svg.findall("./g[@class='x-axis']/g[@class='tick']")
    assert [t.get("data-point") for t in ticks] == ["Autumn 2031", "Spring 2032", "Summer 2032"]
    assert [[s.text for s in t.iter("tspan")] for t in ticks] == [["Autumn", "2031"], ["Spring", "2032"],
                                                                  ["Summer", "2032"]]
    xs = [float(t.find("line").get("x1")) for t in ticks]
    assert xs == sorted(xs) and len(set(xs)) == 3
    # y-axis: every grade of the set labelled (eight fit), lowest at the bottom
    labels = svg.findall("./g[@class='y-axis']/g/text")
    assert [t.text for t in labels] == LABELS
    assert float(labels[0].get("y")) > float(labels[-1].get("y"))
    # each result at its date: the second result sits before the Spring tick (20 Mar < 25 Mar)
    dots = svg.findall("circle[@class='result']")
    assert len(dots) == 2 and float(dots[0].get("cx")) == xs[0] and float(dots[1].get("cx")) < xs[1]
    assert svg.find("polyline[@class='results']") is not None
    # the flight path, dashed, from the first result to the target; the target a diamond with its words
    flight = svg.find("line[@class='flight']")
    assert flight.get("stroke-dasharray") and float(flight.get("x1")) == xs[0]
    mark = svg.find("./g[@class='target-mark']")
    assert mark.find("path").get("class") == "target" and mark.find("path/title").text == "Target GDS- by 10 Jul 2032"
    assert mark.find("text").text == "GDS- by Jul 2032"
    assert float(mark.find("path").get("d").split(",")[0][1:]) == xs[2]  # at the due date
    # every label is 13 units in a 300-unit viewBox, and the CSS says so too
    assert svg.get("viewBox").split()[2] == "300" and svg.get("font-size") == "13"
    assert re.search(r"\.chart text, \.bars text \{ font-size:13px;", SITE_CSS.read_text())
    assert re.search(r"\.chart, \.bars \{[^}]*max-width:22rem", SITE_CSS.read_text())
    # colour is never alone: a solid line with round markers, a dashed line, a diamond
    assert {e.get("stroke") for e in (svg.find("polyline"), flight)} == {charts.BLUE, charts.GREY}
    # the text alternative: the same data as a table
    table = re.search(r"<details class=\"chart-data\">.*</details>", str(markup), flags=re.S).group(0)
    rows = re.findall(r"<tr[^>]*><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    assert rows == [("Autumn 2031", "10 Dec 2031", "WTS+"), ("Spring 2032", "20 Mar 2032", "EXS-"),
                    ("Target", "by 10 Jul 2032", "GDS-")]


def test_labels_and_names_are_escaped(school):
    with schema_context(school.oakfield.school.schema_name):
        Subject.objects.filter(pk=school.subject.pk).update(name='<script>alert("s")</script>')
        Grade.objects.filter(pk=school.grades["EXS"].pk).update(label="<i>'\"")
        AssessmentPoint.objects.filter(pk=school.points[0].pk).update(name="<img src=x onerror=alert(1)> 2031")
        _result(school, "EXS", dt.date(2031, 12, 10))
        Target.objects.create(pupil=school.pupil, subject=school.subject, grade=school.grades["EXS"],
                              due_on=dt.date(2032, 7, 10))
        progress = _progress(school)
        markup = str(charts.progress_chart(progress))
        bars = str(charts.bar_chart([CohortRow(label="<script>x</script>", pupils=1)], value="average_points"))
    for html in (markup, bars):
        assert "<script" not in html and "<img" not in html and "<i>" not in html
    svg = _svg(markup)
    assert svg.find("title").text == '<script>alert("s")</script>: results over time'
    assert "<i>'\"" in _texts(svg.find("./g[@class='y-axis']"))
    assert svg.find("./g[@class='x-axis']/g").get("data-point") == "<img src=x onerror=alert(1)> 2031"
    assert "&lt;i&gt;&#x27;&quot;" in markup
    assert _svg(bars).find("desc").text == "<script>x</script>: no data"


def test_a_pupil_with_no_results_gets_words_and_no_chart(school):
    with schema_context(school.oakfield.school.schema_name):
        Target.objects.create(pupil=school.pupil, subject=school.subject, grade=school.grades["EXS"],
                              due_on=dt.date(2032, 7, 10))
        progress = _progress(school)
        markup = str(charts.progress_chart(progress))
    assert "<svg" not in markup and "No results in Astronomy yet." in markup
    assert progress.status == UNKNOWN and progress.status_words == "No results yet"
    assert progress.plain_summary == ("There are no results for Amira in Astronomy yet. Amira's target is EXS by "
                                      "10 July 2032.")


def test_a_pupil_with_no_target_gets_results_only(school):
    with schema_context(school.oakfield.school.schema_name):
        _result(school, "WTS", dt.date(2031, 12, 10))
        _result(school, "WTS+", dt.date(2032, 3, 25))
        progress = _progress(school)
        svg = _svg(charts.progress_chart(progress))
    assert _texts(svg.find("./g[@class='legend']")) == ["Results"]
    assert svg.find("line[@class='flight']") is None and svg.find(".//g[@class='target-mark']") is None
    assert "No target set." in svg.find("desc").text
    # the x-axis runs from the first result to the last: Summer is not shown
    assert [t.get("data-point") for t in svg.iter("g") if t.get("class") == "tick"] == ["Autumn 2031", "Spring 2032"]
    assert progress.status_words == "No target set"
    assert progress.plain_summary == ("Amira's latest result in Astronomy, from Spring 2032 (25 March 2032), is WTS+: "
                                      "working towards the expected standard. No target has been set in Astronomy yet.")


def test_a_pupil_with_one_result(school):
    with schema_context(school.oakfield.school.schema_name):
        _result(school, "GDS", dt.date(2031, 12, 1))
        progress = _progress(school)
        alone = _svg(charts.progress_chart(progress))
        Target.objects.create(pupil=school.pupil, subject=school.subject, grade=school.grades["GDS"],
                              due_on=dt.date(2032, 7, 10))
        progress = _progress(school)
        with_target = _svg(charts.progress_chart(progress))
    # one marker, no line; the axis still names the point its window holds
    assert len(alone.findall("circle")) == 1 and alone.find("polyline") is None
    assert [t.get("data-point") for t in alone.iter("g") if t.get("class") == "tick"] == ["Autumn 2031"]
    assert 0 < float(alone.find("circle").get("cx")) < 300
    # with a target: the flight path from it, the target marked, and too early to say
    assert with_target.find("line[@class='flight']") is not None
    assert len(with_target.findall("g[@class='target-mark']")) == 1
    assert progress.status == UNKNOWN and progress.status_words == "Too early to say: needs a second result"
    assert progress.plain_summary == (
        "Amira's latest result in Astronomy, from Autumn 2031 (1 December 2031), is GDS: working at greater depth. "
        "It is too early to say whether Amira is on track for the target of GDS by 10 July 2032: that needs a "
        "second result.")


@pytest.mark.parametrize(("second", "status", "words", "plain"), [
    ("EXS", ON, "On track: on the flight path to the target", "Amira is on track to reach the target"),
    ("GDS", ABOVE, "Above the flight path to the target", "Amira is ahead of where we would expect"),
    ("WTS-", BELOW, "Below the flight path to the target", "Amira is behind where we would expect"),
])
def test_the_status_in_words_for_staff_and_for_parents(school, second, status, words, plain):
    with schema_context(school.oakfield.school.schema_name):
        _result(school, "WTS+", dt.date(2031, 12, 10))
        _result(school, second, dt.date(2032, 3, 25))
        Target.objects.create(pupil=school.pupil, subject=school.subject, grade=school.grades["GDS-"],
                              due_on=dt.date(2032, 7, 10))
        progress = _progress(school)
    assert (progress.status, progress.status_words) == (status, words)
    assert f"{plain} at this point on the way to" in progress.plain_summary or status == ON
    assert progress.plain_summary.endswith("the target of GDS- by 10 July 2032.")
    assert progress.latest_point == "Spring 2032"


def test_many_grades_and_crowded_points_are_thinned_not_overlapped(school):
    with schema_context(school.oakfield.school.schema_name):
        scale = GradeSet.objects.create(name="Standardised")
        grades = [Grade.objects.create(grade_set=scale, label=str(score), order=i, points=Decimal(score))
                  for i, score in enumerate(range(70, 141))]
        Aspect.objects.filter(pk=school.aspect.pk).update(grade_set=scale)
        for day in (dt.date(2031, 12, 1), dt.date(2031, 12, 3), dt.date(2031, 12, 5)):
            AssessmentPoint.objects.create(name=f"Mock week {day.day} 2031", date=day)
        Result.objects.create(pupil=school.pupil, aspect=school.aspect, grade=grades[10], recorded_on=dt.date(2031, 11, 1))
        Result.objects.create(pupil=school.pupil, aspect=school.aspect, grade=grades[40], recorded_on=dt.date(2032, 7, 1))
        svg = _svg(charts.progress_chart(_progress(school)))
    ys = [float(t.get("y")) for t in svg.findall("./g[@class='y-axis']/g/text")]
    assert 4 < len(ys) < 71 and all(a - b >= 16 for a, b in zip(ys, ys[1:]))
    spans = _label_spans(svg)
    assert len(spans) < 6 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert all(0 <= s[0] and s[1] <= 300 for s in spans)
    assert len(svg.findall("./g[@class='x-axis']/g")) == 6  # every point keeps its tick


def test_two_school_years_of_points_are_all_named_shortly_when_the_names_do_not_fit(school):
    with schema_context(school.oakfield.school.schema_name):
        for name, day in (("Autumn 2032", dt.date(2032, 12, 10)), ("Spring 2033", dt.date(2033, 3, 25)),
                          ("Summer 2033", dt.date(2033, 7, 10))):
            AssessmentPoint.objects.create(name=name, date=day)
        for label, day in (("WTS", dt.date(2031, 12, 10)), ("WTS+", dt.date(2032, 3, 25)),
                           ("EXS-", dt.date(2032, 7, 10)), ("EXS", dt.date(2032, 11, 30))):
            _result(school, label, day)
        Target.objects.create(pupil=school.pupil, subject=school.subject, grade=school.grades["GDS-"],
                              due_on=dt.date(2033, 7, 10))
        svg = _svg(charts.progress_chart(_progress(school)))
    ticks = svg.findall("./g[@class='x-axis']/g")
    assert [t.get("data-point") for t in ticks] == ["Autumn 2031", "Spring 2032", "Summer 2032", "Autumn 2032",
                                                    "Spring 2033", "Summer 2033"]
    assert [[s.text or "" for s in t.iter("tspan")] for t in ticks] == [
        ["Aut", "2031"], ["Spr", "2032"], ["Sum", "2032"], ["Aut", "2032"], ["Spr", "2033"], ["Sum", "2033"]]
    spans = _label_spans(svg)
    assert len(spans) == 6 and all(a[1] + charts.GAP <= b[0] for a, b in zip(spans, spans[1:]))
    assert [t.find("title").text for t in ticks][0] == "Autumn 2031 (10 Dec 2031)"  # the full name on hover


def test_without_a_calendar_the_ticks_are_the_results_dates(school):
    with schema_context(school.oakfield.school.schema_name):
        _result(school, "WTS", dt.date(2031, 12, 10))
        _result(school, "EXS", dt.date(2032, 7, 20))  # after the school year's last point: in no window
        progress = dataclasses.replace(_progress(school), windows=[])
        markup = str(charts.progress_chart(progress))
        with_calendar = _svg(charts.progress_chart(_progress(school)))
    svg = _svg(markup)
    ticks = svg.findall("./g[@class='x-axis']/g")
    assert [t.get("data-point") for t in ticks] == ["10 Dec 2031", "20 Jul 2032"]
    assert [[s.text for s in t.iter("tspan")] for t in ticks] == [["Dec", "2031"], ["Jul", "2032"]]
    assert "<td>—</td><td>20 Jul 2032</td>" in markup  # in no point's window: no point in the table
    # with the calendar: its points as ticks, and the holiday result still plotted at its date
    assert [t.get("data-point") for t in with_calendar.findall("./g[@class='x-axis']/g")] == [
        "Autumn 2031", "Spring 2032", "Summer 2032"]
    assert "EXS on 20 Jul 2032" in with_calendar.find("desc").text
    dots = with_calendar.findall("circle[@class='result']")
    assert float(dots[1].get("cx")) > float(with_calendar.findall("./g[@class='x-axis']/g/line")[-1].get("x1"))


def test_tick_labels_overlapping_are_left_out():
    lines = [("Aut", "2031"), ("Spr", "2032"), ("Sum", "")]
    assert charts._tick_labels([40, 75, 110], lines) == [("middle", "Aut", "2031"), None, ("middle", "Sum", "")]
    assert charts._tick_labels([40, 90, 140], lines) == [("middle", "Aut", "2031"), ("middle", "Spr", "2032"),
                                                         ("middle", "Sum", "")]
    assert charts._tick_labels([5, 295], [("Autumn", "2031"), ("Summer", "2032")]) == [
        ("start", "Autumn", "2031"), ("end", "Summer", "2032")]  # never off the chart's edges


def test_the_bar_chart_has_a_title_a_description_and_readable_bars():
    rows = [CohortRow(label="Disadvantaged", pupils=4, on_or_above=1, with_status=4),
            CohortRow(label="Not disadvantaged with a long label for a phone", pupils=9, on_or_above=9, with_status=9),
            CohortRow(label="Unknown", pupils=1)]
    svg = _svg(charts.bar_chart(rows, value="on_track_percent", unit="%"))
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find("title").get("id") == title_id and svg.find("title").text == "On or above track"
    assert svg.find("desc").get("id") == desc_id
    assert svg.find("desc").text == ("Disadvantaged: 25%; Not disadvantaged with a long label for a phone: 100%; "
                                     "Unknown: no data")
    assert svg.get("viewBox").split()[2] == "300" and svg.get("font-size") == "13"
    bars = svg.findall("g[@class='bar']")
    assert [b.find("text[@class='bar-value']").text for b in bars] == ["25%", "100%", "\u2014"]
    fills = [b.find("rect[@class='bar-fill']") for b in bars]
    assert [float(f.get("width")) for f in fills[:2]] == [75.0, 300.0] and fills[2] is None  # against 100%
    assert all(len(b.find("text[@class='bar-label']").text) * charts.CHAR <= 300 - 40 for b in bars)
    averages = _svg(charts.bar_chart([CohortRow(label="A", assessed=2, points_total=Decimal(9)),
                                      CohortRow(label="B", assessed=1, points_total=Decimal(3))], value="average_points"))
    assert averages.find("title").text == "Average points"
    assert [float(r.get("width")) for r in averages.iter("rect") if r.get("class") == "bar-fill"] == [300.0, 200.0]
    # two charts of the same rows on one page have different ids
    assert _svg(charts.bar_chart(rows, value="on_track_percent")).get("aria-labelledby") != svg.get("aria-labelledby")


def test_the_pupil_page_and_the_report_show_the_chart_and_the_words(school):
    oakfield = school.oakfield
    with schema_context(oakfield.school.schema_name):
        _result(school, "WTS+", dt.date(2031, 12, 10))
        _result(school, "EXS", dt.date(2032, 3, 25))
        Target.objects.create(pupil=school.pupil, subject=school.subject, grade=school.grades["GDS-"],
                              due_on=dt.date(2032, 7, 10))
        assert windows()  # the calendar is there
    staff = school_client(oakfield, oakfield.demo.head_email)
    page = staff.get(f"/pupils/{school.pupil.pk}/").content.decode()
    card = re.search(r'<section class="card progress on"[^>]*><h2[^>]*>Astronomy.*?</section>', page, flags=re.S).group(0)
    assert "<dt>Latest</dt><dd><strong>EXS</strong> (working at the expected standard) · Spring 2032, 25 Mar 2032</dd>" in card
    assert "<dt>Target</dt><dd><strong>GDS-</strong> by 10 Jul 2032</dd>" in card
    assert "<dt>Progress</dt><dd>On track: on the flight path to the target</dd>" in card
    assert 'class="plain-words"' not in card  # staff read the facts
    assert card.count('<svg class="chart"') == 1 and 'class="chart-data"' in card

    report = staff.get(f"/pupils/{school.pupil.pk}/report/").content.decode()
    assert report.count('<svg class="chart"') == page.count('<svg class="chart"') >= 1
    assert ("<p class=\"plain-words\">Amira&#x27;s latest result in Astronomy, from Spring 2032 (25 March 2032), is EXS: "
            "working at the expected standard. Amira is on track to reach the target of GDS- by 10 July 2032.</p>"
            ) in report
    assert '<th scope="row">Astronomy</th>' in report


def test_a_parent_reads_the_plain_words_on_their_childs_page(oakfield):
    with schema_context(oakfield.school.schema_name):
        child = Pupil.objects.get(parent_links__parent__user__email=oakfield.demo.parent_email)
    page = school_client(oakfield, oakfield.demo.parent_email).get(f"/pupils/{child.pk}/").content.decode()
    words = re.findall(r'<p class="plain-words">(.*?)</p>', page)
    assert len(words) == 4 and all(w.startswith(f"{child.forename}&#x27;s latest result in ") for w in words)
    assert page.count('<svg class="chart"') == 4


def test_the_pupil_page_reads_a_fixed_number_of_queries_however_many_subjects(school):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    oakfield = school.oakfield
    with schema_context(oakfield.school.schema_name):
        _result(school, "WTS", dt.date(2031, 12, 10))
    client = school_client(oakfield, oakfield.demo.head_email)
    client.get(f"/pupils/{school.pupil.pk}/")
    with CaptureQueriesContext(connection) as before:
        assert client.get(f"/pupils/{school.pupil.pk}/").status_code == 200
    with schema_context(oakfield.school.schema_name):
        for name in ("Geography", "History"):
            subject = Subject.objects.create(name=name)
            scale = GradeSet.objects.create(name=f"{name} scale")
            grade = Grade.objects.create(grade_set=scale, label="EXS", order=0, points=Decimal(1))
            scale.expected_from = grade
            scale.save()
            aspect = Aspect.objects.create(subject=subject, name="TA", grade_set=scale, is_headline=True)
            Result.objects.create(pupil=school.pupil, aspect=aspect, grade=grade, recorded_on=dt.date(2031, 12, 10))
            Target.objects.create(pupil=school.pupil, subject=subject, grade=grade, due_on=dt.date(2032, 7, 10))
    with CaptureQueriesContext(connection) as after:
        page = client.get(f"/pupils/{school.pupil.pk}/").content.decode()
    assert page.count('<svg class="chart"') == 3 and "(working at the expected standard)" in page
    assert len(after) == len(before)
