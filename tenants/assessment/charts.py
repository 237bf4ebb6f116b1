"""Charts drawn on the server as inline SVG: no script and nothing fetched from anywhere, so they
show offline, print, and cannot leak a pupil's data to a chart service."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from tenants.assessment.selectors import CohortRow, SubjectProgress

WIDTH, HEIGHT, PAD = 520, 220, 36


def progress_chart(progress: SubjectProgress) -> SafeString:
    """A pupil's headline results over time, with the flight path to their target dashed."""
    if progress.aspect is None or not progress.results:
        return mark_safe('<p class="muted">No results yet.</p>')
    grades = list(progress.aspect.grade_set.grades.all()) if progress.aspect else []
    points = [r.grade.points for r in progress.results]
    if progress.target:
        points.append(progress.target.grade.points)
    low = min([*points, *(g.points for g in grades[:1])])
    high = max([*points, *(g.points for g in grades[-1:])])
    span_points = (high - low) or Decimal(1)
    days = [r.recorded_on for r in progress.results] + ([progress.target.due_on] if progress.target else [])
    first, last = min(days), max(days)
    span_days = (last - first).days or 1

    # Coordinates are formatted here: format_html escapes its arguments to text first.
    def x(day) -> str:
        return f"{PAD + (WIDTH - 2 * PAD) * (day - first).days / span_days:.1f}"

    def y(value) -> str:
        return f"{HEIGHT - PAD - (HEIGHT - 2 * PAD) * float((value - low) / span_points):.1f}"

    line = " ".join(f"{x(r.recorded_on)},{y(r.grade.points)}" for r in progress.results)
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="4"><title>{} on {}</title></circle>',
                            ((x(r.recorded_on), y(r.grade.points), r.grade.label, r.recorded_on.strftime("%d %b %Y"))
                             for r in progress.results))
    flight = ""
    if progress.target:
        base = progress.results[0]
        flight = format_html('<line class="flight" x1="{}" y1="{}" x2="{}" y2="{}"><title>Flight path to '
                             '{}</title></line>', x(base.recorded_on), y(base.grade.points), x(progress.target.due_on),
                             y(progress.target.grade.points), progress.target.grade.label)
    axis = format_html_join("", '<text x="4" y="{}">{}</text>',
                            ((f"{float(y(g.points)) + 4:.1f}", g.label) for g in grades if low <= g.points <= high))
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{} progress chart">{}{}'
        '<polyline class="results" points="{}"/>{}</svg>',
        WIDTH, HEIGHT, progress.subject.name, axis, flight, line, dots,
    )


def bar_chart(rows: list[CohortRow], *, value: str, unit: str = "") -> SafeString:
    """Horizontal bars, one per row, of ``value`` (an attribute of CohortRow)."""
    values = [getattr(row, value) for row in rows]
    top = max([float(v) for v in values if v is not None] or [1]) or 1
    bar_height, width = 22, 360
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="0" y="15">{}</text><rect x="150" y="2" width="{}" height="16"/>'
        '<text x="{}" y="15">{}</text></g>',
        ((i * bar_height, row.label, f"{(width - 200) * float(v or 0) / top:.1f}",
          f"{156 + (width - 200) * float(v or 0) / top:.1f}", "—" if v is None else f"{v}{unit}")
         for i, (row, v) in enumerate(zip(rows, values))),
    )
    # The text alternative reads the bars out: each row's label and value.
    described = "; ".join(f"{row.label}: {'no results' if v is None else f'{v}{unit}'}" for row, v in zip(rows, values))
    return format_html('<svg class="bars" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>', width + 40,
                       bar_height * len(rows) + 4, described, bars)
