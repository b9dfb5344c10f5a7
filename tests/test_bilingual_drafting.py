"""Bilingual drafting: a section's working-language draft beside its official text.

Ola (Kristiansand) writes "Działania" in English; Anna (the Polish lead) writes the
Polish text. When Ola changes her draft after Anna translated it, the section says so
with a word diff until someone marks the translation up to date. Only the Polish text
reaches the checks, the character count and the Word export."""

from __future__ import annotations

import html
import io
import re

import docx

from proposals.domain import exporting
from tests.conftest import csrf, post
from tests.consortium_helpers import browser, consortium, flashes, partner_of, proposal

DRAFT = "We run three workshops for volunteers in Kristiansand."
POLISH = "Prowadzimy trzy warsztaty dla wolontariuszy w Kristiansand."


def _page(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


def _draft(client, url: str, text: str, base: int, language: str = "en"):  # type: ignore[no-untyped-def]
    return post(client, url + "/draft", {"language": language, "text": text, "base": str(base)})


def _setup(app, db):  # type: ignore[no-untyped-def]
    c = consortium(app, db, call="eea-csf-poland")
    url = f"/proposals/{c.pid}/sections/dzialania"
    partner = partner_of(db, c.pid, c.partner.organisation)
    response = post(c.lead.client, url + "/assign", {"partner": partner.public_id, "due_date": ""})
    assert response.status_code == 200
    return c, url


def test_a_changed_source_shows_what_changed_until_the_translation_is_marked_updated(app, db):
    c, url = _setup(app, db)
    page = _page(c.partner.client, url)
    assert "No working draft." in page and "Write a working draft" in page

    response = _draft(c.partner.client, url, DRAFT, 0)
    assert "The working draft is saved." in flashes(response)
    page = _page(c.lead.client, url)
    assert "Working draft (English)" in page and DRAFT in page
    assert "Nobody has marked the text above as a translation" in page

    # Anna writes the Polish text and marks it up to date with draft revision 1.
    token = csrf(c.lead.client, url)
    saved = c.lead.client.post(
        url + "/save",
        data={"csrf_token": token, "base": "0", "text": POLISH},
        headers={"Accept": "application/json"},
    )
    assert saved.status_code == 200
    response = post(c.lead.client, url + "/draft/translated", {"number": "1"})
    assert "The translation is marked as up to date with the working draft." in flashes(response)
    page = _page(c.partner.client, url)
    assert "changed since this translation" not in page
    assert "The text above follows this working draft (marked by Anna Lis" in page

    # Ola changes her draft: the section says what changed, as a word diff.
    changed = "We run four workshops for volunteers in Kristiansand and Riga."
    response = _draft(c.partner.client, url, changed, 1)
    assert "The working draft is saved." in flashes(response)
    raw = c.lead.client.get(url).text
    assert "The working draft (English) changed since this translation. What changed:" in (
        html.unescape(raw)
    )
    assert "<del>three</del>" in raw and "<ins>four</ins>" in raw and "<ins> and Riga</ins>" in raw

    response = post(c.lead.client, url + "/draft/translated", {"number": "2"})
    assert "changed since this translation" not in _page(c.lead.client, url)

    # Only the official text counts: the dashboard's count, the checks and the export.
    dashboard = _page(c.lead.client, f"/proposals/{c.pid}/sections")
    assert f"{len(POLISH)} / " in dashboard
    assert "Riga" not in _page(c.lead.client, f"/proposals/{c.pid}/final")
    snap = exporting.snapshot(db, proposal(db, c.pid))
    files = exporting.files(snap, "application")
    (document,) = files.values()
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(document)).paragraphs)
    assert POLISH in text
    assert "workshops" not in text and "Riga" not in text


def test_an_overlapping_draft_edit_loses_nothing_and_bad_input_is_refused(app, db):
    c, url = _setup(app, db)
    assert _draft(c.partner.client, url, DRAFT, 0).status_code == 200
    # Anna (the coordinator may write it too) changes the same words from revision 1...
    assert _draft(c.lead.client, url, DRAFT.replace("three", "five"), 1).status_code == 200
    # ... and Ola, still on revision 1, changes them differently: nothing is stored,
    # her text comes back in the box with Anna's beside it.
    mine = DRAFT.replace("three", "six")
    response = _draft(c.partner.client, url, mine, 1)
    assert response.status_code == 409
    assert "changed the draft while you were writing" in html.unescape(response.text)
    assert mine in html.unescape(response.text)
    assert 'name="base" value="2"' in response.text
    assert DRAFT.replace("three", "five") in html.unescape(response.text)

    # A clean merge of edits in different places goes through.
    later = DRAFT.replace("three", "five") + " Each lasts a day."
    assert _draft(c.partner.client, url, later, 2).status_code == 200
    response = _draft(c.lead.client, url, "Now: " + DRAFT.replace("three", "five"), 2)
    assert response.status_code == 200
    assert "Now: We run five workshops" in _page(c.lead.client, url)
    assert "Each lasts a day." in _page(c.lead.client, url)

    for data, status in (
        ({"language": "xx", "text": "x", "base": "4"}, 400),
        ({"language": "en", "text": "x", "base": "99"}, 400),
        ({"language": "en", "text": "x", "base": "-1"}, 400),
        ({"language": "en", "text": "x" * 200_001, "base": "4"}, 400),
    ):
        response = post(c.partner.client, url + "/draft", data)
        assert response.status_code == status, (data, response.status_code)
        assert 'class="error"' in response.text
    assert post(c.lead.client, url + "/draft/translated", {"number": "77"}).status_code == 200
    assert "does not exist" in html.unescape(
        post(c.lead.client, url + "/draft/translated", {"number": "x"}).text
    )

    # Markup is text: it is shown escaped, never run.
    script = "<script>alert(1)</script> Plan"
    assert _draft(c.partner.client, url, script, 4).status_code == 200
    raw = c.lead.client.get(url).text
    assert "<script>alert(1)</script>" not in raw

    # Someone outside the consortium finds nothing; a writer of another section may not write.
    assert browser(app, None).get(url + "/draft").url.path == "/signin"
    other = f"/proposals/{c.pid}/sections/cele"
    assert _draft(c.partner.client, other, "x", 0).status_code == 403
