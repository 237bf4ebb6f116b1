"""Each person's main pages in Debian's Chromium, at a desktop's 1366 px and a phone's 375 px: the page
opens, nothing widens it past the window, the browser logs no error, axe-core finds no serious or
critical WCAG 2.2 AA violation (nor any finding of its page-structure rules, tests/browser/axe.py), and
the privacy-notice bar, dismissed on a person's first page, stays away on their next ones (each person
is a browser of their own, and each sees it first). And a head teacher works the pupil list by keyboard
alone, from the skip link to a pupil's page, the focus visible throughout.

One browser and one live server for the module. To check a new page, add a line to PAGES (and, when
its URL takes an id, its entry in URL_ARGS)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.urls import reverse
from django_tenants.utils import schema_context

from ops.demo import DEMO_OPERATORS, DEMO_PASSWORD
from shared.clients.models import Complaint
from shared.operators.models import Operator
from tenants.pupils.models import Group, Pupil
from tests.browser.axe import axe_missing, axe_serve, axe_violations
from tests.browser_fixtures import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.helpers import current_code, product_served_in_thread

pytestmark = [needs_chromium, pytest.mark.django_db]

WIDTHS = {1366: 900, 375: 667}  # window width: height


@dataclass(frozen=True)
class Person:
    site: str  # "school" (Oakfield's site) or "console" (the vendor's host)
    email: str | None  # None: not signed in


PEOPLE = {
    "school visitor": Person("school", None),
    "head": Person("school", "head@oakfield.example"),  # the school admin, with a one-time code
    "teacher": Person("school", "j.patel@oakfield.example"),
    "parent": Person("school", "parent@oakfield.example"),
    "pupil": Person("school", "pupil@oakfield.example"),
    "console visitor": Person("console", None),
    **{f"operator: {role}": Person("console", email) for role, (email, _name) in DEMO_OPERATORS.items()},
}
ADMINISTRATOR, SUPPORT, BILLING, DPO = (f"operator: {role}" for role in (
    Operator.Role.ADMINISTRATOR, Operator.Role.SUPPORT, Operator.Role.BILLING, Operator.Role.DPO))

# (person, URL name), visited in this order; each signed-in person's first page is their sign-in page.
PAGES = [
    ("school visitor", "login"),
    ("school visitor", "password_reset"),
    ("school visitor", "privacy_notice"),
    ("head", "home"),
    ("head", "pupil_list"),
    ("head", "pupil_detail"),
    ("head", "pupil_report"),
    ("head", "marksheet"),
    ("head", "cohort_analysis"),
    ("head", "transition_matrix"),
    ("head", "transition_pupils"),
    ("head", "pupils_without_result"),
    ("head", "assessment_calendar"),
    ("head", "results_upload"),
    ("head", "users"),
    ("head", "parent_invitations"),
    ("head", "data_import"),
    ("head", "xporter_settings"),
    ("head", "retention"),
    ("head", "school_settings"),
    ("head", "automated_processes"),
    ("head", "rights"),
    ("head", "consents"),
    ("head", "rights_recipients"),
    ("head", "support_access"),
    ("head", "terms_of_use"),
    ("head", "second_factor"),
    ("teacher", "home"),
    ("teacher", "pupil_list"),
    ("teacher", "pupil_detail"),
    ("teacher", "marksheet"),
    ("teacher", "cohort_analysis"),
    ("teacher", "transition_matrix"),
    ("teacher", "assessment_calendar"),
    ("teacher", "results_upload"),
    ("parent", "home"),
    ("parent", "pupil_detail"),
    ("parent", "pupil_report"),
    ("pupil", "home"),
    ("pupil", "pupil_report"),
    ("console visitor", "landing"),
    ("console visitor", "login"),
    ("console visitor", "password_reset"),
    ("console visitor", "contact"),
    ("console visitor", "privacy_notice"),
    ("console visitor", "terms_of_use_public"),
    (ADMINISTRATOR, "home"),
    (ADMINISTRATOR, "client_list"),
    (ADMINISTRATOR, "client_detail"),
    (ADMINISTRATOR, "client_onboard"),
    (ADMINISTRATOR, "complaint_list"),
    (ADMINISTRATOR, "complaint_detail"),
    (ADMINISTRATOR, "invoice_list"),
    (ADMINISTRATOR, "prospect_list"),
    (ADMINISTRATOR, "mailing_lists"),
    (ADMINISTRATOR, "retention"),
    (ADMINISTRATOR, "subject_requests"),
    (ADMINISTRATOR, "breach_list"),
    (ADMINISTRATOR, "breach_new"),
    (ADMINISTRATOR, "disclosure_list"),
    (ADMINISTRATOR, "recipient_list"),
    (ADMINISTRATOR, "processing_record"),
    (ADMINISTRATOR, "notice_versions"),
    (ADMINISTRATOR, "terms_versions"),
    (ADMINISTRATOR, "support_requests"),
    (ADMINISTRATOR, "change_log"),
    (ADMINISTRATOR, "visit_log"),
    (ADMINISTRATOR, "dead_letters"),
    (SUPPORT, "home"),
    (SUPPORT, "client_detail"),
    (SUPPORT, "contact_new"),
    (SUPPORT, "support_requests"),
    (SUPPORT, "support_request_new"),
    (BILLING, "home"),
    (BILLING, "client_list"),
    (BILLING, "invoice_list"),
    (BILLING, "invoice_new"),
    (DPO, "home"),
    (DPO, "subject_requests"),
    (DPO, "breach_list"),
    (DPO, "processing_record"),
]

# The URL arguments of the pages that take ids: person -> ids -> kwargs.
URL_ARGS = {
    "pupil_detail": lambda person, ids: {"pupil_id": ids.pupil_of[person]},
    "pupil_report": lambda person, ids: {"pupil_id": ids.pupil_of[person]},
    "marksheet": lambda person, ids: {"group_id": ids.group},
    "client_detail": lambda person, ids: {"school_id": ids.school},
    "contact_new": lambda person, ids: {"school_id": ids.school},
    "invoice_new": lambda person, ids: {"school_id": ids.school},
    "support_request_new": lambda person, ids: {"school_id": ids.school},
    "complaint_detail": lambda person, ids: {"complaint_id": ids.complaint},
}
URLCONFS = {"school": "config.urls_tenants", "console": "config.urls_public"}


@dataclass(frozen=True)
class Ids:
    school: int
    group: int
    complaint: int
    pupil_of: dict[str, int]


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """The product in a thread of this process, for the whole module: the school's and the vendor's base URLs."""
    oakfield = settings.TEST_SCHOOLS["oakfield"]
    with django_db_blocker.unblock(), product_served_in_thread() as port:
        yield {"school": f"http://{oakfield.hostname}:{port}", "console": f"http://{settings.BASE_DOMAIN}:{port}"}


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the module (Playwright's sync API; see tests/browser_fixtures.browser)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def axe():
    missing = axe_missing()
    if missing:
        pytest.skip(missing)


@pytest.fixture
def ids(oakfield) -> Ids:
    with schema_context(oakfield.school.schema_name):
        group = Group.objects.filter(staff__email=PEOPLE["teacher"].email).order_by("pk").first()
        taught = group.pupils.filter(on_roll=True).order_by("surname", "forename", "id").first()
        child = Pupil.objects.get(parent_links__parent__user__email=PEOPLE["parent"].email)
        own = Pupil.objects.get(user__email=PEOPLE["pupil"].email)
    complaint = Complaint.objects.filter(school=oakfield.school).order_by("pk").first()
    return Ids(school=oakfield.school.pk, group=group.pk, complaint=complaint.pk,
               pupil_of={"head": taught.pk, "teacher": taught.pk, "parent": child.pk, "pupil": own.pk})


def page_url(person: str, name: str, ids: Ids) -> str:
    kwargs = URL_ARGS[name](person, ids) if name in URL_ARGS else {}
    return reverse(name, urlconf=URLCONFS[PEOPLE[person].site], kwargs=kwargs)


class Walk:
    """One person's browser: visits pages and notes what is wrong on each."""

    def __init__(self, browser, base: str, width: int):
        self.context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, base_url=base)
        axe_serve(self.context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"console: {message.text} ({message.location.get('url', '')})"))
        self.page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))
        self.problems: list[str] = []
        self.banner_dismissed = False

    def open(self, url: str):
        response = self.page.goto(url)
        self.page.wait_for_load_state()
        if response is None or response.status >= 400:
            self.problems.append(f"{url}: HTTP {response and response.status}")
        return response

    def check(self, url: str) -> None:
        """What is wrong on the page open now: overflow, console errors, axe's findings, the banner."""
        here = f"{url} (at {self.page.url})" if not self.page.url.endswith(url) else url
        overflow = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if overflow[0] > overflow[1]:
            wide = self.page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth).slice(0, 5).map(e => {
                    const names = typeof e.className === 'string' ? e.className : e.className.baseVal;
                    return `${e.tagName.toLowerCase()}${names ? '.' + names.split(' ').join('.') : ''}`
                           + ` (right edge ${Math.round(e.getBoundingClientRect().right)} px)`;
                })""")
            self.problems.append(f"{here}: {overflow[0]} px wide in a {overflow[1]} px window ({', '.join(wide)})")
        self.problems.extend(f"{here}: {error}" for error in self.errors)
        self.errors.clear()
        self.problems.extend(f"{here}: axe: {violation}" for violation in axe_violations(self.page))
        banner = self.page.locator("aside.notice-banner")
        if not self.banner_dismissed:
            if not banner.is_visible():
                self.problems.append(f"{here}: a person's first page shows no privacy-notice bar")
                return
            banner.get_by_role("button", name="Dismiss").click()
            self.page.wait_for_load_state()
            self.banner_dismissed = True
            if banner.count():
                self.problems.append(f"{here}: the privacy-notice bar is still there after Dismiss")
        elif banner.count():
            self.problems.append(f"{here}: the privacy-notice bar came back after it was dismissed")

    def sign_in(self, person: Person, login_url: str, oakfield) -> None:
        self.open(login_url)
        self.check(login_url)
        self.page.fill("#id_username", person.email)
        self.page.fill("#id_password", DEMO_PASSWORD)
        if person.site == "console":
            self.page.fill("#id_otp_token", current_code(person.email))
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()
        if self.page.url.endswith("/accounts/login/code/"):  # the school admin's second step
            self.check("/accounts/login/code/")
            with schema_context(oakfield.school.schema_name):
                code = current_code(person.email)
            self.page.fill("#id_code", code)
            self.page.click("main button[type=submit]")
            self.page.wait_for_load_state()
        if "/login/" in self.page.url:
            self.problems.append(f"{person.email} could not sign in: {self.page.locator('main').inner_text()[:300]}")


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("person", list(PEOPLE))
def test_each_persons_main_pages(server, chromium, axe, ids, oakfield, person, width):
    who = PEOPLE[person]
    pages = [name for each, name in PAGES if each == person]
    assert pages, f"PAGES lists no page for {person}"
    walk = Walk(chromium, server[who.site], width)
    try:
        if who.email:
            walk.sign_in(who, reverse("login", urlconf=URLCONFS[who.site]), oakfield)
            assert not walk.problems, "\n".join(walk.problems)
        for name in pages:
            url = page_url(person, name, ids)
            walk.open(url)
            walk.check(url)
    finally:
        walk.context.close()
    assert not walk.problems, f"{len(walk.problems)} problems for {person} at {width} px:\n" + "\n".join(walk.problems)


FOCUSED = """() => {
    const e = document.activeElement, style = getComputedStyle(e);
    const label = e.labels && e.labels.length ? (e.labels[0].querySelector('span') || e.labels[0]).textContent : '';
    return {text: (label || e.innerText || e.getAttribute('aria-label') || '').trim(), tag: e.tagName.toLowerCase(),
            href: e.getAttribute('href') || '', inMain: !!e.closest('main'),
            visible: e.matches(':focus-visible') && ((style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2)
                                                     || style.boxShadow !== 'none')};
}"""


def test_a_head_works_the_pupil_list_by_keyboard_with_the_focus_visible(server, chromium, oakfield):
    """From the top of the page: the skip link first, then the navigation, then the page's own
    actions (search, filters, the pupils), each with a visible focus; a search typed and sent by
    keyboard alone."""
    walk = Walk(chromium, server["school"], 1366)
    page = walk.page
    try:
        walk.sign_in(PEOPLE["head"], "/accounts/login/", oakfield)
        page.goto("/pupils/")
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED)["text"] == "Skip to main content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"

        page.goto("/pupils/")
        reached = []
        for _ in range(80):
            page.keyboard.press("Tab")
            reached.append(page.evaluate(FOCUSED))
            if reached[-1]["href"].startswith("/pupils/") and reached[-1]["inMain"]:
                break
        texts = [r["text"] for r in reached]
        assert texts[0] == "Skip to main content", texts
        assert {"Dashboard", "Pupils", "Analysis", "Users", "Settings", "Sign out"} <= set(texts), texts
        in_main = [r["text"] for r in reached if r["inMain"]]
        assert in_main[:2] == ["Name", "Year"] and "Filter" in in_main, in_main
        assert reached[-1]["href"].startswith("/pupils/"), texts  # a pupil's page, reached
        assert [r["text"] for r in reached if not r["visible"]] == []

        page.goto("/pupils/")
        for _ in range(texts.index("Name") + 1):
            page.keyboard.press("Tab")
        page.keyboard.type("a")
        page.keyboard.press("Enter")
        page.wait_for_url("**/pupils/?q=a*")
    finally:
        walk.context.close()
    assert not walk.problems, walk.problems


def test_the_checks_find_what_they_look_for(server, chromium, axe):
    """A check that cannot fail proves nothing: on a page made wrong on purpose, each finds its fault."""
    walk = Walk(chromium, server["console"], 375)
    try:
        walk.open("/contact/")
        walk.check("/contact/")  # the visitor's first page: the bar is there, and is dismissed
        assert walk.problems == []
        walk.page.evaluate("""() => {
            document.querySelector('main').insertAdjacentHTML('beforeend',
                '<input type="text" name="unlabelled"><div class="wide"></div><p class="low">faint</p><h4>skipped</h4>');
            // a script may style (the CSP bars only style attributes in the markup)
            Object.assign(document.querySelector('main .wide').style, {width: '500px', height: '1rem'});
            document.querySelector('main .low').style.color = '#bbb';
        }""")
        walk.page.evaluate("() => { setTimeout(() => { throw new Error('a deliberate script error'); }); }")
        walk.page.wait_for_timeout(50)
        walk.check("/contact/ made wrong")
    finally:
        walk.context.close()
    found = "\n".join(walk.problems)
    assert "px wide in a 375 px window" in found, found
    assert "axe: label (critical)" in found and "axe: color-contrast (serious)" in found, found
    assert "axe: heading-order (moderate)" in found, found  # a structure rule: fails whatever its impact
    assert "script error: a deliberate script error" in found, found
    assert "the privacy-notice bar came back" not in found, found
