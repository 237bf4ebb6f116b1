"""The promise table (shared/compliance/notice/promises.md) against the privacy notice beside it.

Every sentence of the notice's behavioural sections has a row that quotes it word for word (up to
whitespace); each row names the code that enforces the sentence and the tests that prove it, or says
"not software" and why. The checks fail when a sentence has no row, a quote is not the notice's, a
named test does not exist (its file, its class, its function, parsed with ``ast``), a named code path
does not import, or a row is still ``PENDING: <who>`` (a promise someone is building: it is filled in
when the work lands, and until then the check fails).

The checker is the plain functions below; the tests at the end run it on a small made-up notice and
table, so each kind of failure is shown to fail.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
NOTICE_FOLDER = REPO_ROOT / "shared" / "compliance" / "notice"
TABLE = NOTICE_FOLDER / "promises.md"

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "Ltd.", "No.", "Mr.", "Mrs.", "Dr.", "cf.", "vs.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"‘'(])")
_CODE = re.compile(r"`([^`]+)`")
_NOT_SOFTWARE = re.compile(r"^not software\s*[:—-]\s*(\S.*)$", re.IGNORECASE)
_PENDING = re.compile(r"^PENDING:\s*([a-z]+)\s*$")
_HEADING_LIKE_WORDS = 12


def normalise(text: str) -> str:
    """The notice's words as one line: bullet marks dropped, every run of whitespace one space."""
    return re.sub(r"\s+", " ", text.replace("•", " ")).strip()


# --- the notice ---------------------------------------------------------------------------------

def logical_lines(body: str) -> list[str]:
    """A section's lines as the reader sees them: a bullet with the indented lines that continue it is
    one line; blank lines separate."""
    lines: list[str] = []
    in_bullet = False
    for raw in body.splitlines():
        if not raw.strip():
            in_bullet = False
            continue
        stripped = raw.strip()
        if stripped.startswith("•"):
            lines.append(stripped)
            in_bullet = True
        elif in_bullet and raw[:1].isspace():
            lines[-1] += " " + stripped
        else:
            lines.append(stripped)
            in_bullet = False
    return [normalise(line) for line in lines if normalise(line)]


def sentences(line: str) -> list[str]:
    """A line cut into sentences: after . ! or ? followed by a space and a capital, a digit, a quote or a
    bracket; not after an abbreviation (e.g., i.e., Ltd.)."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(line):
        if pieces and pieces[-1].endswith(_ABBREVIATIONS):
            pieces[-1] += " " + piece
        else:
            pieces.append(piece)
    return [piece.strip() for piece in pieces if piece.strip()]


@dataclass(frozen=True)
class Unit:
    section: str
    text: str
    start: int  # where it stands in the normalised notice
    end: int


@dataclass
class Notice:
    flat: str
    units: list[Unit]
    problems: list[str]


def _heading_like(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= _HEADING_LIKE_WORDS and not line.rstrip().endswith((".", ";", ":", "?", "!", ")", ","))


def read_notice(text: str, sections: list[tuple[str, bool]]) -> Notice:
    """Cut ``text`` at the listed headings (each a whole line, in the listed order) and split the
    behavioural sections into units (sentences), each with its place in the normalised notice."""
    problems: list[str] = []
    lines = text.splitlines()
    starts: list[tuple[int, str, bool]] = []
    cursor = 0
    for heading, behavioural in sections:
        found = next((n for n in range(cursor, len(lines)) if lines[n].strip() == heading), None)
        if found is None:
            problems.append(f"section heading not found in the notice (in this order): {heading!r}")
            continue
        starts.append((found, heading, behavioural))
        cursor = found + 1
    if starts and any(line.strip() for line in lines[:starts[0][0]]):
        problems.append("the notice has text before the first listed section heading")
    flat = normalise(text)
    units: list[Unit] = []
    position = 0
    for index, (line_no, heading, behavioural) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        body = "\n".join(lines[line_no + 1:end])
        position = flat.find(normalise(heading), position) + len(normalise(heading))
        for line in logical_lines(body):
            if not behavioural:
                raw = next((r for r in body.splitlines() if normalise(r) == line), "")
                if _heading_like(line) and not raw[:1].isspace() and not raw.strip().startswith("•"):
                    problems.append(f"a line that looks like a heading is in no listed section ({heading!r} "
                                    f"would swallow it): {line!r}")
                continue
            for sentence in sentences(line):
                start = flat.find(sentence, position)
                if start < 0:  # cannot happen for text taken from the notice itself
                    problems.append(f"could not place {sentence!r}")
                    continue
                units.append(Unit(heading, sentence, start, start + len(sentence)))
                position = start + len(sentence)
    return Notice(flat, units, problems)


# --- the table ----------------------------------------------------------------------------------

@dataclass
class Row:
    line: int
    quote: str
    code: str
    tests: str
    pending_by: str | None = None
    code_paths: list[str] = field(default_factory=list)
    node_ids: list[str] = field(default_factory=list)
    not_software: str | None = None


@dataclass
class Table:
    notice_file: str | None
    sections: list[tuple[str, bool]]
    labels: list[str]
    rows: list[Row]
    problems: list[str]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _unquote(cell: str) -> str:
    cell = cell.strip()
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        cell = cell[1:-1]
    return cell


def read_table(markdown: str) -> Table:
    """The table's parts: ``Notice: `file` ``, the sections table (``| Heading | Behavioural | ...``),
    the labels (``- "label"`` lines under ``## Labels``) and the promise rows (every table whose header
    starts ``| Sentence |``: sentence, enforced by, proved by, notes)."""
    problems: list[str] = []
    notice = re.search(r"^Notice:\s*`([^`]+)`", markdown, re.MULTILINE)
    sections: list[tuple[str, bool]] = []
    labels: list[str] = []
    rows: list[Row] = []
    kind = None
    in_labels = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            in_labels = stripped.lstrip("#").strip().lower() == "labels"
            kind = None
            continue
        if in_labels and stripped.startswith("- "):
            labels.append(normalise(_unquote(stripped[2:])))
            continue
        if not stripped.startswith("|"):
            kind = None
            continue
        cells = _cells(stripped)
        if kind is None:
            kind = {"heading": "sections", "sentence": "promises"}.get(cells[0].lower(), "other")
            continue
        if set(stripped) <= set("|-: "):
            continue
        if kind == "sections":
            if len(cells) < 2 or cells[1].lower() not in ("yes", "no"):
                problems.append(f"promises.md:{number}: a section row needs Behavioural yes or no")
                continue
            sections.append((cells[0], cells[1].lower() == "yes"))
        elif kind == "promises":
            if len(cells) < 3:
                problems.append(f"promises.md:{number}: a promise row needs sentence, enforced by and proved by")
                continue
            rows.append(_row(number, cells, problems))
    if notice is None:
        problems.append("promises.md names no notice file (a line `Notice: `privacy-notice-vN.txt``)")
    return Table(notice.group(1) if notice else None, sections, labels, rows, problems)


def _row(number: int, cells: list[str], problems: list[str]) -> Row:
    quote, code, tests = normalise(_unquote(cells[0])), cells[1], cells[2]
    row = Row(number, quote, code, tests)
    where = f"promises.md:{number}"
    if not quote:
        problems.append(f"{where}: the row quotes nothing")
    pending = [_PENDING.match(cell) for cell in (code, tests)]
    if any(pending):
        row.pending_by = sorted({match.group(1) for match in pending if match})[0]
        return row
    not_software = _NOT_SOFTWARE.match(code)
    if not_software:
        row.not_software = not_software.group(1)
    elif code.lower().startswith("not software"):
        problems.append(f"{where}: \"not software\" needs its reason (not software: why)")
    else:
        row.code_paths = _CODE.findall(code)
        if not row.code_paths:
            problems.append(f"{where}: name the enforcing code in backticks, or say \"not software: why\"")
    row.node_ids = _CODE.findall(tests)
    if row.code_paths and not row.node_ids:
        problems.append(f"{where}: name the tests that prove it (tests/path.py::test_name in backticks)")
    return row


# --- resolving what a row names -----------------------------------------------------------------

def node_id_problem(node_id: str, root: Path) -> str | None:
    """Why ``node_id`` (``tests/x.py::test_f``, ``tests/x.py::TestC::test_m``, with an optional
    ``[param]``) names no test, or None when it names one."""
    path, _, rest = node_id.partition("::")
    if not rest:
        return f"{node_id}: not a node id (tests/path.py::test_name)"
    parts = rest.split("::")
    parametrized = "[" in parts[-1]
    parts[-1] = parts[-1].split("[", 1)[0]
    file = root / path
    if not (path.startswith("tests/") and path.endswith(".py") and file.is_file()):
        return f"{node_id}: no test file {path}"
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    scope: list[ast.stmt] = tree.body
    for index, name in enumerate(parts):
        last = index == len(parts) - 1
        wanted = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
        found = next((node for node in scope if isinstance(node, wanted) and node.name == name), None)
        if found is None or not name.startswith("test" if last else "Test"):
            return f"{node_id}: {path} defines no {'test' if last else 'test class'} {name}"
        if last and parametrized:
            marks = [ast.unparse(d) for d in found.decorator_list]
            module_marks = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Assign)
                            and any(getattr(t, "id", "") == "pytestmark" for t in n.targets)]
            if not any("parametrize" in mark for mark in marks + module_marks):
                return f"{node_id}: {name} is not parametrized"
        scope = getattr(found, "body", [])
    return None


def code_path_problem(dotted: str, root: Path = REPO_ROOT) -> str | None:
    """Why ``dotted`` (a module, or a module then attributes; or a deployment file's repository path,
    with a slash) does not resolve, or None."""
    if "/" in dotted:
        return None if (root / dotted).is_file() and not dotted.startswith("tests/") else f"{dotted}: no such file"
    if dotted.split(".")[0] == "tests":
        return f"{dotted}: enforcing code lives outside tests/"
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            target = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name) and cut > 1:
                continue
            return f"{dotted}: {error}"
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return f"{dotted}: {'.'.join(parts[:cut])} has no {attribute!r} on the way"
            target = getattr(target, attribute)
        return None
    return f"{dotted}: no such module"


# --- the check ----------------------------------------------------------------------------------

@dataclass
class Report:
    problems: list[str]
    pending: list[Row]
    units: list[Unit]
    rows: list[Row]


def check(notice_text: str, table_markdown: str, *, root: Path) -> Report:
    """Every problem of the table against the notice: a sentence without a row, a quote that is not the
    notice's, a test that does not exist, a code path that does not resolve, and each pending row."""
    table = read_table(table_markdown)
    notice = read_notice(notice_text, table.sections)
    problems = table.problems + notice.problems
    if not table.sections:
        problems.append("promises.md lists no sections (| Heading | Behavioural | Why |)")
    spans: list[tuple[int, int]] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        where = f"promises.md:{row.line}"
        if row.quote in seen:
            problems.append(f"{where}: the same quote as line {seen[row.quote]}")
        seen.setdefault(row.quote, row.line)
        starts = [m.start() for m in re.finditer(re.escape(row.quote), notice.flat)] if row.quote else []
        if not starts:
            problems.append(f"{where}: not the notice's words: {row.quote!r}")
        spans += [(start, start + len(row.quote)) for start in starts]
        if row.pending_by:
            problems.append(f"{where}: PENDING: {row.pending_by}: {row.quote!r}")
            continue
        for node_id in row.node_ids:
            if (why := node_id_problem(node_id, root)) is not None:
                problems.append(f"{where}: {why}")
        for dotted in row.code_paths:
            if (why := code_path_problem(dotted, root)) is not None:
                problems.append(f"{where}: {why}")
    labels = set(table.labels)
    for label in sorted(labels - {unit.text for unit in notice.units}):
        problems.append(f"a label that is no line of a behavioural section: {label!r}")
    for unit in notice.units:
        if unit.text in labels:
            continue
        if not any(start <= unit.start and unit.end <= end for start, end in spans):
            problems.append(f"no row for a sentence of {unit.section!r}: {unit.text!r}")
    return Report(problems, [row for row in table.rows if row.pending_by], notice.units, table.rows)


def newest_notice() -> Path:
    def version(path: Path) -> int:
        return int(re.fullmatch(r"privacy-notice-v(\d+)\.txt", path.name).group(1))
    return max(NOTICE_FOLDER.glob("privacy-notice-v*.txt"), key=version)


def project_report() -> Report:
    table = TABLE.read_text(encoding="utf-8")
    named = read_table(table).notice_file
    notice = (NOTICE_FOLDER / named) if named else newest_notice()
    return check(notice.read_text(encoding="utf-8"), table, root=REPO_ROOT)


# --- the project's table ------------------------------------------------------------------------

def test_the_table_is_of_the_newest_notice():
    assert read_table(TABLE.read_text(encoding="utf-8")).notice_file == newest_notice().name


def test_every_behavioural_sentence_has_a_row_naming_real_tests_and_code():
    report = project_report()

    assert report.problems == []


def test_no_promise_is_left_pending():
    """Fails while a row says PENDING: <who>."""
    report = project_report()

    assert [(row.pending_by, row.quote) for row in report.pending] == []


# --- the checker, on a made-up notice -----------------------------------------------------------

NOTICE = """Title

Keeping

We delete visits after a year. We keep invoices for 8 years.
Category
  • a bullet that goes on
    and on;

About us

We are nice people.
"""

SECTIONS = """Notice: `privacy-notice-v1.txt`

| Heading | Behavioural | Why |
|---|---|---|
| Title | no | the title |
| Keeping | yes | retention |
| About us | no | who we are |

## Labels

- "Category"

## Promises

| Sentence | Enforced by | Proved by | Notes |
|---|---|---|---|
"""

GOOD_ROWS = [
    '| "We delete visits after a year." | `shared.clock.now` | `tests/test_example.py::test_visits_go` | |',
    "| We keep invoices for 8 years. | `shared.clock` | `tests/test_example.py::TestInvoices::test_kept` | |",
    "| a bullet that goes on and on; | not software: an example | — | |",
]

EXAMPLE_TESTS = """
import pytest

def test_visits_go():
    pass

class TestInvoices:
    @pytest.mark.parametrize("n", [1])
    def test_kept(self, n):
        pass

def helper():
    pass
"""


@pytest.fixture
def root(tmp_path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_example.py").write_text(EXAMPLE_TESTS)
    return tmp_path


def checked(root: Path, rows: list[str], *, notice: str = NOTICE) -> list[str]:
    return check(notice, SECTIONS + "\n".join(rows) + "\n", root=root).problems


def test_the_checker_passes_a_complete_table(root):
    report = check(NOTICE, SECTIONS + "\n".join(GOOD_ROWS) + "\n", root=root)

    assert report.problems == []
    assert [unit.text for unit in report.units] == [
        "We delete visits after a year.", "We keep invoices for 8 years.", "Category", "a bullet that goes on and on;"]


def test_the_checker_fails_on_a_sentence_without_a_row(root):
    assert checked(root, GOOD_ROWS[1:]) == ["no row for a sentence of 'Keeping': 'We delete visits after a year.'"]


def test_a_sentence_in_a_section_that_is_not_behavioural_needs_no_row(root):
    assert "We are nice people." in NOTICE and checked(root, GOOD_ROWS) == []


def test_the_checker_fails_on_a_test_that_does_not_exist(root):
    rows = [GOOD_ROWS[0].replace("test_visits_go", "test_visits_vanish"),
            GOOD_ROWS[1].replace("TestInvoices::test_kept", "TestInvoices::test_gone"),
            GOOD_ROWS[2]]

    assert checked(root, rows) == [
        "promises.md:17: tests/test_example.py::test_visits_vanish: tests/test_example.py defines no test test_visits_vanish",
        "promises.md:18: tests/test_example.py::TestInvoices::test_gone: tests/test_example.py defines no test test_gone"]


def test_the_checker_fails_on_a_missing_file_a_helper_or_a_bad_parameter(root):
    rows = [GOOD_ROWS[0].replace("tests/test_example.py::test_visits_go", "tests/test_missing.py::test_visits_go"),
            GOOD_ROWS[1].replace("TestInvoices::test_kept", "helper"),
            GOOD_ROWS[2].replace("| — |", "| `tests/test_example.py::test_visits_go[1]` |")]

    assert checked(root, rows) == [
        "promises.md:17: tests/test_missing.py::test_visits_go: no test file tests/test_missing.py",
        "promises.md:18: tests/test_example.py::helper: tests/test_example.py defines no test helper",
        "promises.md:19: tests/test_example.py::test_visits_go[1]: test_visits_go is not parametrized"]


def test_a_parametrized_test_in_a_class_resolves(root):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1].replace("test_kept`", "test_kept[1]`"), GOOD_ROWS[2]]

    assert checked(root, rows) == []


def test_the_checker_fails_on_a_code_path_that_does_not_resolve(root):
    rows = [GOOD_ROWS[0].replace("shared.clock.now", "shared.clock.never"),
            GOOD_ROWS[1].replace("`shared.clock`", "`shared.no_such_module.thing`"), GOOD_ROWS[2]]

    problems = checked(root, rows)

    assert problems[0] == "promises.md:17: shared.clock.never: shared.clock has no 'never' on the way"
    assert problems[1] == "promises.md:18: shared.no_such_module.thing: shared has no 'no_such_module' on the way"
    assert len(problems) == 2


def test_the_checker_fails_on_code_without_a_test_or_a_row_without_either(root):
    rows = [GOOD_ROWS[0].replace("`tests/test_example.py::test_visits_go`", "—"),
            GOOD_ROWS[1].replace("`shared.clock`", "the clock"),
            GOOD_ROWS[2].replace("not software: an example", "not software")]

    assert checked(root, rows) == [
        "promises.md:17: name the tests that prove it (tests/path.py::test_name in backticks)",
        "promises.md:18: name the enforcing code in backticks, or say \"not software: why\"",
        "promises.md:19: \"not software\" needs its reason (not software: why)"]


def test_the_checker_fails_on_a_quote_that_is_not_the_notices(root):
    rows = [GOOD_ROWS[0].replace("after a year", "after a while"), *GOOD_ROWS[1:]]

    assert checked(root, rows) == [
        "promises.md:17: not the notice's words: 'We delete visits after a while.'",
        "no row for a sentence of 'Keeping': 'We delete visits after a year.'"]


def test_a_quote_may_span_lines_and_sentences_with_the_whitespace_normalised(root):
    rows = ["| We delete visits after a year.   We keep invoices for 8 years. | `shared.clock` "
            "| `tests/test_example.py::test_visits_go` | |", GOOD_ROWS[2]]

    assert checked(root, rows) == []


def test_a_pending_row_fails(root):
    rows = [GOOD_ROWS[0], "| We keep invoices for 8 years. | PENDING: retention | PENDING: retention | |", GOOD_ROWS[2]]

    assert checked(root, rows) == ["promises.md:18: PENDING: retention: 'We keep invoices for 8 years.'"]


def test_a_missing_heading_or_a_new_section_is_a_failure(root):
    renamed = NOTICE.replace("About us", "About the company")
    new_section = NOTICE.replace("About us\n", "About us\n\nCookies\n\nWe set one cookie.\n")

    assert checked(root, GOOD_ROWS, notice=renamed)[0] == \
        "section heading not found in the notice (in this order): 'About us'"
    assert checked(root, GOOD_ROWS, notice=new_section) == [
        "a line that looks like a heading is in no listed section ('About us' would swallow it): 'Cookies'"]


def test_a_new_sentence_in_a_behavioural_section_is_a_failure(root):
    grown = NOTICE.replace("8 years.", "8 years. We tell you first.")

    assert checked(root, GOOD_ROWS, notice=grown) == ["no row for a sentence of 'Keeping': 'We tell you first.'"]


def test_a_label_must_be_a_line_of_a_behavioural_section(root):
    table = SECTIONS.replace('- "Category"', '- "Category"\n- "We are nice people."')

    assert check(NOTICE, table + "\n".join(GOOD_ROWS) + "\n", root=root).problems == [
        "a label that is no line of a behavioural section: 'We are nice people.'"]


def test_sentences_split_at_their_ends_but_not_after_abbreviations():
    assert sentences("Pupil Tracking Ltd (\u201cwe\u201d) act, i.e. we do. Then (rarely) more. 8 years.") == [
        "Pupil Tracking Ltd (\u201cwe\u201d) act, i.e. we do.", "Then (rarely) more.", "8 years."]
    assert sentences("A court order (e.g. Smith). Next") == ["A court order (e.g. Smith).", "Next"]
