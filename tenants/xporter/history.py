"""The import history in words a school admin reads: an ImportRun's counts ("Students.created":
12, ...) as "12 pupils added, 3 left, 40 results recorded"."""

from __future__ import annotations

import re
from collections.abc import Mapping

# table -> (one, many); what -> the verb. What is not listed reads "<n> <table> <what>".
NOUNS = {
    "Students": ("pupil", "pupils"), "Contacts": ("parent or carer", "parents and carers"),
    "StudentContact": ("link between a pupil and a parent", "links between pupils and parents"),
    "Group": ("group", "groups"), "Subjects": ("subject", "subjects"), "GradeSets": ("grade set", "grade sets"),
    "Aspects": ("assessment", "assessments"), "AsmResults": ("result", "results"), "Targets": ("target", "targets"),
    "Groups": ("group", "groups"), "StudentContacts": ("link between a pupil and a parent", "links between pupils and parents"),
    "Staff": ("staff member", "staff members"),
}
VERBS = {"created": "added", "updated": "updated", "deleted": "removed", "left": "left"}
OVERRIDES = {("AsmResults", "created"): "recorded", ("AsmResults", "updated"): "corrected", ("Targets", "created"): "set"}
# Who was left out, and why, in the admin's words.
LEFT_OUT = {
    ("Students", "erased, not imported"): ("erased pupil not imported again", "erased pupils not imported again"),
    ("Contacts", "erased, not imported"): ("erased parent not imported again", "erased parents not imported again"),
    ("Students", "restricted, left as they are"): ("pupil with restricted processing left as they were",
                                                   "pupils with restricted processing left as they were"),
    ("Group", "house groups, not imported"): ("house group not imported", "house groups not imported"),
    ("Aspects", "not graded, not imported"): ("assessment without grades not imported", "assessments without grades not imported"),
    ("AsmResults", "of an aspect that is not graded, not imported"): ("result without a grade not imported",
                                                                      "results without a grade not imported"),
    ("AsmResults", "in a locked assessment point, left as they are"): (
        "change to a locked assessment point's results not imported",
        "changes to a locked assessment point's results not imported"),
}


def _words(name: str) -> str:
    """A table's name not listed above, in words: "AssessmentResults" is "assessment results"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").lower()


def import_summary(counts: Mapping[str, int]) -> str:
    """What changed, the unchanged rows aside: "12 pupils added, 3 left, 40 results recorded", or
    "no changes"."""
    parts = []
    order = list(NOUNS)
    for key, n in sorted(counts.items(), key=lambda item: (order.index(t) if (t := item[0].partition(".")[0]) in order
                                                           else len(order), item[0])):
        table, _, what = key.partition(".")
        if not n or what == "unchanged":
            continue
        if (table, what) in LEFT_OUT:
            one, many = LEFT_OUT[table, what]
            parts.append(f"{n} {one if n == 1 else many}")
            continue
        verb = OVERRIDES.get((table, what)) or VERBS.get(what)
        one, many = NOUNS.get(table) or (_words(table),) * 2
        if verb is None:
            parts.append(f"{n} {many} {_words(what)}")
        elif what == "left":
            parts.append(f"{n} {one if n == 1 else many} left")
        else:
            parts.append(f"{n} {one if n == 1 else many} {verb}")
    return ", ".join(parts) or "no changes"
