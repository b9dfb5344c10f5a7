"""Comments on sections: quoted passages, threads, resolve and reopen, @mentions."""

from __future__ import annotations

import base64

from sqlalchemy import func, select

from proposals.domain import livedoc
from proposals.models import Comment, Notification, Section
from tests.conftest import csrf, post
from tests.consortium_helpers import XSS, XSS_ESCAPED, consortium, flashes, person


def _url(team) -> str:  # type: ignore[no-untyped-def]
    return f"/proposals/{team.pid}/sections/streszczenie"


def test_comment_on_a_quoted_passage_reply_resolve_and_reopen(app, db):
    team = consortium(app, db)
    url = _url(team)
    response = post(
        team.lead.client, url + "/comments", {"body": "Shorter, please.", "quote": "Projekt łączy"}
    )
    assert "Your comment is posted." in flashes(response)
    thread = db.scalar(select(Comment))
    assert thread.quote == "Projekt łączy"
    post(team.partner.client, url + "/comments", {"body": "Done.", "parent": thread.public_id})
    page = team.lead.client.get(url).text
    assert "Shorter, please." in page and "Done." in page and "Projekt łączy" in page
    post(team.partner.client, f"{url}/comments/{thread.public_id}", {"resolved": "1"})
    db.expire_all()
    assert db.get(Comment, thread.id).resolved
    post(team.lead.client, f"{url}/comments/{thread.public_id}", {})
    db.expire_all()
    assert not db.get(Comment, thread.id).resolved


def test_mentioning_a_participant_notifies_them_and_nobody_else(app, db):
    team = consortium(app, db)
    outsider = person(app, db, "out@x.example", "Ola Outsider", "Elsewhere", "LT")
    body = f"@{team.partner.user.name.upper()} and @{outsider.user.name}: please check."
    post(team.partner.client, "/notifications/read", {})  # the invitation to the consortium
    post(team.lead.client, _url(team) + "/comments", {"body": body})
    notes = db.scalars(select(Notification).where(Notification.kind == "mention")).all()
    assert [n.user_id for n in notes] == [team.partner.user.id]
    assert notes[0].link.endswith("#comments")
    page = team.partner.client.get("/notifications").text
    assert f"{team.lead.user.name} mentioned you" in page
    assert '<span data-count>1</span><span class="visually-hidden"> unread' in (
        team.partner.client.get("/").text
    )
    post(team.partner.client, "/notifications/read", {})
    db.expire_all()
    assert db.get(Notification, notes[0].id).read_at is not None


def test_comments_escape_html_and_refuse_bad_input(app, db):
    team = consortium(app, db)
    url = _url(team)
    post(team.lead.client, url + "/comments", {"body": XSS, "quote": XSS})
    page = team.lead.client.get(url).text
    assert XSS not in page and XSS_ESCAPED in page
    response = post(team.lead.client, url + "/comments", {"body": "x" * 6000})
    assert "Use at most 5000 characters" in " ".join(flashes(response))
    response = post(team.lead.client, url + "/comments", {"body": "   "})
    assert "This field is required." in " ".join(flashes(response))
    assert (
        post(team.lead.client, url + "/comments", {"body": "x", "parent": "nope"}).status_code
        == 404
    )
    assert db.scalar(select(Comment.id).where(Comment.body.like("xxxx%"))) is None


def test_outsiders_cannot_read_or_comment(app, db):
    team = consortium(app, db)
    outsider = person(app, db, "out@x.example", "Ola Outsider", "Elsewhere", "LT")
    assert outsider.client.get(_url(team)).status_code == 404
    assert post(outsider.client, _url(team) + "/comments", {"body": "hi"}).status_code == 404
    assert db.scalar(select(Comment)) is None


def _varuint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _item_anchor(client: int, clock: int) -> str:
    """A Yjs relative position naming item (client, clock), as the editor encodes it."""
    return base64.b64encode(b"\x00" + _varuint(client) + _varuint(clock) + b"\x00").decode()


def _first_client(app, section_id: int) -> int:  # type: ignore[no-untyped-def]
    """The client id of the section's first update (its seed)."""
    doc, _rows = livedoc.load(app.state.sessionmaker, section_id)
    state = doc.get_state()  # a count, then (client, clock) pairs as varuints
    value, shift, at = 0, 0, 1
    while True:
        byte = state[at]
        value |= (byte & 0x7F) << shift
        at += 1
        shift += 7
        if byte < 0x80:
            return value


def test_a_comment_anchored_in_the_shared_document_and_bad_anchors_refused(app, db):
    team = consortium(app, db)
    url = _url(team)
    for key in ("streszczenie", "dzialania"):  # some words in each section's document
        page = f"/proposals/{team.pid}/sections/{key}"
        saved = team.lead.client.post(
            page + "/save",
            data={
                "csrf_token": csrf(team.lead.client, page),
                "base": "0",
                "text": "Projekt łączy.",
            },
            headers={"Accept": "application/json"},
        )
        assert saved.status_code == 200
    sections = {s.key: s.id for s in db.scalars(select(Section))}
    here = _first_client(app, sections["streszczenie"])
    elsewhere = _first_client(app, sections["dzialania"])
    good = {"start": _item_anchor(here, 0), "end": _item_anchor(here, 5)}
    response = post(
        team.lead.client,
        url + "/comments",
        {
            "body": "Shorter.",
            "quote": "Projekt",
            "anchor_start": good["start"],
            "anchor_end": good["end"],
        },
    )
    assert "Your comment is posted." in flashes(response)
    thread = db.scalar(select(Comment))
    assert (thread.anchor_start, thread.anchor_end) == (good["start"], good["end"])
    page = team.lead.client.get(url).text
    assert f'data-anchor-start="{good["start"]}"' in page

    root = base64.b64encode(b"\x01\x07default\x00").decode()
    assert (
        post(
            team.lead.client,
            url + "/comments",
            {"body": "The whole text.", "anchor_start": root, "anchor_end": root},
        ).status_code
        == 200
    )

    for start, end in (
        ("not base64!", good["end"]),  # malformed
        (good["start"], ""),  # one end only
        (base64.b64encode(b"\x00" + b"\xff" * 100).decode(), good["end"]),  # huge varint
        ("A" * 199, good["end"]),  # long, not a position
        (_item_anchor(elsewhere, 0), _item_anchor(elsewhere, 3)),  # another section's words
        (_item_anchor(here, 10**9), good["end"]),  # past the end of this document
        (base64.b64encode(b"\x01\x05other\x00").decode(), good["end"]),  # another root
    ):
        before = db.scalar(select(func.count()).select_from(Comment))
        response = post(
            team.lead.client,
            url + "/comments",
            {"body": "x", "anchor_start": start, "anchor_end": end},
        )
        assert response.status_code == 400, (start, end, response.status_code)
        assert "could not be found in this section" in response.text
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(Comment)) == before
    too_long = post(
        team.lead.client,
        url + "/comments",
        {"body": "x", "anchor_start": "A" * 201, "anchor_end": "A"},
    )
    assert too_long.status_code == 200 and flashes(too_long)  # a form error, shown as such
