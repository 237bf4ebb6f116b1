"""Charts drawn on the server as inline SVG: no script and nothing fetched from anywhere, so they
show offline, print, and cannot leak a pupil's data to a chart service."""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from html import escape as _e  # quotes too; coordinates are numbers formatted here, never text

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from tenants.assessment.calendar import point_for
from tenants.assessment.selectors import CohortRow, SubjectProgress

WIDTH, HEIGHT, PAD = 520, 220, 36  # (kept for callers that size things after the old chart)

# The charts are drawn in a 300-unit-wide viewBox, the width of a phone's card, and CSS keeps them
# from growing past 22rem (site.css, "Charts"): so a 13-unit label is 12 px or more on a 375 px phone
# and at most about 15 px on a desktop. Okabe-Ito colours, and never colour alone: the results are a
# solid line with round markers, the flight path is dashed, the target a diamond with its words.
VIEW_WIDTH = 300
FONT = 13  # user units; >= 11 CSS px wherever the chart is at least 254 px wide
CHAR = FONT * 0.66  # a generous average width of a character of the system font
GAP = 5  # the least room between two labels
BLUE, VERMILLION, GREY, GRID, INK = "#0072B2", "#D55E00", "#4d4d4d", "#d9dee8", "#1d2433"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_YEAR_AT_END = re.compile(r"^(.*\S)\s+(\d{4}(?:/\d{2,4})?)$")


def _day(day: dt.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(1, chars - 1)] + "\u2026"


@functools.lru_cache(maxsize=512)
def _width(text: str) -> float:
    """About how wide ``text`` is drawn (at most): Debian's system font, DejaVu Sans, is a wide one."""
    return sum(FONT * (0.72 if c.isupper() else 0.64 if c.isdigit() else 0.32 if c.isspace() else 0.62)
               for c in text)


def _tick_lines(name: str, day: dt.date) -> tuple[str, str]:
    """A point's label on two short lines: "Autumn 2026" -> ("Autumn", "2026"); "Mock" -> ("Mock", "Dec 2026")."""
    match = _YEAR_AT_END.match(name.strip())
    if match:
        return _clip(match.group(1), 9), match.group(2)
    return _clip(name.strip(), 9), f"{_MONTHS[day.month - 1]} {day.year}"


def _tick_labels(xs: list[float], lines: list[tuple[str, str]]) -> list[tuple[str, str, str] | None]:
    """(anchor, head, tail) for each tick that has room for its label, None where the label would
    overlap the one before it (the first always has one) or run off the chart's edge."""
    placed, taken_until = [], float("-inf")
    for index, (tx, (head, tail)) in enumerate(zip(xs, lines)):
        width = max(_width(head), _width(tail))
        anchor, start = "middle", tx - width / 2
        if tx + width / 2 > VIEW_WIDTH:
            anchor, start = "end", tx - width
        elif start < 0:
            anchor, start = "start", tx
        if index == 0 or start >= taken_until + GAP:
            taken_until = start + width
            placed.append((anchor, head, tail))
        else:
            placed.append(None)
    return placed


def _legend(entries: list[tuple[str, str]], *, top: float) -> tuple[SafeString, float]:
    """Legend entries (swatch svg, words) laid left to right, wrapping at the chart's width; returns
    the markup and the height it takes."""
    x, row, parts = 0.0, 0, []
    for swatch, words in entries:
        width = 26 + _width(words)
        if x and x + width > VIEW_WIDTH:
            x, row = 0.0, row + 1
        y = top + row * (FONT + 7)
        parts.append(f'<g class="legend-entry" transform="translate({x:.1f},{y + FONT / 2:.1f})">{swatch}'
                     f'<text x="26" y="4">{_e(words)}</text></g>')
        x += width + 12
    return mark_safe("".join(parts)), (row + 1) * (FONT + 7)


def _diamond(cx: float, cy: float, r: float = 6.5) -> str:
    return f"M{cx:.1f},{cy - r:.1f} L{cx + r:.1f},{cy:.1f} L{cx:.1f},{cy + r:.1f} L{cx - r:.1f},{cy:.1f} Z"


SWATCH_RESULTS = mark_safe(f'<line class="results" x1="0" y1="0" x2="20" y2="0" stroke="{BLUE}" stroke-width="2.5"/>'
                           f'<circle class="result" cx="10" cy="0" r="4" fill="{BLUE}"/>')
SWATCH_FLIGHT = mark_safe(f'<line class="flight" x1="0" y1="0" x2="20" y2="0" stroke="{GREY}" stroke-width="2"'
                          ' stroke-dasharray="5 3"/>')
SWATCH_TARGET = mark_safe(f'<path class="target" d="{_diamond(10, 0, 5.5)}" fill="{VERMILLION}" stroke="{INK}"'
                          ' stroke-width="1"/>')


def progress_chart(progress: SubjectProgress) -> SafeString:
    """A pupil's headline results over time: the school's assessment points along the x-axis (each
    result at its date, the points as ticks), the grade set's labels up the y-axis, the flight path
    from the first result to the target dashed, and the target a diamond labelled with its grade and
    due date. An SVG with a title and a description for screen readers, followed by the same data as
    a small table in a <details> (the text alternative)."""
    subject = progress.subject.name
    if progress.aspect is None:
        return format_html('<p class="muted">{} has no headline assessment yet, so there is nothing to chart.</p>',
                           subject)
    if not progress.results:
        return format_html('<p class="muted">No results in {} yet.</p>', subject)
    results, target = progress.results, progress.target
    grades = list(progress.aspect.grade_set.grades.all())
    uid = f"progress-{progress.subject.pk}"

    # --- the ranges ---------------------------------------------------------------------------
    values = [r.grade.points for r in results] + ([target.grade.points] if target else [])
    low = min([*values, *(g.points for g in grades)])
    high = max([*values, *(g.points for g in grades)])
    span_points = float(high - low) or 1.0
    days = [r.recorded_on for r in results] + ([target.due_on] if target else [])
    first, last = min(days), max(days)
    window_points = [w.point for w in progress.windows]
    beyond = [p for p in window_points if p.date > last]
    shown = [p for p in window_points if first <= p.date <= last]
    if beyond and any(point_for(d, progress.windows) == beyond[0] for d in days):
        shown.append(beyond[0])  # a result or the target inside the next point's window: show that point
    if shown:
        first, last = min(first, shown[0].date), max(last, shown[-1].date)
    if first == last:
        first, last = first - dt.timedelta(days=45), last + dt.timedelta(days=45)
    span_days = (last - first).days

    # --- the layout ---------------------------------------------------------------------------
    legend_entries = [(SWATCH_RESULTS, "Results")]
    if target:
        legend_entries.append((SWATCH_FLIGHT, "Flight path"))
        legend_entries.append((SWATCH_TARGET, f"Target {_clip(target.grade.label, 10)} by {_day(target.due_on)}"))
    legend, legend_height = _legend(legend_entries, top=4)
    label_chars = min(6, max(len(g.label) for g in grades) if grades else 3)
    left = max([30.0, *(_width(_clip(g.label, label_chars)) + 9 for g in grades)])
    right = VIEW_WIDTH - 10
    top = legend_height + 18
    plot_height = 150.0
    bottom = top + plot_height
    height = bottom + 2 * FONT + 16

    def x(day: dt.date) -> float:
        return left + 10 + (right - left - 20) * (day - first).days / span_days

    def y(points) -> float:
        return bottom - 8 - (plot_height - 16) * float(points - low) / span_points

    # --- y-axis: grade labels, thinned so that they never overlap --------------------------------
    y_parts, last_y = [], None
    for grade in grades:
        gy = y(grade.points)
        if last_y is not None and last_y - gy < FONT + 3:
            continue
        last_y = gy
        y_parts.append(
            f'<g class="grade"><line class="gridline" x1="{left:.1f}" y1="{gy:.1f}" x2="{right:.1f}" y2="{gy:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/><text class="grade-label" x="{left - 5:.1f}" y="{gy + FONT * 0.35:.1f}" '
            f'text-anchor="end">{_e(_clip(grade.label, label_chars))}</text></g>')

    # --- x-axis: the assessment points as ticks, labels thinned so that they never overlap --------
    ticks = [(p.name, p.date) for p in shown] or [(_day(r.recorded_on), r.recorded_on) for r in results]
    lines = [_tick_lines(name, day) if shown else (_MONTHS[day.month - 1], str(day.year)) for name, day in ticks]
    xs = [x(day) for _, day in ticks]
    short = [(head if len(head) <= 4 else head[:3], tail) for head, tail in lines]  # "Autumn" -> "Aut"
    # ... and a year written only where it changes: "Aut 2025, Spr 2026, Sum, Aut, Spr 2027"
    once = [(head, "" if i and tail == short[i - 1][1] else tail) for i, (head, tail) in enumerate(short)]
    placed = _tick_labels(xs, lines)
    for attempt in (short, once):  # crowded: try the shorter forms, keep the one that labels the most
        if sum(p is not None for p in placed) == len(ticks):
            break
        tried = _tick_labels(xs, attempt)
        if sum(p is not None for p in tried) > sum(p is not None for p in placed):
            placed = tried
    x_parts = []
    for (name, day), label in zip(ticks, placed):
        tx = x(day)
        text = (f'<text class="tick-label" x="{tx:.1f}" y="{bottom + FONT + 4:.1f}" text-anchor="{label[0]}">'
                f'<tspan x="{tx:.1f}">{_e(label[1])}</tspan><tspan x="{tx:.1f}" dy="{FONT + 1}">{_e(label[2])}</tspan>'
                '</text>') if label else ""
        x_parts.append(f'<g class="tick" data-point="{_e(name)}"><title>{_e(name)} ({_day(day)})</title>'
                       f'<line x1="{tx:.1f}" y1="{top:.1f}" x2="{tx:.1f}" y2="{bottom + 4:.1f}" stroke="{GRID}" '
                       f'stroke-width="1"/>{text}</g>')

    # --- the data ---------------------------------------------------------------------------------
    flight = target_mark = ""
    if target:
        base = results[0]
        flight = format_html(
            '<line class="flight" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="5 3">'
            '<title>Flight path from {} to {}</title></line>', f"{x(base.recorded_on):.1f}",
            f"{y(base.grade.points):.1f}", f"{x(target.due_on):.1f}", f"{y(target.grade.points):.1f}", GREY,
            base.grade.label, target.grade.label)
        tx, ty = x(target.due_on), y(target.grade.points)
        words = f"{_clip(target.grade.label, 10)} by {_MONTHS[target.due_on.month - 1]} {target.due_on.year}"
        label_y = ty - 11 if ty - 11 - FONT > top - 12 else ty + 11 + FONT * 0.7
        anchor = "end" if tx + _width(words) / 2 > VIEW_WIDTH else "middle"
        target_mark = format_html(
            '<g class="target-mark"><path class="target" d="{}" fill="{}" stroke="{}" stroke-width="1">'
            '<title>Target {} by {}</title></path><text class="target-label" x="{}" y="{}" text-anchor="{}">{}</text>'
            '</g>', _diamond(tx, ty), VERMILLION, INK, target.grade.label, _day(target.due_on),
            f"{(tx + 6 if anchor == 'end' else tx):.1f}", f"{label_y:.1f}", anchor, words)
    line = ""
    if len(results) > 1:
        line = format_html('<polyline class="results" points="{}" fill="none" stroke="{}" stroke-width="2.5"/>',
                           " ".join(f"{x(r.recorded_on):.1f},{y(r.grade.points):.1f}" for r in results), BLUE)
    dots = mark_safe("".join(
        f'<circle class="result" cx="{x(r.recorded_on):.1f}" cy="{y(r.grade.points):.1f}" r="4.5" fill="{BLUE}" '
        f'stroke="#fff" stroke-width="1.5"><title>{_e(r.grade.label)} on {r.recorded_on:%d %b %Y}</title></circle>'
        for r in results))

    svg = format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{uid}-title {uid}-desc" '
        'font-size="{font}" fill="{ink}"><title id="{uid}-title">{title}</title><desc id="{uid}-desc">{desc}</desc>'
        '<g class="legend">{legend}</g><g class="y-axis">{y_axis}</g><g class="x-axis">{x_axis}</g>'
        '<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{grey}" stroke-width="1"/>'
        '{flight}{line}{dots}{target}</svg>',
        w=VIEW_WIDTH, h=f"{height:.0f}", uid=uid, font=FONT, ink=INK, title=f"{subject}: results over time",
        desc=describe_progress(progress), legend=legend, y_axis=mark_safe("".join(y_parts)),
        x_axis=mark_safe("".join(x_parts)), left=f"{left:.1f}", right=f"{right:.1f}", bottom=f"{bottom:.1f}",
        grey=GREY, flight=flight, line=line, dots=dots, target=target_mark)
    return format_html('<figure class="chart-figure">{}{}</figure>', svg, progress_table(progress))


def describe_progress(progress: SubjectProgress) -> str:
    """The chart in a few sentences, for its <desc>."""
    parts = []
    for result in progress.results:
        point = progress.point_of(result)
        parts.append(f"{result.grade.label} at {point.name} ({_day(result.recorded_on)})" if point
                     else f"{result.grade.label} on {_day(result.recorded_on)}")
    sentences = [f"Results in {progress.subject.name}: " + "; ".join(parts) + "."]
    if progress.target:
        sentences.append(f"Target {progress.target.grade.label} by {_day(progress.target.due_on)}; the flight "
                         f"path runs from the first result, {progress.results[0].grade.label}, to the target.")
    else:
        sentences.append("No target set.")
    sentences.append(f"Progress: {progress.status_words}.")
    return " ".join(sentences)


def progress_table(progress: SubjectProgress) -> SafeString:
    """The chart's data as a table, folded in a <details> (the chart's text alternative)."""
    rows = []
    for result in progress.results:
        point = progress.point_of(result)
        rows.append(f'<tr><td>{_e(point.name) if point else "—"}</td><td>{_day(result.recorded_on)}</td>'
                    f'<td>{_e(result.grade.label)}</td></tr>')
    if progress.target:
        rows.append(format_html('<tr class="target-row"><td>Target</td><td>by {}</td><td>{}</td></tr>',
                                _day(progress.target.due_on), progress.target.grade.label))
    return format_html(
        '<details class="chart-data"><summary>{} as a table</summary><table class="table"><thead><tr>'
        '<th scope="col">Assessment point</th><th scope="col">Date</th><th scope="col">Grade</th></tr></thead>'
        '<tbody>{}</tbody></table></details>', f"{progress.subject.name} results", mark_safe("".join(rows)))


BAR_TITLES = {"average_points": "Average points", "on_track_percent": "On or above track"}


def bar_chart(rows: list[CohortRow], *, value: str, unit: str = "") -> SafeString:
    """Horizontal bars, one per row, of ``value`` (an attribute of CohortRow). Each row's label sits
    on its own line above its bar with the value written at the end of the line, so long labels fit
    a phone and the numbers never depend on the bar's colour; a missing value is a dash and no bar.
    Percentages are drawn against 100, anything else against the largest value."""
    values = [getattr(row, value) for row in rows]
    known = [float(v) for v in values if v is not None]
    top = 100.0 if unit == "%" else (max(known, default=1.0) or 1.0)
    title = BAR_TITLES.get(value, value.replace("_", " ").capitalize())
    uid = f"bars-{value}-{uuid.uuid4().hex[:8]}"
    row_height = FONT + 25
    text_chars = int((VIEW_WIDTH - 56) / CHAR)

    def shown(v) -> str:
        return "no data" if v is None else f"{v}{unit}"

    bars = []
    for i, (row, v) in enumerate(zip(rows, values)):
        fill, number = "", "\u2014" if v is None else _e(f"{v}{unit}")
        if v is not None:
            width = VIEW_WIDTH * min(float(v), top) / top if float(v) > 0 else 0
            fill = (f'<rect class="bar-fill" x="0" y="{FONT + 6}" width="{width:.1f}" height="12" fill="{BLUE}">'
                    f'<title>{_e(row.label)}: {_e(shown(v))}</title></rect>')
        bars.append(f'<g class="bar" transform="translate(0,{i * row_height})"><text class="bar-label" x="0" y="{FONT}">'
                    f'{_e(_clip(row.label, text_chars))}</text><text class="bar-value" x="{VIEW_WIDTH}" y="{FONT}" '
                    f'text-anchor="end">{number}</text><rect class="bar-track" '
                    f'x="0" y="{FONT + 6}" width="{VIEW_WIDTH}" height="12" fill="#eef0f4"/>{fill}</g>')
    desc = "; ".join(f"{row.label}: {shown(v)}" for row, v in zip(rows, values)) or "No groups."
    return format_html(
        '<svg class="bars" viewBox="0 0 {} {}" role="img" aria-labelledby="{uid}-title {uid}-desc" font-size="{}" fill="{}">'
        '<title id="{uid}-title">{}</title><desc id="{uid}-desc">{}</desc>{}</svg>',
        VIEW_WIDTH, max(row_height * len(rows), row_height), FONT, INK, title, desc, mark_safe("".join(bars)), uid=uid)


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
