"""Two writers in two Chromium contexts type into one paragraph live, also across an outage."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import SAVED, editor_text, open_section, sign_in


def _box(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_label(exactly("Text"))


def _type_at_end(page: Page, words: str) -> None:
    box = _box(page)
    box.click()
    box.press("Control+End")
    box.press_sequentially(words, delay=15)


@pytest.mark.browser
def test_two_writers_see_each_other_live_and_after_being_offline(demo, new_page) -> None:
    anna, ola = new_page(), new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    sign_in(ola, demo.url, "ola@demo.engage")
    open_section(anna, "Działania")
    open_section(ola, "Działania")
    for page in (anna, ola):
        expect(
            page.get_by_role("status").filter(has_text=re.compile(r"Saved|Connect"))
        ).to_be_visible()
    expect(anna.locator("[data-live-who]")).to_contain_text("Ola Nordmann")

    # At the same time, in the same paragraph.
    _type_at_end(anna, " Anna pisze o Gdańsku.")
    _type_at_end(ola, " Ola skriver om Kristiansand.")
    started = time.monotonic()
    for page in (anna, ola):
        expect(_box(page)).to_contain_text("Anna pisze o Gdańsku.", timeout=2_000)
        expect(_box(page)).to_contain_text("Ola skriver om Kristiansand.", timeout=2_000)
    assert time.monotonic() - started < 4
    expect(anna.locator(".live-caret-label")).to_have_text("Ola Nordmann")
    expect(ola.locator(".live-caret-label")).to_have_text("Anna Kowalska")
    assert editor_text(anna) == editor_text(ola)

    # Ola's browser goes offline for 20 s while both type; then it comes back.
    ola.context.set_offline(True)
    expect(ola.get_by_role("status").filter(has_text="Offline")).to_be_visible(timeout=10_000)
    _type_at_end(ola, " Offline skrev Ola dette.")
    _type_at_end(anna, " Anna pisze dalej.")
    time.sleep(20)
    assert "Offline skrev Ola dette." not in editor_text(anna)
    ola.context.set_offline(False)
    for page in (anna, ola):
        expect(_box(page)).to_contain_text("Offline skrev Ola dette.", timeout=15_000)
        expect(_box(page)).to_contain_text("Anna pisze dalej.", timeout=15_000)
        expect(page.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    assert editor_text(anna) == editor_text(ola)

    # The section's text (and history) hold every sentence, and no conflict revision.
    anna.get_by_role("link", name=exactly("History")).click()
    history = anna.locator("main")
    expect(history).not_to_contain_text("conflict")
    anna.get_by_role("link", name=re.compile("Działania")).first.click()
    preview = editor_text(anna)
    for sentence in (
        "Anna pisze o Gdańsku.",
        "Ola skriver om Kristiansand.",
        "Offline skrev Ola dette.",
        "Anna pisze dalej.",
    ):
        assert sentence in preview


WORD_HTML = (
    "<html><body><!--StartFragment-->"
    "<p class=MsoNormal style='margin:0;font-family:Calibri'><b><span style='color:red'>"
    "Wklejone</span></b><span style='font-size:14pt'> z Worda</span></p>"
    "<h1 style='color:blue'>Nagłówek</h1>"
    "<table><tr><td>komórka</td></tr></table>"
    "<!--EndFragment--></body></html>"
)


@pytest.mark.browser
def test_the_toolbar_and_a_word_paste_come_out_in_the_word_export(demo, new_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ola = new_page()
    sign_in(ola, demo.url, "ola@demo.engage")
    open_section(ola, "Działania")
    box = _box(ola)
    expect(ola.get_by_role("status").filter(has_text=re.compile(r"Saved|Connect"))).to_be_visible()
    box.click()
    box.press("Control+a")
    box.press("Delete")
    ola.get_by_role("button", name=exactly("Bold")).click()
    expect(ola.get_by_role("button", name=exactly("Bold"))).to_have_attribute(
        "aria-pressed", "true"
    )
    box.press_sequentially("Ważne")
    ola.get_by_role("button", name=exactly("Bold")).click()
    box.press_sequentially(" i ")
    box.press("Control+i")
    box.press_sequentially("pochyłe")
    box.press("Control+i")
    box.press_sequentially(" strona")
    ola.once("dialog", lambda dialog: dialog.accept("https://example.org/plan"))
    for _ in range(len("strona")):
        box.press("Shift+ArrowLeft")
    ola.get_by_role("button", name=exactly("Link")).click()
    box.press("End")
    box.press("Enter")
    ola.get_by_role("button", name=exactly("Bulleted list")).click()
    box.press_sequentially("pierwszy punkt")
    box.press("Enter")
    box.press_sequentially("drugi punkt")
    box.press("Enter")
    box.press("Enter")  # out of the list
    ola.get_by_role("button", name=exactly("Numbered list")).click()
    box.press_sequentially("krok jeden")
    box.press("Enter")
    box.press("Enter")
    # A fragment copied from Word: only the subset survives (bold yes; colour, font, heading,
    # table no).
    box.evaluate(
        """(el, html) => {
            const data = new DataTransfer();
            data.setData('text/html', html);
            data.setData('text/plain', 'Wklejone z Worda\\nNagłówek\\nkomórka');
            el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                          cancelable: true}));
        }""",
        WORD_HTML,
    )
    expect(box).to_contain_text("Nagłówek")
    expect(ola.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    html = box.inner_html()
    assert "<h1" not in html and "<table" not in html and "color" not in html

    # The coordinator exports: bold, italic, lists and the link are in the Word file.
    anna = new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    anna.get_by_role("link", name=exactly("Proposals")).click()
    anna.get_by_role("link", name="Baltic Volunteers Together").click()
    anna.get_by_role("link", name=exactly("Check before submit")).click()
    with anna.expect_download() as info:
        anna.get_by_role("button", name=exactly("Export to Word")).click()
    path = tmp_path / "application.docx"
    info.value.save_as(path)
    import docx

    document = docx.Document(str(path))
    paragraphs = document.paragraphs
    bold = [r.text for p in paragraphs for r in p.runs if r.bold]
    italic = [r.text for p in paragraphs for r in p.runs if r.italic]
    assert "Ważne" in bold and "Wklejone" in bold
    assert "pochyłe" in italic
    styles = {p.text.strip(): p.style.name for p in paragraphs if p.text.strip()}
    assert styles.get("pierwszy punkt", "").startswith("List Bullet")
    assert styles.get("drugi punkt", "").startswith("List Bullet")
    assert styles.get("krok jeden", "").startswith("List Number")
    assert not styles.get("Nagłówek", "").startswith("Heading")
    links = [link for p in paragraphs for link in p.hyperlinks]
    assert any(
        link.address == "https://example.org/plan" and link.text == "strona" for link in links
    )


@pytest.mark.browser
def test_text_typed_before_the_editor_joins_is_saved_before_it_says_saved(demo, new_page) -> None:
    """The server is out of reach while the page opens and Ola types; when the socket joins,
    the page says "Saved" only once what she typed was stored (never "Saved", then "Saving…"
    again), and another browser reads it from the server."""
    ola = new_page()
    sign_in(ola, demo.url, "ola@demo.engage")
    gate = {"open": False}

    def socket(ws) -> None:  # type: ignore[no-untyped-def]
        if not gate["open"]:
            ws.close(code=1011, reason="not yet")
            return
        # The server's answer to our step 1 (its step 2) overtakes its own step 1, which
        # asks for what we typed: the order in which the premature "Saved" showed.
        server = ws.connect_to_server()
        held: list[bytes] = []

        def from_server(message) -> None:  # type: ignore[no-untyped-def]
            data = message if isinstance(message, bytes) else message.encode()
            if data[:2] == b"\x00\x00" and not held:
                held.append(data)
                return
            ws.send(data)
            if data[:2] == b"\x00\x01" and held:
                ws.send(held.pop())

        server.on_message(from_server)

    ola.route_web_socket(re.compile(r"/live$"), socket)
    open_section(ola, "Działania")
    box = _box(ola)
    expect(box).to_be_visible()
    ola.evaluate(
        """() => {
            window.liveStates = [];
            const el = document.querySelector('[data-live-status]');
            new MutationObserver(() => window.liveStates.push(el.dataset.state))
                .observe(el, {attributes: true, attributeFilter: ['data-state']});
        }"""
    )
    _type_at_end(ola, " Napisane przed połączeniem.")
    status = ola.locator("[data-live-status]")
    expect(status).not_to_have_text(SAVED)
    gate["open"] = True
    expect(status).to_have_text(SAVED, timeout=15_000)
    time.sleep(0.5)
    states = ola.evaluate("window.liveStates")
    joined = states[len(states) - states[::-1].index("offline") :]  # since the socket joined
    assert "saving" not in joined[joined.index("saved") :], f"Saved too early: {states}"

    # Saved means stored: another browser reads it from the server.
    anna = new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    open_section(anna, "Działania")
    expect(_box(anna)).to_contain_text("Napisane przed połączeniem.", timeout=10_000)


def _select_words(page: Page, words: str) -> None:
    """Select ``words`` in the live editor with the mouse, as a reader does."""
    page.locator(".live-text").evaluate(
        """(el, words) => {
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            let node;
            while ((node = walker.nextNode())) {
                const at = node.data.indexOf(words);
                if (at >= 0) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + words.length);
                    const selection = window.getSelection();
                    selection.removeAllRanges();
                    selection.addRange(range);
                    el.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
                    return;
                }
            }
            throw new Error('not in the text: ' + words);
        }""",
        words,
    )


@pytest.mark.browser
def test_a_mentors_comment_stays_on_its_words_while_a_writer_edits(demo, new_page) -> None:
    marta, ola = new_page(), new_page()
    sign_in(ola, demo.url, "ola@demo.engage")
    open_section(ola, "Działania")
    expect(ola.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    _type_at_end(ola, " Warsztaty prowadzą wolontariusze z Kristiansand.")
    expect(ola.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)

    # Marta (a mentor: she reads, she cannot type) selects words and comments on them.
    sign_in(marta, demo.url, "marta@demo.engage")
    open_section(marta, "Działania")
    expect(marta.locator(".live-text")).to_contain_text("wolontariusze z Kristiansand")
    _select_words(marta, "wolontariusze z Kristiansand")
    expect(marta.get_by_label("Quoted passage (optional)")).to_have_value(
        "wolontariusze z Kristiansand"
    )
    marta.get_by_label(exactly("Comment")).fill("Ilu wolontariuszy?")
    marta.get_by_role("button", name=exactly("Post comment")).click()
    expect(marta.locator(".comment-anchor")).to_have_text("wolontariusze z Kristiansand")

    # Ola inserts words before the passage; the highlight stays on the same words,
    # live in Marta's page and after a reload of Ola's.
    ola.reload()
    expect(ola.locator(".comment-anchor")).to_have_text(
        "wolontariusze z Kristiansand", timeout=10_000
    )
    expect(ola.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    box = _box(ola)
    box.click()
    box.press("Control+Home")
    box.press_sequentially("Na początek: ", delay=15)
    expect(box).to_contain_text("Na początek:")
    expect(ola.locator("[data-live-status]")).to_have_text(SAVED, timeout=10_000)
    expect(ola.locator(".comment-anchor")).to_have_text("wolontariusze z Kristiansand")
    marta.reload()
    expect(marta.locator(".live-text")).to_contain_text("Na początek:", timeout=10_000)
    expect(marta.locator(".comment-anchor")).to_have_text("wolontariusze z Kristiansand")
    # "Show the passage in the text" selects it.
    marta.get_by_role("button", name=exactly("Show the passage in the text")).click()
    expect(marta.locator(".comment-anchor")).to_be_in_viewport()
