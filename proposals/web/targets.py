"""The records a URL names, loaded with what the page needs and checked against the policy.

Each loader reads its id from the path, answers 404 when there is no such
record, and checks the route's action (``view(action)``) on it when the
action applies to that kind of record. So ``section(request)`` in a route
declared ``view("edit_text")`` returns the section only if the user may edit
its text now; in a route declared ``view("view_proposal")`` only if they may
read the proposal.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request

from proposals.domain import consortium
from proposals.errors import NotFound
from proposals.models import Comment, Idea, Organisation, Partner, Proposal, ReviewRound, Section
from proposals.policy import kind_of, kind_of_action, require, section_if_allowed
from proposals.web.plumbing import authorize, current_user, db


def _check(request: Request, target: object) -> None:
    """Check the route's action when it is about ``target``'s kind; else that it may be read."""
    if kind_of_action(request.state.action) == kind_of(target):
        authorize(request, target)
    elif isinstance(target, Proposal):
        require(current_user(request), "view_proposal", target)


def proposal(
    request: Request, *, sections: bool = False, pid: str | None = None, people: bool = True
) -> Proposal:
    """The proposal of ``{pid}`` with its consortium (and its sections when asked)."""
    found = consortium.load_proposal(
        db(request), pid or request.path_params["pid"], with_sections=sections, people=people
    )
    if found is None:
        raise NotFound()
    if kind_of_action(request.state.action) in ("proposal", "site"):
        _check(request, found)
    elif kind_of_action(request.state.action) != "partner":
        # A section, comment or round: its proposal must be readable first (else 404).
        require(current_user(request), "view_proposal", found)
    return found


def glance(request: Request, *also: str) -> tuple[consortium.ProposalGlance, dict[str, bool]]:
    """The proposal of ``{pid}`` at a glance (plain values, its partners) and whether the
    user may do the route's action and each of ``also`` now, in one query.

    For list pages that show a proposal without changing it. When the route's action is
    not allowed (or there is no such proposal), the full way (:func:`proposal`) gives
    the policy's own refusal.
    """
    actions = (request.state.action, *also)
    user = current_user(request)
    found = consortium.glance(db(request), user, request.path_params["pid"], actions)
    if found is None or not found[1][request.state.action]:
        found = consortium.glance_of(proposal(request, people=False), user, actions)
    request.state.authorized = True
    return found


def section(request: Request, proposal: Proposal, key: str | None = None) -> Section:
    """The section ``{key}`` of ``proposal`` (from its sections when they are loaded)."""
    key = key or request.path_params["key"]
    if "sections" in proposal.__dict__:  # loaded with the proposal
        found = next((s for s in proposal.sections if s.key == key), None)
    else:  # one query, not every section of the proposal
        found = db(request).scalar(
            select(Section).where(Section.proposal_id == proposal.id, Section.key == key)
        )
    if found is None:
        raise NotFound()
    _check(request, found)
    return found


def allowed_section(request: Request) -> Section:
    """The section ``{pid}/{key}`` when the route's action is allowed on it, in one query.

    For the hot paths (a save): no consortium is loaded. When the answer is no,
    the full way (:func:`proposal`, :func:`section`) gives the policy's own refusal.
    """
    found = section_if_allowed(
        db(request),
        current_user(request),
        request.state.action,
        request.path_params["pid"],
        request.path_params["key"],
    )
    if found is None:
        return section(request, proposal(request, sections=True))
    request.state.authorized = True
    return found


def partner(request: Request, proposal: Proposal, public_id: str | None = None) -> Partner:
    """The partner ``{partner}`` (or ``public_id``) of ``proposal``."""
    public_id = public_id if public_id is not None else request.path_params["partner"]
    found = next((p for p in proposal.partners if p.public_id == public_id), None)
    if found is None:
        raise NotFound()
    _check(request, found)
    return found


def comment(request: Request, section: Section, public_id: str) -> Comment:
    """A thread (top-level comment) on ``section``."""
    found = db(request).scalar(
        select(Comment).where(
            Comment.section_id == section.id,
            Comment.public_id == public_id,
            Comment.parent_id.is_(None),
        )
    )
    if found is None:
        raise NotFound()
    _check(request, found)
    return found


def review_round(request: Request, proposal: Proposal, found: ReviewRound | None) -> ReviewRound:
    """A review round of ``proposal`` (loaded by the caller, with what its page needs)."""
    if found is None or found.proposal_id != proposal.id:
        raise NotFound()
    _check(request, found)
    return found


def organisation(request: Request, found: Organisation | None) -> Organisation:
    if found is None:
        raise NotFound()
    _check(request, found)
    return found


def idea(request: Request, found: Idea | None) -> Idea:
    if found is None:
        raise NotFound()
    if kind_of_action(request.state.action) == "idea":
        authorize(request, found)
    return found
