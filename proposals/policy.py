"""Who may do what: the one place that decides.

Routes call :func:`require` before acting and use the query helpers here to
list only what the user may see. A forbidden action raises ``HTTPException``
(403), which the app renders as a page in the user's language; a proposal the
user may not see at all is a 404, so that nobody learns it exists.

Roles in a proposal: ``coordinator`` (the lead partner's person in charge),
``writer``, ``mentor`` and ``viewer`` come from ``proposal_access`` rows; a
member of an active partner organisation is a ``writer`` without one; a
member of an organisation invited but not yet answering is an ``invitee``,
who may only answer the invitation.

Mentors coach, they do not write: a ``mentor`` reads everything of the
proposals they mentor, comments and gives verdicts, and passes no other
action (text, assignments, budget, consortium), whatever the target. A user
with mentor standing who opens a proposal they do not mentor is refused
with 403 (they know such proposals exist); other outsiders get 404.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, or_, select
from starlette.exceptions import HTTPException

from proposals.models import (
    Idea,
    Membership,
    Organisation,
    Partner,
    Proposal,
    ProposalAccess,
    Section,
    User,
)
from workflow import READ_ONLY_STATES

PROPOSAL_ROLES = ("coordinator", "writer", "mentor", "viewer")
READERS = frozenset(PROPOSAL_ROLES)
CONSORTIUM_MANAGERS = frozenset({"coordinator"})
#: The only actions a mentor passes: anything else (edit_text, assign, edit_budget, ...) fails.
MENTOR_ACTIONS = frozenset({"view", "comment", "review", "give_verdict"})


def organisation_role(user: User | None, organisation: Organisation) -> str | None:
    if user is None:
        return None
    for membership in user.memberships:
        if membership.organisation_id == organisation.id:
            return membership.role
    return None


def organisation_ids(user: User | None) -> set[int]:
    return {m.organisation_id for m in user.memberships} if user else set()


def proposal_role(user: User | None, proposal: Proposal) -> str | None:
    """The user's role in ``proposal`` (see the module docstring), or None."""
    if user is None:
        return None
    for access in proposal.access:
        if access.user_id == user.id:
            return access.role
    mine = organisation_ids(user)
    statuses = {p.status for p in proposal.partners if p.organisation_id in mine}
    if "active" in statuses:
        return "writer"
    if "invited" in statuses:
        return "invitee"
    return None


def proposal_of(target: object) -> Proposal | None:
    """The proposal a target belongs to (itself, or through ``.proposal`` / ``.partner``)."""
    if isinstance(target, Proposal):
        return target
    proposal = getattr(target, "proposal", None)
    if isinstance(proposal, Proposal):
        return proposal
    partner = getattr(target, "partner", None)
    return proposal_of(partner) if partner is not None else None


def can(user: User | None, action: str, target: object) -> bool:
    """True when ``user`` may do ``action`` on ``target``."""
    if user is None:
        return False
    if action == "admin":
        return user.is_admin
    proposal = proposal_of(target)
    if proposal is not None and proposal_role(user, proposal) == "mentor":
        # Generic on purpose: a new editing action elsewhere is refused to mentors too.
        return action in MENTOR_ACTIONS
    if isinstance(target, Organisation):
        role = organisation_role(user, target)
        if action == "view":
            return True
        if action == "see_members":
            return role is not None or user.is_admin
        if action in ("edit", "invite", "manage_members"):
            return role == "admin" or user.is_admin
    if isinstance(target, Idea):
        if action == "view":
            return target.status == "open" or target.organisation_id in organisation_ids(user)
        if action in ("edit", "close", "answer_interest", "start_proposal"):
            return target.organisation_id in organisation_ids(user)
        if action == "express_interest":
            return target.status == "open" and bool(
                organisation_ids(user) - {target.organisation_id}
            )
    if isinstance(target, Proposal):
        role = proposal_role(user, target)
        if action == "view":
            return role in READERS
        if action == "manage_consortium":
            return role in CONSORTIUM_MANAGERS
        if action == "comment":
            return role in ("coordinator", "writer")
        if action == "request_review":
            return role == "coordinator"
        if action == "export":  # the application and the package go into the export history
            return role in CONSORTIUM_MANAGERS
    if isinstance(target, Section):
        role = proposal_role(user, target.proposal)
        if action == "view":
            return role in READERS
        if action == "assign":
            return role == "coordinator"
        if action == "edit_text":
            if role == "coordinator":
                return True
            partner = target.partner
            return (
                role == "writer"
                and partner is not None
                and (partner.organisation_id in organisation_ids(user))
            )
        if action == "review":
            return role in ("coordinator", "mentor")
    if isinstance(target, Partner):
        mine = target.organisation_id in organisation_ids(user)
        manager = proposal_role(user, target.proposal) in CONSORTIUM_MANAGERS
        if action == "answer_invitation":
            return mine and target.status == "invited"
        if action in ("set_contact", "withdraw", "export_declaration"):
            return (mine or manager) and target.status == "active"
        if action == "sign_off":  # a partner signs for itself, the coordinator included
            return mine and target.status == "active"
        if action == "edit_budget":
            # A partner's writers edit its own budget; the coordinator edits all of them;
            # nobody while the proposal is signed or later (the coordinator reopens it).
            if target.proposal.status in READ_ONLY_STATES:
                return False
            role = proposal_role(user, target.proposal)
            writer = role == "writer" and mine
            return target.status == "active" and (role == "coordinator" or writer)
    return False


def require(user: User | None, action: str, target: object) -> None:
    """Refuse with 403 unless ``user`` may do ``action`` on ``target``."""
    if not can(user, action, target):
        raise HTTPException(status_code=403)


def require_proposal(
    user: User | None, proposal: Proposal | None, action: str = "view"
) -> Proposal:
    """The proposal if the user may ``action`` it; 404 if they may not even see it.

    A user with mentor standing gets 403 for a proposal they do not mentor.
    """
    if proposal is None:
        raise HTTPException(status_code=404)
    if proposal_role(user, proposal) in (None, "invitee"):
        raise HTTPException(status_code=403 if user is not None and user.is_mentor else 404)
    require(user, action, proposal)
    return proposal


def visible_proposals(user: User) -> Select[tuple[Proposal]]:
    """Proposals the user may open: by an access row or an active partner organisation."""
    member_of_active_partner = exists().where(
        Partner.proposal_id == Proposal.id,
        Partner.status == "active",
        Partner.organisation_id.in_(
            select(Membership.organisation_id).where(Membership.user_id == user.id)
        ),
    )
    has_access = exists().where(
        ProposalAccess.proposal_id == Proposal.id, ProposalAccess.user_id == user.id
    )
    return select(Proposal).where(or_(has_access, member_of_active_partner))
