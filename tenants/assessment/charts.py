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
    return format_html('<svg class="bars" viewBox="0 0 {} {}" role="img">{}</svg>', width + 40, bar_height * len(rows) + 4, bars)


# Okabe & Ito's palette, which holds for every common colour-vision deficiency.
_NOW, _BEFORE = "#0072B2", "#E69F00"


def cohort_bars(rows, *, title: str, point: str, comparison: str) -> SafeString:
    """% at the expected standard or above for each row (a ``measures.MeasureRow``), a bar at
    ``point`` and one at ``comparison`` on a 0-100% scale, each labelled with its figure and count.
    A row too small to show a percentage says so instead of drawing a bar. Narrow (360 wide) so
    that its 14 px labels are still over 11 px on a 375 px phone."""
    width, label_h, bar_h, gap = 360, 18, 12, 12
    row_h = label_h + 2 * bar_h + 4 + gap
    top = 30  # the legend

    def figure(attainment) -> str:
        if attainment is None:
            return "—"
        if attainment.expected_percent is not None:
            return f"{attainment.expected_percent}% ({attainment.expected} of {attainment.assessed})"
        if attainment.suppressed:
            return f"not shown ({attainment.assessed} assessed)"
        return "no results"

    parts, described = [], []
    for i, row in enumerate(rows):
        y = top + i * row_h
        now, before = row.at_point, row.at_comparison
        parts.append(format_html('<text x="0" y="{}" font-size="14" font-weight="600" fill="#1d2433">{}</text>',
                                 y + 14, row.label))
        for j, (attainment, colour, name) in enumerate(((now, _NOW, point), (before, _BEFORE, comparison))):
            bar_y = y + label_h + j * (bar_h + 4)
            shown = attainment.expected_percent if attainment is not None else None
            if shown is not None:
                parts.append(format_html('<rect x="0" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                                         bar_y, f"{(width - 140) * shown / 100:.1f}", bar_h, colour, name,
                                         figure(attainment)))
            parts.append(format_html('<text x="{}" y="{}" font-size="13" fill="#1d2433" text-anchor="end">{}</text>',
                                     width, bar_y + bar_h - 1, figure(attainment)))
        described.append(f"{row.label}: {figure(now)} at {point}; {figure(before)} at {comparison}")
    legend = format_html(
        '<rect x="0" y="4" width="14" height="14" fill="{}"/><text x="20" y="16" font-size="13" fill="#1d2433">{}</text>'
        '<rect x="{}" y="4" width="14" height="14" fill="{}"/><text x="{}" y="16" font-size="13" fill="#1d2433">{}</text>',
        _NOW, point, 180, _BEFORE, 200, comparison)
    height = top + row_h * len(rows)
    return format_html(
        '<svg class="cohort-chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-t {}-d">'
        '<title id="{}-t">{}: % at the expected standard or above</title><desc id="{}-d">{}</desc>{}{}</svg>',
        width, height, _chart_id(title), _chart_id(title), _chart_id(title), title, _chart_id(title),
        ". ".join(described) + ".", legend, mark_safe("".join(parts)))


def _chart_id(title: str) -> str:
    return "chart-" + "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in title.lower()).split())
