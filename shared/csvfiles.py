"""CSV files the product hands to people, made safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula, so a name or a subject line typed by anyone could run
one on the machine of whoever opens an export (OWASP, "CSV Injection"). Every such text cell gets a
leading ``'``, which spreadsheets show as text and hide. Numbers the product writes as numbers (int,
float, Decimal) stay numbers: a typed -2 cannot be a formula, while the text "-2" is neutralised as
OWASP says (it cannot tell a negative number from ``-2+3+cmd|...``).

Not for CSV that only PostgreSQL reads (``COPY ... FROM STDIN``): there the quote would become data.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """``value`` as a spreadsheet will not run it: text starting like a formula gets a ``'``."""
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeWriter:
    """``csv.writer`` whose every cell goes through ``csv_safe``."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row) -> Any:
        return self._writer.writerow([csv_safe(value) for value in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):
    """``csv.DictWriter`` whose every cell (the header's too) goes through ``csv_safe``."""

    def writerow(self, rowdict) -> Any:
        return super().writerow({key: csv_safe(value) for key, value in rowdict.items()})

    def writeheader(self) -> Any:
        return self.writer.writerow([csv_safe(name) for name in self.fieldnames])


def csv_writer(out, **options) -> SafeWriter:
    """The writer for every CSV file a person will open."""
    return SafeWriter(out, **options)
