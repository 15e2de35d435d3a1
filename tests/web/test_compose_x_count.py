"""The X count while typing agrees with the server and with X's own conformance suite.

The cases are twitter-text's (tests/web/data/twitter_text_weighted_emoji_cases.json: every case
of WeightedTweetsWithDiscountedEmojiCounterTest in conformance/validate.yml, with its source and
licence). In real Chromium each is typed into the composer, as the post's text and as a thread
part; the counter's `data-weighted-length` must equal the server's count
(publisher.text_rules.x_count, called directly) and the suite's expected weightedLength.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from publisher.text_rules import x_count
from tests.web.browser import LiveMegafon, Megafon, artifact, chromium

CASES = json.loads((Path(__file__).parent / "data" / "twitter_text_weighted_emoji_cases.json")
                   .read_text(encoding="utf-8"))["cases"]


def test_the_suite_is_complete_and_the_server_agrees_with_it():
    assert len(CASES) == 22
    assert [c["description"] for c in CASES if x_count(c["text"]) != c["expected"]["weightedLength"]
            ] == []


def test_the_server_counts_a_line_break_sent_by_a_browser_once():
    # A form sends a text area's line breaks as CR LF; X and the composer count each as one.
    assert x_count("Hej\r\nVärmland") == x_count("Hej\nVärmland") == 12
    assert x_count("Läs mer", " https://example.org/a ") == 7 + 2 + 23
    assert x_count("Läs mer https://example.org/a", "https://example.org/a") == 8 + 23


@pytest.mark.browser
def test_every_conformance_case_typed_in_the_composer_shows_the_servers_count(
        megafon: LiveMegafon, tmp_path: Path):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        person.log_in()
        person.open("/accounts/")
        person.connect_sandbox_account("x", f"Räknaren {tmp_path.name[-6:]}")
        person.open("/compose")
        page.locator("ul.checks input[data-platform=x]").first.check()
        counter = page.get_by_test_id("x-count")
        part_counter = page.get_by_test_id("x-part-count").first

        disagreements = []
        for case in CASES:
            expected = case["expected"]["weightedLength"]
            server = x_count(case["text"])
            page.fill("#text", case["text"])  # the input event updates the count synchronously
            page.fill("#thread-0", case["text"])
            shown = counter.get_attribute("data-weighted-length")
            shown_part = part_counter.get_attribute("data-weighted-length")
            if {shown, shown_part} != {str(expected)} or server != expected:
                disagreements.append((case["description"], shown, shown_part, server, expected))
        assert disagreements == [], "(case, composer, thread part, server, suite)"

        last = CASES[-1]["text"]
        assert counter.inner_text() == f"X: {x_count(last)} / 280"
        page.screenshot(path=artifact("compose-x-count.png"), full_page=True)
        context.close()


@pytest.mark.browser
def test_a_refused_text_is_refused_with_the_count_the_composer_showed(
        megafon: LiveMegafon, tmp_path: Path):
    """Through the real form: the server's message names the number the counter showed, for a
    case with a space at its end and for lines a browser sends with CR LF."""
    from playwright.sync_api import expect

    trailing = next(c["text"] for c in CASES if c["text"] != c["text"].strip())
    multiline = "\n".join(["Rad med åäö och 🇸🇪"] * 16)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        person = Megafon(context.new_page(), megafon)
        page = person.page
        person.log_in()
        person.switch_language()  # English
        person.open("/accounts/")
        person.connect_sandbox_account("x", f"Gränsen {tmp_path.name[-6:]}")
        for text in (trailing, multiline):
            person.open("/compose")
            page.locator("ul.checks input[data-platform=x]").first.check()
            page.fill("#text", text)
            typed = page.get_by_test_id("x-count").get_attribute("data-weighted-length")
            assert int(typed) > 280
            page.click("form.compose button[type=submit]")
            page.wait_for_load_state()
            message = page.locator(".field-error", has_text="Too long for X")
            expect(message).to_be_visible()
            said = re.search(r"(\d+) of 280", message.inner_text())
            assert said and said.group(1) == typed, message.inner_text()
            # the text came back as written, and the counter says the same again
            assert page.input_value("#text") == text
            expect(page.get_by_test_id("x-count")).to_have_attribute("data-weighted-length",
                                                                     typed)
        context.close()
