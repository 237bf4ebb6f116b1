"""axe-core for the browser tests: the copy `npm ci` installed from tests/browser/package-lock.json
(ops/test does it), injected into the page under test from that file, never from a CDN.

The page keeps its Content-Security-Policy while axe runs (no ``bypass_csp``): the test sees what a
person's browser shows, blocked inline styles included, and a refusal still shows as a console
error. So the script is not inlined (the policy refuses inline script) but served at a same-origin
address that only the test's browser knows, fulfilled from the installed file."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
AXE_ROUTE = "/__browser-tests__/axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = ("serious", "critical")


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
    """Let every page of ``context`` load axe from its own origin (fulfilled from the file)."""
    context.route(f"**{AXE_ROUTE}", lambda route: route.fulfill(path=AXE_JS, content_type="text/javascript"))


def axe_violations(page) -> list[str]:
    """The page's serious and critical WCAG 2.x A/AA violations, one line each: rule, impact, help,
    the elements' selectors."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_ROUTE)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS)
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:6])
        more = len(violation["nodes"]) - 6
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -- {targets}"
                     + (f" and {more} more" if more > 0 else ""))
    return found
