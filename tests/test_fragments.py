"""Fragments rendered once for what they show: never stale, refused on what could change
unseen, bounded in memory; the sections dashboard served from one while nothing changed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from proposals import i18n
from proposals.models import User
from proposals.templating import Fragments, frozen, make_environment
from proposals.web import plumbing
from tests.conftest import post
from tests.consortium_helpers import consortium, flashes

PARTNER_OPTION = re.compile(r'<option value="([\w-]+)"[^>]*>Frivillig</option>')


@dataclass(frozen=True)
class Name:
    name: str


@dataclass
class Changeable:
    name: str


def test_frozen_keys_plain_contents_and_refuses_what_could_change_unseen(db):
    row = (1, "key", None)
    assert frozen({"rows": [row], "n": Name("a")}) == frozen({"rows": [row], "n": Name("a")})
    assert frozen({"rows": [row]}) != frozen({"rows": [(1, "key", 0)]})
    hash(frozen({"rows": [row], "names": {"k": Name("a")}, "when": None}))
    user = db.scalar(select(User).limit(1)) or User(email="x@example.org", name="X")
    for value in (user, Changeable("a"), {"nested": [object()]}):
        with pytest.raises(TypeError):
            frozen({"value": value})


def test_a_fragment_is_rendered_once_per_content_language_and_within_its_bytes(tmp_path):
    env = make_environment()
    env.loader = __import__("jinja2").DictLoader(
        {"t.html": "{{ _('Save') }} {% for r in rows %}<b>{{ r }}</b>{% endfor %}"}
    )
    kept = Fragments(env, max_bytes=200)
    first = kept.render("t.html", {"rows": ["<a>", "b"]})
    assert first == "Save <b>&lt;a&gt;</b><b>b</b>"  # escaped, as on a page
    assert kept.render("t.html", {"rows": ["<a>", "b"]}) == first
    assert (kept.hits, kept.misses) == (1, 1)
    assert kept.render("t.html", {"rows": ["<a>", "c"]}) != first  # changed: rendered anew
    with i18n.using("pl"):
        assert kept.render("t.html", {"rows": ["<a>", "b"]}).startswith("Zapisz ")
    assert (kept.hits, kept.misses) == (1, 3)
    # Past the byte budget the oldest are dropped (a larger fragment is not kept at all).
    for n in range(20):
        kept.render("t.html", {"rows": [str(n)]})
    assert sum(len(v) for v in kept._kept.values()) <= 200
    kept.render("t.html", {"rows": ["x" * 500]})
    assert all(len(v) <= 200 for v in kept._kept.values())


def test_the_dashboard_is_kept_while_nothing_changes_and_every_change_shows(app, db):
    team = consortium(app, db)
    client = team.lead.client
    dashboard = f"/proposals/{team.pid}/sections"
    fragments = app.state.fragments
    page = client.get(dashboard).text
    hits = fragments.hits
    again = client.get(dashboard)
    assert again.text == page and again.headers["content-type"] == "text/html; charset=utf-8"
    # The same rows and the same header: neither rendered again, their bytes put in the
    # page where the marks stood.
    assert fragments.hits == hits + 2
    assert "<engage-kept" not in page and page.count("<header") == 1
    header = page.split("</header>")[0]
    assert f'name="next" value="{dashboard}"' in header and "Anna" in header

    # An assignment: the row names the partner and the person.
    partner_id = PARTNER_OPTION.search(page).group(1)
    ola = db.scalar(select(User).where(User.email == "ola@fri.example.org"))
    response = post(
        client,
        f"{dashboard}/streszczenie/assign",
        {"partner": partner_id, "assignee": str(ola.id), "due_date": "2027-01-15"},
    )
    assert "is assigned" in " ".join(flashes(response))
    row = _row(client.get(dashboard).text, "streszczenie")
    assert "Frivillig" in row and "Ola Berg" in row and "15 Jan 2027" in row

    # A save by the partner: the count and the last edit.
    url = f"{dashboard}/streszczenie"
    token = re.search(r'name="csrf_token" value="([^"]+)"', team.partner.client.get(url).text)
    reply = team.partner.client.post(
        url + "/save",
        data={"csrf_token": token.group(1), "base": "0", "text": "Dwanaście zn"},
        headers={"Accept": "application/json"},
    )
    assert reply.json()["kind"] == "save"
    row = _row(client.get(dashboard).text, "streszczenie")
    assert "12 / 1,500" in row

    # Ola renames herself on her account page: the row names her anew.
    response = post(
        team.partner.client,
        "/account",
        {"name": "Ola Nordmann", "locale": "en", "email_notifications": "off"},
    )
    assert response.status_code in (200, 303)
    row = _row(client.get(dashboard).text, "streszczenie")
    assert "Ola Nordmann" in row and "Ola Berg" not in row
    # ... and her own header too, on a page she saw before under her old name.
    header = team.partner.client.get(url).text.split("</header>")[0]
    assert "Ola Nordmann" in header and "Ola Berg" not in header

    # The reader's language: the same rows, in Polish.
    client.cookies.set("engage_lang", "pl")
    row = _row(client.get(dashboard).text, "streszczenie")
    assert "Streszczenie projektu" in row and "15 sty 2027" in row
    assert re.search(r"12 / 1\s500", row)  # Polish groups digits with a (no-break) space


def _row(page: str, key: str) -> str:
    found = re.search(
        rf'<tr>\s*<th scope="row"><a href="[^"]*/sections/{key}">.*?</tr>', page, re.S
    )
    assert found, f"no row for {key}"
    return found.group(0)


def test_a_title_written_as_the_pages_own_mark_is_shown_as_written(app, db):
    """A kept fragment's bytes go where the page's mark stands: a mark typed by someone is
    text, escaped like any other, and the page is assembled as before."""
    team = consortium(app, db)
    client = team.lead.client
    dashboard = f"/proposals/{team.pid}/sections"
    title = f"{plumbing._SPLICE}0> & {plumbing._SPLICE}1>"
    response = post(client, f"/proposals/{team.pid}/sections/add", {"title": title})
    assert response.status_code in (200, 303)
    for _ in range(2):  # rendered, then kept
        page = client.get(dashboard).text
        shown = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert shown in page and "<engage-kept" not in page
        assert page.count("<header") == 1 and page.count("<tbody>") == 1
        assert "Streszczenie projektu" in page or "Project summary" in page
