"""The cohort pages: measures at an assessment point (``tenants.assessment.measures``), the
transition matrix between two points, and the pupils behind a matrix cell or without a result.
Staff only; a teacher's cohort is the pupils of their groups (``pupils_visible_to``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import render

from portal.access import STAFF, role_required
from portal.forms import AnalysisForm, TransitionForm, grade_choice
from shared import clock
from shared.query import id_param
from tenants.assessment import calendar, charts, measures
from tenants.assessment.models import AssessmentPoint, Subject
from tenants.pupils import selectors as pupils
from tenants.pupils.models import Group

MISSING_SHOWN = 500  # names listed on the "no result" page (the count is always whole)


def _calendar():
    """The school's windows, and the current point with the one before it (ensuring a calendar)."""
    today = clock.today()
    calendar.calendar_ensure(today)
    all_windows = calendar.windows()
    current = calendar.point_current(today, all_windows)
    previous = calendar.point_previous(current, all_windows) if current else None
    return all_windows, current, previous


def _defaults(current, previous, *, year: str = "") -> dict:
    subject = Subject.objects.values_list("pk", flat=True).first()
    return {"subject": subject, "point": current.pk if current else None,
            "compare": (previous or current).pk if current else None, "year": year}


def _chosen(form, all_windows):
    data = form.cleaned_data
    return (data["subject"], calendar.window_of(data["point"], all_windows),
            calendar.window_of(data["compare"], all_windows), data.get("year") or "")


def _query(form, **extra) -> str:
    data = form.cleaned_data
    return urlencode({"subject": data["subject"].pk, "point": data["point"].pk, "compare": data["compare"].pk,
                      "year": data.get("year") or "", **extra})


@role_required(*STAFF)
def cohort_analysis(request):
    """% at the expected standard and at greater depth, progress against the flight path, and the
    change since the comparison point, for a subject: every pupil, then by year, teaching group
    and characteristic."""
    all_windows, current, previous = _calendar()
    form = AnalysisForm(request.GET, defaults=_defaults(current, previous))
    context = {"form": form, "min_group_size": measures.MIN_GROUP_SIZE, "suppressed_note": measures.SUPPRESSED_NOTE}
    if not form.is_valid():
        return render(request, "portal/cohort_analysis.html", context, status=400 if request.GET else 200)
    subject, window, comparison, year = _chosen(form, all_windows)
    result = measures.cohort_measures(
        pupils=pupils.pupil_list(request.user, year=year), subject=subject, window=window, comparison=comparison,
        groups=pupils.groups_visible_to(request.user).filter(kind=Group.Kind.TEACHING))
    context.update({
        "measures": result,
        "tables": [(key, heading, rows, charts.cohort_bars(rows, title=f"{subject.name}: {heading}",
                                                           point=window.point.name, comparison=comparison.point.name))
                   for key, heading, rows in result.breakdowns],
        "transition_query": _query(form, year=year or ""),
    })
    return render(request, "portal/cohort_analysis.html", context)


@role_required(*STAFF)
def transition_matrix(request):
    """Pupils counted by grade at one point (rows) against another (columns), for a subject and a
    year group; each cell links to its pupils."""
    all_windows, current, previous = _calendar()
    years = sorted(pupils.year_groups(), key=measures.natural_key)
    form = TransitionForm(request.GET, defaults=_defaults(current, previous, year=years[0] if years else ""))
    context = {"form": form}
    if not form.is_valid():
        return render(request, "portal/transition_matrix.html", context, status=400 if request.GET else 200)
    subject, later, earlier, year = _chosen(form, all_windows)
    matrix = measures.transition_matrix(pupils=pupils.pupil_list(request.user), subject=subject, year=year,
                                        earlier=earlier, later=later)
    base = _query(form)

    def cell_query(e, la) -> str:
        return f"{base}&{urlencode({'from': e or 'none', 'to': la or 'none'})}"

    context.update({
        "matrix": matrix,
        "rows": [(label, [(n, cell_query(e, la), later_label) for (la, n), (_, later_label) in zip(cells, matrix.axis)],
                  total) for e, label, cells, total in matrix.table()],
        "column_totals": [matrix.column_total(la) for la, _ in matrix.axis],
        "base_query": base,
    })
    return render(request, "portal/transition_matrix.html", context)


@role_required(*STAFF)
def transition_pupils(request):
    """The pupils in one cell of the transition matrix."""
    all_windows, current, previous = _calendar()
    form = TransitionForm(request.GET, defaults=_defaults(current, previous))
    earlier_grade, later_grade = grade_choice(request.GET.get("from")), grade_choice(request.GET.get("to"))
    if not form.is_valid():
        return render(request, "portal/transition_pupils.html", {"form": form}, status=400)
    subject, later, earlier, year = _chosen(form, all_windows)
    labels = dict(subject.aspects.filter(is_headline=True).values_list("grade_set__grades__pk", "grade_set__grades__label"))
    found = measures.transition_pupils(pupils=pupils.pupil_list(request.user), subject=subject, year=year,
                                       earlier=earlier, later=later, earlier_grade=earlier_grade, later_grade=later_grade)
    return render(request, "portal/transition_pupils.html", {
        "form": form, "subject": subject, "year": year, "earlier": earlier.point, "later": later.point,
        "earlier_label": labels.get(earlier_grade, "No result"), "later_label": labels.get(later_grade, "No result"),
        "pupils": found, "back_query": _query(form),
    })


@role_required(*STAFF)
def pupils_without_result(request):
    """The pupils (of those this account sees) with no headline result in any subject at a point."""
    all_windows, current, _ = _calendar()
    point_id = id_param(request.GET, "point")
    point = AssessmentPoint.objects.filter(pk=point_id).first() if point_id else current
    if point is None:
        return render(request, "portal/pupils_without_result.html", {"point": None, "count": 0, "pupils": []},
                      status=404 if point_id else 200)
    count, found = measures.pupils_without_result(pupils=pupils.pupil_list(request.user),
                                                  window=calendar.window_of(point, all_windows), limit=MISSING_SHOWN)
    return render(request, "portal/pupils_without_result.html", {
        "point": point, "window": calendar.window_of(point, all_windows), "count": count, "pupils": found,
        "shown": MISSING_SHOWN})
