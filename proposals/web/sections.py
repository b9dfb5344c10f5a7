"""Routes for sections: the dashboard, assignment, the editor with autosave, history."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import date
from typing import Any

from markupsafe import escape
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session, load_only, selectinload
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proposals import live, urls
from proposals.calls import library
from proposals.calls.describe import section_names
from proposals.domain import comments, drafts, livedoc, reviews, sections
from proposals.domain.consortium import member_names
from proposals.errors import NotFound
from proposals.forms import CleanLine, CleanText, Form, OptionalInt, form_id
from proposals.i18n import gettext as _
from proposals.models import Comment, Membership, Proposal, Revision, Section, User
from proposals.policy import can, proposal_role
from proposals.security import csrf_token
from proposals.text import render_html, word_diff
from proposals.web import targets
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    redirect,
    render,
    route,
    settle_live,
    submitted,
    view,
)
from workflow import WorkflowError, section_workflow

#: The section triggers offered in the editor (review verdicts come with mentor review).
WRITER_TRIGGERS = ("mark_ready", "reopen")


def _proposal(request: Request) -> Proposal:
    return targets.proposal(request, sections=True)


def _url(proposal: Proposal, section: Section | None = None, tail: str = "") -> str:
    if section is None:
        return urls.path("sections", pid=proposal.public_id)
    return urls.link(section) + tail


def names_context(request: Request, proposal: Proposal, shown: Iterable[Any]) -> dict[str, object]:
    """What a page names the sections it ``shown`` with: the reader's names and the
    application's language."""
    profile = library.profile_for(db(request), proposal)
    return {
        "names": section_names(profile, shown),
        "official_lang": profile.written_in(proposal.language),
    }


@view("view_proposal", reads=True)
def dashboard(request: Request) -> Response:
    """The sections at a glance: a fixed number of queries, only the columns shown.

    The table is rendered once for what it shows (``Fragments``): a page asked again
    while nothing in it changed is served without rendering its rows again.
    """
    proposal, allowed = targets.glance(request, "manage_sections")
    session = db(request)
    can_assign = allowed["manage_sections"]
    active = [p for p in proposal.partners if p.status == "active"]
    # The assignment forms list them.
    members = member_names(session, proposal.id) if can_assign else {}
    rows = sections.dashboard_rows(session, proposal.id)
    done = sum(1 for s in rows if s.status in ("ready", "approved"))
    table = {
        "pid": proposal.public_id,
        "rows": rows,
        "partner_names": {p.id: p.name for p in proposal.partners},
        # The options every row's assignment form repeats, escaped once for the page.
        "partner_options": [(p.id, p.public_id, escape(p.name)) for p in active],
        # The people to choose from, grouped by their organisation.
        "member_options": [
            (escape(p.name), [(i, escape(n)) for i, n in members[p.organisation_id]])
            for p in active
            if p.organisation_id in members
        ],
        "can_assign": can_assign,
        "states": {k: _(v) for k, v in section_workflow().labels.items()},
        "today": date.today(),
        "csrf_token": csrf_token(request),
        # A version of a call profile never changes: its id and number stand for it.
        "call": (proposal.call_id, proposal.call_version),
        "official_lang": (profile := library.profile_for(session, proposal)).written_in(
            proposal.language
        ),
    }
    fragment = request.app.state.fragments.render(
        "sections/_dashboard_rows.html",
        table,
        derived=lambda: {"names": section_names(profile, rows)},
    )
    return render(
        request,
        "sections/dashboard.html",
        {
            "proposal": proposal,
            "table": fragment,
            "done": done,
            "total": len(rows),
            "can_assign": can_assign,
        },
    )


def _parse_date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(status_code=400) from None


@view("assign_section")
def assign(request: Request) -> Response:
    proposal = _proposal(request)
    section = targets.section(request, proposal)
    user = current_user(request)
    data = form(request)
    partner = next(
        (
            p
            for p in proposal.partners
            if p.public_id == data.get("partner") and p.status == "active"
        ),
        None,
    )
    assignee = None
    assignee_id = form_id(data.get("assignee"))
    if partner is not None and assignee_id is not None:
        assignee = db(request).scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(User.id == assignee_id, Membership.organisation_id == partner.organisation_id)
        )
    try:
        due = _parse_date(str(data.get("due_date") or ""))
    except HTTPException:
        flash(request, _("Enter a date as YYYY-MM-DD."), "error")
        return redirect(request, _url(proposal))
    sections.assign(db(request), user, section, partner, assignee, due)
    name = section_names(library.profile_for(db(request), proposal), [section])[section.key].name
    flash(request, _("“%(title)s” is assigned.", title=name))
    return redirect(request, _url(proposal))


@view("view_proposal")
def editor(request: Request) -> Response:
    proposal = targets.proposal(request, people=False)  # the section alone, not them all
    section = targets.section(request, proposal)
    settle_live(request, [section.id])  # the count, preview and box show what was typed live
    user = current_user(request)
    workflow = section_workflow()
    may_edit = can(user, "edit_text", section)
    options = []
    if may_edit:
        options = sections.options(section, _role(user, proposal), WRITER_TRIGGERS)
    return render(
        request,
        "sections/edit.html",
        {
            "proposal": proposal,
            "section": section,
            "can_edit": may_edit,
            "count": sections.characters(section),
            "preview": render_html(section.text),
            "labels": workflow.labels,
            "options": options,
            "threads": comments.threads(db(request), section),
            "verdicts": reviews.latest_verdicts(db(request), section),
            "can_comment": can(user, "comment", section),
            "people": [p.name for p in comments.participants(db(request), proposal)],
            "values": {},
            "errors": {},
            "draft": (draft := drafts.state(db(request), section)),
            "draft_html": render_html(draft.current.text) if draft.current else "",
            **names_context(request, proposal, [section]),
        },
    )


def _role(user: User, proposal: Proposal) -> str:
    """The role a section's writer acts in: the coordinator, or a writer of its partner."""
    return "coordinator" if proposal_role(user, proposal) == "coordinator" else "writer"


@view("edit_text", lean=True)
def save(request: Request) -> Response:
    """Autosave (JSON for the editor's script) and the plain "Save" button (a redirect).

    The hot path: one query authorises (no consortium loaded), the form is read once,
    and the answer carries what the editor shows (the preview only when it asks).
    """
    section = targets.allowed_section(request)
    user = current_user(request)
    data = form(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    base = form_id(data.get("base"))
    text = data.get("text")
    if base is None or not isinstance(text, str):
        return _refusal(request, section, _("The editor sent an incomplete save."), wants_json)
    # The request has only read so far: end its transaction, so that its connection goes
    # back to the pool before the save takes one (never two at once: no pool deadlock).
    db(request).commit()
    factory = request.app.state.sessionmaker
    try:
        # What was typed live (if the section has a live document) is recorded first, so
        # that this save merges with it.
        result = sections.save(
            factory,
            section.id,
            user.id,
            text,
            base,
            settle=lambda: livedoc.settle(factory, section.id, None),
            on_saved=on_saved(request, section),
        )
    except sections.Busy as exc:
        if wants_json:  # the editor keeps the text and tries again shortly
            return JSONResponse({"kind": "busy", "message": str(exc)}, status_code=503)
        return _refusal(request, section, str(exc), wants_json)
    except sections.SaveRefused as exc:
        return _refusal(request, section, str(exc), wants_json)
    follow(request, section, result)
    if wants_json:
        answer: dict[str, object] = {
            "kind": result.kind,
            "number": result.number,
            "text": result.text,
            "conflict": result.conflict_number,
            "count": result.chars,
        }
        if data.get("preview") == "1":  # the plain editor shows one; the live editor not
            answer["preview"] = render_html(result.text)
        return JSONResponse(answer)
    proposal = section.proposal
    if result.kind == "conflict":
        flash(
            request,
            _(
                "Someone else changed the same words. Your text is kept in the history "
                "as revision %(n)s: compare and merge it by hand.",
                n=result.conflict_number,
            ),
            "error",
        )
        return redirect(
            request,
            urls.path("section_history", pid=proposal.public_id, key=section.key)
            + f"?a={result.number}",
        )
    flash(request, _("Saved."))
    return redirect(request, _url(proposal, section))


def _refusal(request: Request, section: Section, message: str, wants_json: bool) -> Response:
    if wants_json:
        return JSONResponse({"kind": "refused", "message": message}, status_code=409)
    flash(request, message, "error")
    return redirect(request, urls.link(section))


@view("edit_text")
def state(request: Request) -> Response:
    proposal = _proposal(request)
    section = targets.section(request, proposal)
    user = current_user(request)
    role = _role(user, proposal)
    settle_live(request, [section.id])  # "Mark as ready" needs the text typed live
    trigger = str(form(request).get("trigger") or "")
    if trigger not in WRITER_TRIGGERS or form(request).get("state") != section.status:
        flash(
            request, _("Someone else changed this section a moment ago; nothing was done."), "error"
        )
        return redirect(request, _url(proposal, section))
    try:
        sections.move(db(request), section, role, user.id, trigger)
    except WorkflowError:
        flash(request, _("Write something first."), "error")
    return redirect(request, _url(proposal, section))


@view("view_proposal")
def history(request: Request) -> Response:
    proposal = _proposal(request)
    section = targets.section(request, proposal)
    settle_live(request, [section.id])  # the history ends with what was typed live
    revisions = list(
        db(request).scalars(
            select(Revision)
            .where(Revision.section_id == section.id)
            .options(
                load_only(
                    Revision.number,
                    Revision.kind,
                    Revision.preview,
                    Revision.author_id,
                    Revision.created_at,
                ),
                selectinload(Revision.author),
            )
            .order_by(Revision.number.desc())
        )
    )
    by_number = {r.number: r for r in revisions}
    params = request.query_params
    a = _number(params.get("a"), by_number)
    b = _number(params.get("b"), by_number) or section.current_number
    diff = None
    if a is not None and b in by_number:
        older, newer = sorted((a, b))
        diff = word_diff(
            sections.revision_text(db(request), section.id, older) or "",
            sections.revision_text(db(request), section.id, newer) or "",
        )
    return render(
        request,
        "sections/history.html",
        {
            "proposal": proposal,
            "section": section,
            "revisions": revisions,
            "a": a,
            "b": b,
            "diff": diff,
            "can_edit": can(current_user(request), "edit_text", section),
            **names_context(request, proposal, [section]),
        },
    )


def _number(raw: str | None, known: dict[int, Revision]) -> int | None:
    number = form_id(raw)
    return number if number in known else None


@view("edit_text")
def restore(request: Request) -> Response:
    proposal = _proposal(request)
    section = targets.section(request, proposal)
    user = current_user(request)
    number = form_id(form(request).get("number"))
    revision = (
        db(request).scalar(
            select(Revision).where(Revision.section_id == section.id, Revision.number == number)
        )
        if number is not None
        else None
    )
    if revision is None:
        raise NotFound()
    db(request).commit()  # release the request's connection first (see save)
    factory = request.app.state.sessionmaker
    result = sections.save(
        factory,
        section.id,
        user.id,
        revision.text,
        section.current_number,
        kind="restore",
        settle=lambda: livedoc.settle(factory, section.id, None),
        on_saved=on_saved(request, section),
    )
    follow(request, section, result)
    flash(
        request,
        _("Revision %(n)s is restored as revision %(m)s.", n=revision.number, m=result.number),
    )
    return redirect(request, _url(proposal, section))


class CommentForm(Form):
    body: CleanText = Field(min_length=1, max_length=comments.MAX_BODY)
    quote: CleanText = Field(default="", max_length=comments.MAX_QUOTE)
    parent: str = Field(default="", max_length=40)
    anchor_start: str = Field(default="", max_length=200)
    anchor_end: str = Field(default="", max_length=200)


@view("comment")
def comment(request: Request) -> Response:
    proposal = _proposal(request)
    section = targets.section(request, proposal)
    user = current_user(request)
    url = _url(proposal, section)
    _values, errors, data = submitted(request, CommentForm)
    if data is None:
        flash(request, next(iter(errors.values())), "error")
        return redirect(request, url + "#comments")
    parent = None
    if data.parent:
        parent = db(request).scalar(
            select(Comment).where(
                Comment.public_id == data.parent, Comment.section_id == section.id
            )
        )
        if parent is None:
            raise NotFound()
    anchors = (
        None
        if parent
        else comments.anchor(db(request), section, data.anchor_start, data.anchor_end)
    )
    comments.add(
        db(request),
        user,
        proposal,
        section,
        data.body,
        data.quote,
        parent,
        link=url + "#comments",
        anchors=anchors,
    )
    flash(request, _("Your comment is posted."))
    return redirect(request, url + "#comments")


@view("resolve_comment")
def resolve_comment(request: Request) -> Response:
    proposal = _proposal(request)
    section = targets.section(request, proposal)
    thread = targets.comment(request, section, request.path_params["cid"])
    thread.resolved = form(request).get("resolved") == "1"
    flash(
        request, _("The thread is resolved.") if thread.resolved else _("The thread is open again.")
    )
    return redirect(request, _url(proposal, section) + "#comments")


async def _stream(
    broker: live.Broker, topic: str, user_id: int, name: str
) -> AsyncIterator[dict[str, str]]:
    """Presence and "newer version" events for one open editor, until it disconnects."""
    me = {"type": "here", "user_id": user_id, "name": name}
    async with broker.subscribe(topic) as queue:
        await broker.publish_async(topic, me)
        yield {"event": "presence", "data": json.dumps(broker.presence(topic, user_id))}
        try:
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), live.HEARTBEAT_SECONDS)
                except TimeoutError:
                    await broker.publish_async(topic, me)
                    continue
                if message.get("type") == "saved" and message.get("user_id") != user_id:
                    saved = {"number": message.get("number"), "by": message.get("name")}
                    yield {"event": "saved", "data": json.dumps(saved)}
                yield {"event": "presence", "data": json.dumps(broker.presence(topic, user_id))}
        finally:
            # The stream is being cancelled: announce the leave without awaiting it.
            left = {"type": "left", "user_id": user_id, "name": name}
            asyncio.get_running_loop().run_in_executor(None, broker.publish, topic, left)


@view("view_proposal")
def events(request: Request) -> Response:
    """Server-sent events for the section editor (presence, newer versions)."""
    proposal = _proposal(request)
    section = targets.section(request, proposal)
    user = current_user(request)
    return EventSourceResponse(
        _stream(request.app.state.broker, section.public_id, user.id, user.name),
        ping=15,
        headers={"Cache-Control": "no-store"},
    )


def on_saved(request: Request, section: Section) -> Callable[[Session, sections.SaveResult], None]:
    """For ``sections.save``: tell the section's open pages of a new current text, in the
    save's own transaction (the event goes out with its commit)."""
    user = current_user(request)
    broker = request.app.state.broker

    def publish(session: Session, result: sections.SaveResult) -> None:
        if result.new_text:
            event = {
                "type": "saved",
                "user_id": user.id,
                "name": user.name,
                "number": result.number,
            }
            broker.publish_on_commit(session, section.public_id, event)

    return publish


def follow(request: Request, section: Section, result: sections.SaveResult) -> None:
    """After a save committed, the live document follows its new current text, so that
    everyone writing live sees it too."""
    if result.new_text and result.live is not False:  # False: nobody writes live
        livedoc.follow_saved(
            request.app.state.sessionmaker,
            request.app.state.broker,
            section.id,
            section.public_id,
            result.text,
            current_user(request).id,
        )


class AnnexForm(Form):
    title: CleanLine = Field(min_length=1, max_length=300)
    char_limit: OptionalInt = Field(default=None, ge=1, le=100_000)


@view("manage_sections")
def add_annex(request: Request) -> Response:
    proposal = _proposal(request)
    _values, errors, data = submitted(request, AnnexForm)
    if data is None:
        flash(request, next(iter(errors.values())), "error")
        return redirect(request, _url(proposal) + "#add")
    section = sections.add_annex(proposal, data.title, data.char_limit)
    db(request).flush()
    flash(request, _("“%(title)s” is added.", title=section.title))
    return redirect(request, _url(proposal))


@view("assign_section")
def reorder(request: Request) -> Response:
    proposal = _proposal(request)
    section = targets.section(request, proposal)
    step = -1 if form(request).get("direction") == "up" else 1
    sections.move_in_order(proposal, section, step)
    return redirect(request, _url(proposal))


routes = [
    route("sections", dashboard),
    route("add_section", add_annex, ("POST",)),
    route("section", editor),
    route("move_section", reorder, ("POST",)),
    route("assign_section", assign, ("POST",)),
    route("save_section", save, ("POST",)),
    route("section_state", state, ("POST",)),
    route("section_history", history),
    route("section_events", events),
    route("restore_revision", restore, ("POST",)),
    route("comments", comment, ("POST",)),
    route("resolve_comment", resolve_comment, ("POST",)),
]
