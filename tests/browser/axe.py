"""axe-core for the browser tests: the copy `npm ci` installed from tests/browser/package-lock.json
(ops/test does it), put into each page under test from that file, never from a CDN.

The page keeps its Content-Security-Policy while axe runs (no ``bypass_csp``): the test sees what a
person's browser shows, blocked inline styles included, and a refusal still shows as a console
error. The policy refuses inline script, so axe is not added as a ``<script>`` tag
(``page.add_script_tag`` inlines it) but as the browser context's init script, which the browser
runs in every document it opens, outside the page's policy; the file is read once per context,
not sent again for every page.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA; a finding of these rules fails when serious or critical.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = ("serious", "critical")
# axe's "best practice" rules on a page's structure (WCAG 1.3.1 and 2.4.6 in spirit, tagged apart by
# axe): a finding of these fails whatever its impact.
STRUCTURE_RULES = ["heading-order", "page-has-heading-one", "landmark-one-main", "landmark-unique",
                   "landmark-no-duplicate-banner", "landmark-no-duplicate-contentinfo", "empty-table-header",
                   "empty-heading", "region", "skip-link"]


def axe_pinned_version() -> str:
    lock = json.loads((HERE / "package-lock.json").read_text())
    return lock["packages"]["node_modules/axe-core"]["version"]


def axe_missing() -> str | None:
    """Why axe cannot run here, or None when the pinned version is installed."""
    installed = AXE_JS.parent / "package.json"
    if not installed.exists():
        return ("axe-core is not installed in tests/browser/node_modules: ops/test installs it with `npm ci` "
                "(needs npm: apt-get install npm)")
    version = json.loads(installed.read_text())["version"]
    if version != axe_pinned_version():
        return f"tests/browser/node_modules has axe-core {version}, the lock pins {axe_pinned_version()}: run ops/test"
    return None


def axe_serve(context) -> None:
    """Make axe available in every page ``context`` opens (from the installed file)."""
    context.add_init_script(path=AXE_JS)


def axe_violations(page) -> list[str]:
    """The page's serious and critical WCAG 2.x A/AA violations and its structure rules' findings, one
    line each: rule, impact, help, the elements' selectors."""
    result = page.evaluate("""([tags, structure]) => axe.run(document, {
        runOnly: {type: 'rule', values: [...axe.getRules(tags).map(rule => rule.ruleId), ...structure]},
        resultTypes: ['violations'],
    })""", [AXE_TAGS, STRUCTURE_RULES])
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in FAILING_IMPACTS and violation["id"] not in STRUCTURE_RULES:
            continue
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:6])
        more = len(violation["nodes"]) - 6
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -- {targets}"
                     + (f" and {more} more" if more > 0 else ""))
    return found
