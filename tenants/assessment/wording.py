"""A pupil's progress in a subject put into words: the short form staff read beside the chart, and
the same in plain language for parents and pupils (no "flight path", no points).

Pure functions of what ``selectors.pupil_progress`` read: no queries of their own, provided the
grade set's ``expected_from`` / ``greater_depth_from`` were read with it."""

from __future__ import annotations

from tenants.assessment.models import Grade, GradeSet, Result, Target
from tenants.assessment.progress import ABOVE, BELOW, ON
from tenants.assessment.standards import BELOW as WORKING_TOWARDS
from tenants.assessment.standards import EXPECTED, GREATER_DEPTH, standard_of

# Staff's words for each status, beside the badge.
STATUS_WORDS = {
    BELOW: "Below the flight path to the target",
    ON: "On track: on the flight path to the target",
    ABOVE: "Above the flight path to the target",
}
# What a grade means against the expected standard, in words a parent uses.
STANDARD_WORDS = {
    WORKING_TOWARDS: "working towards the expected standard",
    EXPECTED: "working at the expected standard",
    GREATER_DEPTH: "working at greater depth",
}


def standard_words(grade: Grade, grade_set: GradeSet | None) -> str:
    """"working at the expected standard" and the like; empty when the grade set says nothing."""
    if grade_set is None:
        return ""
    standard = standard_of(grade, grade_set)
    return STANDARD_WORDS.get(standard, "") if standard else ""


def unknown_reason(results: list[Result], target: Target | None) -> str:
    """Why there is no status yet, in a few words."""
    if not results:
        return "No results yet"
    if target is None:
        return "No target set"
    return "Too early to say: needs a second result"


def status_words(status: str, results: list[Result], target: Target | None) -> str:
    return STATUS_WORDS.get(status) or unknown_reason(results, target)


def plain_summary(*, forename: str, subject: str, status: str, results: list[Result], target: Target | None,
                  grade_set: GradeSet | None, latest_point: str | None) -> str:
    """Two or three sentences a parent can read aloud, for example "Amira's latest result in
    Maths, from Autumn 2026 (24 November 2026), is EXS: working at the expected standard. Amira is
    on track to reach the target of GDS- by 10 July 2027."."""
    who = forename or "Your child"
    sentences = []
    if results:
        latest = results[-1]
        when = f"{latest_point} ({latest.recorded_on:%-d %B %Y})" if latest_point else f"{latest.recorded_on:%-d %B %Y}"
        meaning = standard_words(latest.grade, grade_set)
        sentences.append(f"{who}'s latest result in {subject}, from {when}, is {latest.grade.label}"
                         + (f": {meaning}." if meaning else "."))
    else:
        sentences.append(f"There are no results for {who} in {subject} yet.")
    if target is None:
        sentences.append(f"No target has been set in {subject} yet.")
    else:
        aim = f"the target of {target.grade.label} by {target.due_on:%-d %B %Y}"
        if status == ON:
            sentences.append(f"{who} is on track to reach {aim}.")
        elif status == ABOVE:
            sentences.append(f"{who} is ahead of where we would expect at this point on the way to {aim}.")
        elif status == BELOW:
            sentences.append(f"{who} is behind where we would expect at this point on the way to {aim}.")
        elif results:
            sentences.append(f"It is too early to say whether {who} is on track for {aim}: that needs a second "
                             "result.")
        else:
            sentences.append(f"{who}'s target is {target.grade.label} by {target.due_on:%-d %B %Y}.")
    return " ".join(sentences)
