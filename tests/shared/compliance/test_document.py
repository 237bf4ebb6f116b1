"""The privacy notice and the Terms of Use are shown with their structure (headings, numbered
sections, lists, tables with header cells, question-and-answer pairs) and with every word of the
published text, in its order: rendered, never rewritten."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from shared.compliance.document import document_html
from shared.compliance.models import NoticeVersion, TermsVersion
from tests.browser_fixtures import needs_chromium
from tests.helpers import host_client, school_client

REPO = Path(__file__).resolve().parents[3]
NOTICE = (REPO / "shared/compliance/notice/privacy-notice-v1.txt").read_text(encoding="utf-8")
TERMS = (REPO / "shared/compliance/terms/terms-of-use-v1.txt").read_text(encoding="utf-8")


def words_shown(rendered: str) -> list[str]:
    return html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split()


def words_published(text: str) -> list[str]:
    return text.replace("•", " ").split()


@pytest.mark.parametrize("text", [NOTICE, TERMS], ids=["notice", "terms"])
def test_every_word_is_shown_in_its_order(text):
    assert words_shown(document_html(text)) == words_published(text)


def test_the_notice_has_its_headings_lists_and_pairs():
    rendered = document_html(NOTICE, top=1)

    assert rendered.startswith('<h1 id="privacy-policy">Privacy Policy</h1>')
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", rendered)
    assert {"Data Retention", "Your privacy rights", "Security", "Contact us"} <= set(headings)
    assert "<h2" not in "".join(re.findall(r"<table.*?</table>", rendered, flags=re.S))  # table heads are no headings
    rights = re.search(r'<dl class="document-pairs"><dt>The right to be informed</dt>.*?</dl>', rendered).group(0)
    assert rights.count("<dt>") == 9
    assert "<li>you have consented to the processing for the specific purposes described in this notice;</li>" in rendered


def test_the_notices_tables_have_column_and_row_headers():
    tables = re.findall(r"<table.*?</table>", document_html(NOTICE), flags=re.S)
    assert len(tables) == 2
    purposes, retention = tables

    assert re.findall(r'<th scope="col">([^<]+)</th>', purposes) == [
        "Purpose/Activity", "Type of data", "Lawful basis for processing including basis of legitimate interest"]
    assert purposes.count('<th scope="row">') == 6
    assert ('<tr><th scope="row">When you use the Service as a client (school, teacher)</th><td><ul class="cell-list">'
            "<li>User Identity</li><li>IP Address</li></ul></td><td>Performance of a contract.") in purposes
    assert re.findall(r'<th scope="col">([^<]+)</th>', retention) == ["Category of personal data", "Length of retention"]
    assert ('<tr><th scope="row">Records relevant for tax purposes</th>'
            "<td>8 years from the end of the tax year to which the records relate</td></tr>") in retention
    assert retention.count("<tr>") == 7  # the header row and six categories


def test_the_terms_numbered_sections_are_headings():
    rendered = document_html(TERMS, top=2)

    assert rendered.startswith("<h2")
    sections = re.findall(r"<h3[^>]*>(\d+)\. [^<]+</h3>", rendered)
    assert sections == [str(n) for n in range(1, 13)]


def test_markup_in_a_text_is_shown_as_text():
    rendered = document_html("A <b>title</b>\n\n<script>alert(1)</script> is a paragraph.")

    assert "<script>" not in rendered and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "&lt;b&gt;title&lt;/b&gt;</h2>" in rendered


@pytest.mark.django_db
def test_the_privacy_page_renders_the_stored_text_which_stays_as_published(oakfield):
    stored = NoticeVersion.objects.latest("published_on").text

    page = host_client(oakfield.hostname).get("/privacy/").content.decode()

    assert '<h2 id="data-retention">Data Retention</h2>' in page and '<th scope="col">Length of retention</th>' in page
    assert NoticeVersion.objects.latest("published_on").text == stored


@pytest.mark.django_db
def test_the_school_sites_terms_page_shows_the_terms_sections(oakfield):
    page = school_client(oakfield, oakfield.demo.head_email).get("/terms/").content.decode()

    assert '<div class="notice-text document"><h2' in page
    assert re.search(r"<h3[^>]*>12\. Changes to these terms</h3>", page)
    assert TermsVersion.objects.latest("published_on").text.startswith("Pupil Tracking Ltd Terms of Use")


@needs_chromium
@pytest.mark.django_db
def test_in_chromium_the_notices_headings_are_styled_and_its_tables_fit_a_phone(site_server, browser, oakfield):
    port = site_server.rsplit(":", 1)[1]
    page = browser.new_page(viewport={"width": 375, "height": 667})
    page.goto(f"http://{oakfield.hostname}:{port}/privacy/")

    body = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('.document p')).fontSize)"))
    h2 = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('.document h2')).fontSize)"))
    assert h2 >= body * 1.2
    assert page.locator(".document table").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
