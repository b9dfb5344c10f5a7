"""Comments on sections: quoted passages, threads, resolve and reopen, @mentions."""

from __future__ import annotations

from sqlalchemy import select

from proposals.models import Comment, Notification
from tests.conftest import post
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
