"""Routes for sections: the dashboard, assignment, the editor with autosave, history."""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from collections.abc import AsyncIterator
from datetime import date

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proposals import live
from proposals.domain import comments, consortium, reviews, sections
from proposals.forms import CleanText, Form, FormErrors, form_dict, form_id, validate
from proposals.i18n import gettext as _
from proposals.models import Comment, Membership, Proposal, Revision, Section, User
from proposals.policy import can, proposal_role, require, require_proposal
from proposals.text import count_characters, render_html
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    login_required,
    redirect,
    render,
    view,
)
from workflow import WorkflowError, section_workflow

_WORDS = re.compile(r"\s+|\w+|[^\w\s]")
#: The section triggers offered in the editor (review verdicts come with mentor review).
WRITER_TRIGGERS = ("mark_ready", "reopen")


def _proposal(request: Request) -> Proposal:
    proposal = consortium.load_proposal(db(request), request.path_params["pid"], with_sections=True)
    proposal = require_proposal(current_user(request), proposal)
    if not proposal.sections:  # proposals started before sections existed
        sections.create_sections(proposal, _profile(request, proposal))
        db(request).flush()
    return proposal


def _profile(request: Request, proposal: Proposal):  # type: ignore[no-untyped-def]
    from proposals.domain.actions import profile_for

    return profile_for(db(request), proposal)


def _section(request: Request, proposal: Proposal) -> Section:
    section = next((s for s in proposal.sections if s.key == request.path_params["key"]), None)
    if section is None:
        raise HTTPException(status_code=404)
    return section


def _url(proposal: Proposal, section: Section | None = None, tail: str = "") -> str:
    base = f"/proposals/{proposal.public_id}/sections"
    return f"{base}/{section.key}{tail}" if section else base


@view
@login_required
def dashboard(request: Request) -> Response:
    proposal = _proposal(request)
    user = current_user(request)
    active = [p for p in proposal.partners if p.status == "active"]
    members: dict[int, list[User]] = {}
    for membership in db(request).scalars(
        select(Membership)
        .where(Membership.organisation_id.in_([p.organisation_id for p in active] or [-1]))
        .options(selectinload(Membership.user))
    ):
        members.setdefault(membership.organisation_id, []).append(membership.user)
    rows = [(s, count_characters(s.text)) for s in proposal.sections]
    done = sum(1 for s in proposal.sections if s.status in ("ready", "approved"))
    return render(
        request,
        "sections/dashboard.html",
        {
            "proposal": proposal,
            "rows": rows,
            "done": done,
            "total": len(proposal.sections),
            "partners": active,
            "members": members,
            "can_assign": can(user, "assign", proposal.sections[0]) if proposal.sections else False,
            "labels": section_workflow().labels,
            "today": date.today(),
        },
    )


def _parse_date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(status_code=400) from None


@view
@login_required
def assign(request: Request) -> Response:
    proposal = _proposal(request)
    section = _section(request, proposal)
    user = current_user(request)
    require(user, "assign", section)
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
    flash(request, _("“%(title)s” is assigned.", title=section.title))
    return redirect(request, _url(proposal))


@view
@login_required
def editor(request: Request) -> Response:
    proposal = _proposal(request)
    section = _section(request, proposal)
    user = current_user(request)
    workflow = section_workflow()
    options = []
    if can(user, "edit_text", section):
        options = sections.options(section, _role(user, section), WRITER_TRIGGERS)
    return render(
        request,
        "sections/edit.html",
        {
            "proposal": proposal,
            "section": section,
            "can_edit": can(user, "edit_text", section),
            "count": count_characters(section.text),
            "preview": render_html(section.text),
            "labels": workflow.labels,
            "options": options,
            "threads": comments.threads(db(request), section),
            "verdicts": reviews.latest_verdicts(db(request), section),
            "can_comment": comments.may_comment(user, proposal),
            "people": [p.name for p in comments.participants(db(request), proposal)],
            "values": {},
            "errors": {},
        },
    )


def _role(user: User, section: Section) -> str:
    """The role a section's writer acts in: the coordinator, or a writer of its partner."""
    return "coordinator" if can(user, "assign", section) else "writer"


@view
@login_required
def save(request: Request) -> Response:
    """Autosave (JSON for the editor's script) and the plain "Save" button (a redirect)."""
    proposal = _proposal(request)
    section = _section(request, proposal)
    user = current_user(request)
    require(user, "edit_text", section)
    data = form(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    base = form_id(data.get("base"))
    text = data.get("text")
    if base is None or not isinstance(text, str):
        return _refusal(
            request, proposal, section, _("The editor sent an incomplete save."), wants_json
        )
    # The request has only read so far: end its transaction, so that its connection goes
    # back to the pool before the save takes one (never two at once: no pool deadlock).
    db(request).commit()
    try:
        result = sections.save(request.app.state.sessionmaker, section.id, user.id, text, base)
    except sections.Busy as exc:
        if wants_json:  # the editor keeps the text and tries again shortly
            return JSONResponse({"kind": "busy", "message": str(exc)}, status_code=503)
        return _refusal(request, proposal, section, str(exc), wants_json)
    except sections.SaveRefused as exc:
        return _refusal(request, proposal, section, str(exc), wants_json)
    _announce(request, section, result)
    if wants_json:
        return JSONResponse(
            {
                "kind": result.kind,
                "number": result.number,
                "text": result.text,
                "conflict": result.conflict_number,
                "count": count_characters(result.text),
                "preview": render_html(result.text),
            }
        )
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
        return redirect(request, _url(proposal, section, f"/history?a={result.number}"))
    flash(request, _("Saved."))
    return redirect(request, _url(proposal, section))


def _refusal(
    request: Request, proposal: Proposal, section: Section, message: str, wants_json: bool
) -> Response:
    if wants_json:
        return JSONResponse({"kind": "refused", "message": message}, status_code=409)
    flash(request, message, "error")
    return redirect(request, _url(proposal, section))


@view
@login_required
def state(request: Request) -> Response:
    proposal = _proposal(request)
    section = _section(request, proposal)
    user = current_user(request)
    require(user, "edit_text", section)
    role = _role(user, section)
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


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The differences between two texts, word by word: (op, text) with op in ' ', '-', '+'."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append((" ", "".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(("-", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(("+", "".join(b[j1:j2])))
    return out


@view
@login_required
def history(request: Request) -> Response:
    proposal = _proposal(request)
    section = _section(request, proposal)
    revisions = list(
        db(request).scalars(
            select(Revision)
            .where(Revision.section_id == section.id)
            .options(selectinload(Revision.author))
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
        diff = word_diff(by_number[older].text, by_number[newer].text)
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
        },
    )


def _number(raw: str | None, known: dict[int, Revision]) -> int | None:
    number = form_id(raw)
    return number if number in known else None


@view
@login_required
def restore(request: Request) -> Response:
    proposal = _proposal(request)
    section = _section(request, proposal)
    user = current_user(request)
    require(user, "edit_text", section)
    number = form_id(form(request).get("number"))
    revision = (
        db(request).scalar(
            select(Revision).where(Revision.section_id == section.id, Revision.number == number)
        )
        if number is not None
        else None
    )
    if revision is None:
        raise HTTPException(status_code=404)
    db(request).commit()  # release the request's connection first (see save)
    result = sections.save(
        request.app.state.sessionmaker,
        section.id,
        user.id,
        revision.text,
        section.current_number,
        kind="restore",
    )
    _announce(request, section, result)
    flash(
        request,
        _("Revision %(n)s is restored as revision %(m)s.", n=revision.number, m=result.number),
    )
    return redirect(request, _url(proposal, section))


class CommentForm(Form):
    body: CleanText = Field(min_length=1, max_length=comments.MAX_BODY)
    quote: CleanText = Field(default="", max_length=comments.MAX_QUOTE)
    parent: str = Field(default="", max_length=40)


@view
@login_required
def comment(request: Request) -> Response:
    proposal = _proposal(request)
    section = _section(request, proposal)
    user = current_user(request)
    if not comments.may_comment(user, proposal):
        raise HTTPException(status_code=403)
    url = _url(proposal, section)
    try:
        data = validate(CommentForm, form_dict(form(request)))
    except FormErrors as exc:
        flash(request, next(iter(exc.errors.values())), "error")
        return redirect(request, url + "#comments")
    parent = None
    if data.parent:
        parent = db(request).scalar(
            select(Comment).where(
                Comment.public_id == data.parent, Comment.section_id == section.id
            )
        )
        if parent is None:
            raise HTTPException(status_code=404)
    comments.add(
        db(request), user, proposal, section, data.body, data.quote, parent, link=url + "#comments"
    )
    flash(request, _("Your comment is posted."))
    return redirect(request, url + "#comments")


@view
@login_required
def resolve_comment(request: Request) -> Response:
    proposal = _proposal(request)
    section = _section(request, proposal)
    if not comments.may_comment(current_user(request), proposal):
        raise HTTPException(status_code=403)
    thread = db(request).scalar(
        select(Comment).where(
            Comment.public_id == request.path_params["cid"],
            Comment.section_id == section.id,
            Comment.parent_id.is_(None),
        )
    )
    if thread is None:
        raise HTTPException(status_code=404)
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


@view
@login_required
def events(request: Request) -> Response:
    """Server-sent events for the section editor (presence, newer versions)."""
    proposal = _proposal(request)
    section = _section(request, proposal)
    user = current_user(request)
    return EventSourceResponse(
        _stream(request.app.state.broker, section.public_id, user.id, user.name),
        ping=15,
        headers={"Cache-Control": "no-store"},
    )


def _announce(request: Request, section: Section, result: sections.SaveResult) -> None:
    """Tell the section's open editors about a new current text (after the commit)."""
    if result.kind in ("save", "merge", "restore"):
        user = current_user(request)
        request.app.state.broker.publish(
            section.public_id,
            {"type": "saved", "user_id": user.id, "name": user.name, "number": result.number},
        )


class AnnexForm(Form):
    title: CleanText = Field(min_length=1, max_length=300)
    char_limit: int | None = Field(default=None, ge=1, le=100_000)


@view
@login_required
def add_annex(request: Request) -> Response:
    proposal = _proposal(request)
    user = current_user(request)
    if proposal_role(user, proposal) != "coordinator":
        raise HTTPException(status_code=403)
    values = form_dict(form(request))
    if not str(values.get("char_limit") or "").strip():
        values["char_limit"] = None
    try:
        data = validate(AnnexForm, values)
    except FormErrors as exc:
        flash(request, next(iter(exc.errors.values())), "error")
        return redirect(request, _url(proposal) + "#add")
    section = sections.add_annex(proposal, data.title, data.char_limit)
    db(request).flush()
    flash(request, _("“%(title)s” is added.", title=section.title))
    return redirect(request, _url(proposal))


@view
@login_required
def reorder(request: Request) -> Response:
    proposal = _proposal(request)
    section = _section(request, proposal)
    require(current_user(request), "assign", section)
    step = -1 if form(request).get("direction") == "up" else 1
    sections.move_in_order(proposal, section, step)
    return redirect(request, _url(proposal))


routes = [
    Route("/proposals/{pid}/sections", dashboard, name="sections"),
    Route("/proposals/{pid}/sections/add", add_annex, methods=["POST"]),
    Route("/proposals/{pid}/sections/{key}", editor, name="section"),
    Route("/proposals/{pid}/sections/{key}/move", reorder, methods=["POST"]),
    Route("/proposals/{pid}/sections/{key}/assign", assign, methods=["POST"]),
    Route("/proposals/{pid}/sections/{key}/save", save, methods=["POST"], name="save_section"),
    Route("/proposals/{pid}/sections/{key}/state", state, methods=["POST"]),
    Route("/proposals/{pid}/sections/{key}/history", history, name="section_history"),
    Route("/proposals/{pid}/sections/{key}/events", events, name="section_events"),
    Route("/proposals/{pid}/sections/{key}/restore", restore, methods=["POST"]),
    Route("/proposals/{pid}/sections/{key}/comments", comment, methods=["POST"]),
    Route("/proposals/{pid}/sections/{key}/comments/{cid}", resolve_comment, methods=["POST"]),
]
