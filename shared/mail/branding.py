"""How a school's mail looks: its name (from ``School``) and its accent colour (the school's own
Branding, kept in its schema by ``tenants.configuration``).

``shared`` never imports ``tenants``: the school app installs ``accent_reader`` when Django starts
(as ``shared.audit`` installs the automation recorder), and mail without it uses the default."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_ACCENT = "#1d4f91"
PRODUCT_NAME = "Pupil Tracking"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

# ``accent_reader(school) -> "#rrggbb" | None``: installed by tenants.configuration.
accent_reader: Callable[[object], str | None] | None = None


@dataclass(frozen=True)
class Brand:
    name: str
    accent_colour: str
    school: bool


def brand_for(school=None) -> Brand:
    if school is None:
        return Brand(name=PRODUCT_NAME, accent_colour=DEFAULT_ACCENT, school=False)
    colour = None
    if accent_reader is not None:
        try:
            colour = accent_reader(school)
        except Exception:  # noqa: BLE001 - a school's unreadable branding never stops its mail
            colour = None
    if not colour or not _COLOUR.match(colour):
        colour = DEFAULT_ACCENT
    return Brand(name=school.name, accent_colour=colour.lower(), school=True)
