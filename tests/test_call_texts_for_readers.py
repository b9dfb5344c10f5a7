"""Call texts in the reader's language, with the application's own wording beside them.

Ola from Kristiansand reads Engage in English; the lead's call is Polish. She sees the
call's English guidance and the English name of each section, with the Polish title the
application uses beside it; every line of one page names a section the same way, and the
export keeps the Polish wording."""

from __future__ import annotations

import html
import re

from tests.conftest import post
from tests.consortium_helpers import consortium


def _text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


def test_a_norwegian_partner_reading_english_sees_english_guidance_beside_the_polish_title(app, db):
    c = consortium(app, db, call="eea-csf-poland")
    post(c.partner.client, "/language", {"locale": "en", "next": "/"})

    page = c.partner.client.get(f"/proposals/{c.pid}/sections/streszczenie")
    assert page.status_code == 200
    # The heading: the English name, the Polish title beside it in Polish.
    official = '<span class="official" lang="pl">(Streszczenie projektu)</span>'
    assert f"<h1>Project summary {official}</h1>" in page.text
    text = _text(page)
    assert "Briefly - what you will do, with whom, for whom and why." in text
    # The Polish guidance is there too, folded, as the call says it.
    assert "As the call says it Krótko - co zrobicie" in text

    dashboard = _text(c.partner.client.get(f"/proposals/{c.pid}/sections"))
    assert "Project summary (Streszczenie projektu)" in dashboard

    # "Check before submit" names the section the same way in every line.
    final = _text(c.lead.client.get(f"/proposals/{c.pid}/final"))
    assert "The section “Project summary” is empty." in final
    assert "Streszczenie projektu" not in final, final[final.find("Streszczenie projektu") - 300 :][
        :600
    ]

    # In Polish the title is simply the call's own.
    post(c.lead.client, "/language", {"locale": "pl", "next": "/"})
    polish = c.lead.client.get(f"/proposals/{c.pid}/sections/streszczenie")
    assert "<h1>Streszczenie projektu</h1>" in polish.text
    assert 'class="official"' not in polish.text


def test_a_section_the_consortium_added_keeps_its_own_name(app, db):
    c = consortium(app, db, call="eea-csf-poland")
    added = {"title": "Listy intencyjne"}
    response = post(c.lead.client, f"/proposals/{c.pid}/sections/add", added)
    assert response.status_code == 200
    dashboard = _text(c.partner.client.get(f"/proposals/{c.pid}/sections"))
    assert "Listy intencyjne" in dashboard
    assert "Listy intencyjne (" not in dashboard
