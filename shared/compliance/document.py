"""The privacy notice and the Terms of Use as HTML: their published text is plain text, kept exactly as
published; this reads its structure back (headings, numbered sections, lists, tables, question and
answer pairs) and renders it, changing no word.

The text's shape (``/work/shared/seed/privacy-notice.txt`` and every version since): blocks separated
by blank lines. A block of one short line with no closing punctuation is a heading ("Data Retention",
"3. Processing only on ..."). Two or more headings in a row followed by a block of several lines are
a table: the headings are its columns, the block its cells, row by row (two columns: a line each; three
columns: the first line, then the short lines of the middle column, then one long line). Lines that
start with a bullet (•) are a list; an indented line without one continues the item above. Any other
block of several lines, an even number, is a list of pairs (a question and its answer, a right and
what it means). Everything else is a paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

BULLET = "•"
HEADING_MAX = 100
SHORT_CELL = 40  # a middle-column item of a three-column table ("User Identity") is at most this long
NUMBERED = re.compile(r"^\d+\.\s+\S")


@dataclass
class Block:
    lines: list[str]

    @property
    def single(self) -> bool:
        return len(self.lines) == 1

    @property
    def heading(self) -> bool:
        line = self.lines[0].strip()
        return (self.single and not line.startswith(BULLET) and len(line) <= HEADING_MAX
                and (NUMBERED.match(line) is not None or line[-1] not in ".:;,!?"))

    @property
    def bullets(self) -> bool:
        return self.lines[0].strip().startswith(BULLET)


def blocks_of(text: str) -> list[Block]:
    blocks, current = [], []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(Block(current))
            current = []
    if current:
        blocks.append(Block(current))
    return blocks


def _list(lines: list[str]) -> str:
    items: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(BULLET):
            items.append(stripped[len(BULLET):].strip())
        elif items:
            items[-1] += " " + stripped  # an indented line ("or") continues the item above
        else:
            items.append(stripped)
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def _rows(lines: list[str], columns: int) -> list[list[str | list[str]]]:
    lines = [line.strip() for line in lines]
    if columns == 2:
        return [[lines[i], lines[i + 1] if i + 1 < len(lines) else ""] for i in range(0, len(lines), 2)]
    rows, i = [], 0
    while i < len(lines):
        first, i = lines[i], i + 1
        middle = []
        while i < len(lines) - 1 and len(lines[i]) <= SHORT_CELL:
            middle.append(lines[i])
            i += 1
        last = lines[i] if i < len(lines) else ""
        rows.append([first, middle, last])
        i += 1
    return rows


def _cell(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "<ul class=\"cell-list\">" + "".join(f"<li>{escape(v)}</li>" for v in value) + "</ul>"
    return escape(value)


def _table(headers: list[str], body: Block) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    rows = []
    for first, *rest in _rows(body.lines, len(headers)):
        rows.append(f'<tr><th scope="row">{_cell(first)}</th>' + "".join(f"<td>{_cell(c)}</td>" for c in rest) + "</tr>")
    return (f'<div class="table-scroll"><table class="table document-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _pairs(lines: list[str]) -> str:
    lines = [line.strip() for line in lines]
    return '<dl class="document-pairs">' + "".join(
        f"<dt>{escape(lines[i])}</dt><dd>{escape(lines[i + 1])}</dd>" for i in range(0, len(lines), 2)) + "</dl>"


def document_html(text: str, *, top: int = 2) -> SafeString:
    """``text`` as HTML: the first heading at level ``top`` (its title), the others one below it."""
    blocks = blocks_of(text)
    out: list[str] = []
    seen_heading = False
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.heading:
            run = i
            while run < len(blocks) and blocks[run].heading:
                run += 1
            body = blocks[run] if run < len(blocks) else None
            if run - i >= 2 and body is not None and not body.single and not body.bullets:
                out.append(_table([b.lines[0].strip() for b in blocks[i:run]], body))
                i = run + 1
                continue
            line = block.lines[0].strip()
            level = top if not seen_heading else min(top + 1, 6)
            seen_heading = True
            out.append(f'<h{level} id="{slugify(line)[:60]}">{escape(line)}</h{level}>')
        elif block.bullets:
            out.append(_list(block.lines))
        elif block.single:
            out.append(f"<p>{escape(block.lines[0].strip())}</p>")
        else:
            plain = [line for line in block.lines if not line.strip().startswith(BULLET)]
            first_bullet = next((n for n, line in enumerate(block.lines) if line.strip().startswith(BULLET)), None)
            if first_bullet is not None and len(plain) == first_bullet:
                head, tail = block.lines[:first_bullet], block.lines[first_bullet:]
            else:
                head, tail = block.lines, []
            if len(head) % 2 == 0:
                out.append(_pairs(head))
            else:
                out.append("<p>" + "<br>".join(escape(line.strip()) for line in head) + "</p>")
            if tail:
                out.append(_list(tail))
        i += 1
    return mark_safe("\n".join(out))  # noqa: S308 (every piece of text above is escaped)
