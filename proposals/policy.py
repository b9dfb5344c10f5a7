"""Who may do what: the roles a person holds towards a target, checked against the one table.

The table (action x role x state) is ``workflow.policy.POLICY``. This module
works out which of its roles a user holds towards a target and in which
state the target is, and answers :func:`can` / :func:`require`. Routes never
decide access themselves; templates ask :func:`can` for the buttons they show,
so a page never offers what the server would refuse.

Roles in a proposal: ``coordinator`` (the lead partner's person in charge,
recorded in ``proposal_access`` and valid while they belong to the lead
organisation), ``mentor`` and ``viewer`` (``proposal_access`` rows),
``writer`` (a member of an active partner organisation) and ``invitee`` (a
member of an organisation invited but not yet answering, who may only
answer). Mentors coach, they do not write: with a mentor's access row a
person holds no partner or section role, whatever their organisations.

A proposal the user may not read is a 404, so nobody learns it exists; a
user with mentor standing gets 403 (they know such proposals exist).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased, defer

from proposals import urls
from proposals.errors import Denied
from proposals.i18n import gettext as _
from proposals.models import (
    Comment,
    Idea,
    Membership,
    Organisation,
    OrganisationInvitation,
    Partner,
    Proposal,
    ProposalAccess,
    ProposalInvitation,
    ReviewRound,
    Section,
    User,
)
from workflow import proposal_workflow
from workflow.policy import POLICY, Rule

PROPOSAL_ROLES = ("coordinator", "writer", "mentor", "viewer")


def organisation_ids(user: User | None) -> set[int]:
    return {m.organisation_id for m in user.memberships} if user else set()


def _admin_of(user: User) -> set[int]:
    return {m.organisation_id for m in user.memberships if m.role == "admin"}


def proposal_role(user: User | None, proposal: Proposal) -> str | None:
    """The user's role in ``proposal`` (see the module docstring), or None."""
    if user is None:
        return None
    mine = organisation_ids(user)
    row = next((a for a in proposal.access if a.user_id == user.id), None)
    if row is not None and row.role in ("mentor", "viewer"):
        return row.role
    if row is not None and row.role == "coordinator":
        lead = next((p for p in proposal.partners if p.role == "lead"), None)
        if lead is not None and lead.organisation_id in mine:
            return "coordinator"
    statuses = {p.status for p in proposal.partners if p.organisation_id in mine}
    if "active" in statuses:
        return "writer"
    if "invited" in statuses:
        return "invitee"
    return None


def proposal_of(target: object) -> Proposal | None:
    """The proposal a target belongs to (itself, or through its section, partner or round)."""
    if isinstance(target, Proposal):
        return target
    if isinstance(target, Comment):
        return target.section.proposal
    for name in ("proposal", "section", "partner"):
        parent = getattr(target, name, None)
        if parent is not None and not isinstance(parent, str):
            return proposal_of(parent)
    return None


def _email_matches(user: User, address: str) -> bool:
    return user.email.strip().casefold() == address.strip().casefold()


def kind_of(target: object) -> str:
    """The kind of target as the policy table names it."""
    kinds: list[tuple[type, str]] = [
        (Organisation, "organisation"),
        (OrganisationInvitation, "organisation_invitation"),
        (Idea, "idea"),
        (Proposal, "proposal"),
        (ProposalInvitation, "proposal_invitation"),
        (Partner, "partner"),
        (Section, "section"),
        (Comment, "comment"),
        (ReviewRound, "review_round"),
    ]
    if target is None:
        return "site"
    for cls, name in kinds:
        if isinstance(target, cls):
            return name
    raise TypeError(f"no policy for targets of type {type(target).__name__}")


def state_of(target: object) -> str | None:
    if isinstance(target, Idea):
        return target.status
    proposal = proposal_of(target)
    return proposal.status if proposal is not None else None


def roles_of(user: User | None, target: object) -> frozenset[str]:
    """Every role ``user`` holds towards ``target`` (see ``workflow.policy.ROLES``)."""
    roles = {"anyone"}
    if user is None:
        return frozenset(roles)
    roles.add("user")
    if user.is_admin:
        roles.add("admin")
    mine = organisation_ids(user)
    if isinstance(target, Organisation):
        if target.id in mine:
            roles.add("member")
        if target.id in _admin_of(user):
            roles.add("org_admin")
    elif isinstance(target, OrganisationInvitation | ProposalInvitation):
        if _email_matches(user, target.email):
            roles.add("addressee")
    elif isinstance(target, Idea):
        if target.organisation_id in mine:
            roles.add("idea_owner")
        if mine - {target.organisation_id}:
            roles.add("other_member")
    proposal = proposal_of(target)
    if proposal is None or isinstance(target, ProposalInvitation):
        return frozenset(roles)
    role = proposal_role(user, proposal)
    if role is not None:
        roles.add(role)
    partner = target if isinstance(target, Partner) else None
    if isinstance(target, Section) and target.partner_id is not None:
        partner = next((p for p in proposal.partners if p.id == target.partner_id), None)
    ours = partner is not None and partner.organisation_id in mine
    if (
        ours
        and isinstance(target, Partner)
        and role != "mentor"
        and target.status
        in (
            "invited",
            "active",
        )
    ):
        roles.add("partner_organisation")
    if ours and role in ("coordinator", "writer") and partner.status == "active":  # type: ignore[union-attr]
        roles.add("section_writer" if isinstance(target, Section) else "partner_member")
        if partner.organisation_id in _admin_of(user) and isinstance(target, Partner):  # type: ignore[union-attr]
            roles.add("partner_admin")
    return frozenset(roles)


def rule(action: str) -> Rule:
    try:
        return POLICY[action]
    except KeyError:
        raise LookupError(f"the action {action!r} is not in the policy table") from None


def kind_of_action(action: str) -> str:
    """The kind of target ``action`` applies to ("site", "proposal", "section", ...)."""
    return rule(action).target


def can(user: User | None, action: str, target: object = None) -> bool:
    """True when ``user`` may do ``action`` on ``target`` now (None: the site itself)."""
    chosen = rule(action)
    if kind_of(target) != chosen.target:
        raise TypeError(f"{action} applies to a {chosen.target}, not a {kind_of(target)}")
    return chosen.allows(roles_of(user, target), state_of(target))


def needs_sign_in(action: str) -> bool:
    """Whether nobody signed out can ever do ``action`` (then a visitor is asked to sign in)."""
    return "anyone" not in rule(action).grants


def require(user: User | None, action: str, target: object = None) -> None:
    """Refuse with :class:`Denied` unless ``user`` may do ``action`` on ``target``.

    A proposal the user may not read at all is refused as "not found"; the
    reason names the proposal's state when a role would allow it in another.
    """
    if can(user, action, target):
        return
    proposal = proposal_of(target)
    answering = isinstance(target, Partner) and "partner_organisation" in roles_of(user, target)
    if (
        proposal is not None
        and action != "view_proposal"
        and not answering
        and not can(user, "view_proposal", proposal)
    ):
        raise Denied(_hidden_status(user))
    if isinstance(target, Idea) and not can(user, "view_idea", target):
        raise Denied(404)
    if action == "view_proposal":
        if user is not None and user.is_admin:  # they list every proposal to assign mentors
            raise Denied(
                403,
                _(
                    "Only the consortium and its mentors can open a proposal. As an "
                    "administrator you assign mentors on the Mentors page, without reading "
                    "the proposal."
                ),
            )
        raise Denied(_hidden_status(user))
    chosen = rule(action)
    if any(role in chosen.grants for role in roles_of(user, target)):
        # The role allows it, the state does not: say why, and where to go back to.
        raise Denied(409, _state_reason(chosen, target), _back(target))
    raise Denied(403)


def _hidden_status(user: User | None) -> int:
    # Mentors and administrators know which proposals exist: they are told "not allowed".
    return 403 if user is not None and (user.is_mentor or user.is_admin) else 404


def _state_reason(chosen: Rule, target: object) -> str:
    if chosen.refusal:
        return _(chosen.refusal)
    proposal = proposal_of(target)
    if proposal is None:
        return _("This cannot be done any more.")
    label = proposal_workflow(proposal.workflow_version).labels.get(proposal.status, "")
    return _(
        "This cannot be done while the proposal is “%(state)s”.",
        state=_(label) if label else proposal.status,
    )


def _back(target: object) -> str:
    if isinstance(target, ProposalInvitation | OrganisationInvitation) or target is None:
        return urls.path("home")
    try:
        return urls.link(target)
    except TypeError:
        proposal = proposal_of(target)
        return urls.link(proposal) if proposal is not None else urls.path("home")


def visible_proposals(user: User) -> Select[tuple[Proposal]]:
    """Proposals the user may open: by an access row or an active partner organisation.

    The same rule as :func:`proposal_role`, as a query: a coordinator's row counts
    while they belong to the lead organisation; writers' rows are not needed.
    """
    my_organisations = select(Membership.organisation_id).where(Membership.user_id == user.id)
    member_of_active_partner = exists().where(
        Partner.proposal_id == Proposal.id,
        Partner.status == "active",
        Partner.organisation_id.in_(my_organisations),
    )
    coaches_or_reads = exists().where(
        ProposalAccess.proposal_id == Proposal.id,
        ProposalAccess.user_id == user.id,
        ProposalAccess.role.in_(("mentor", "viewer")),
    )
    return select(Proposal).where(or_(coaches_or_reads, member_of_active_partner))


def _role_columns(user_id: Any, proposal_id: Any, partner_id: Any = None) -> dict[str, Any]:
    """Each role a user can hold towards a proposal (or one of its sections), as a SQL
    condition on the row whose proposal is ``proposal_id`` (and partner ``partner_id``).

    The same rules as :func:`roles_of` and :func:`proposal_role`, as a query: an access
    row as mentor or viewer is that role and nothing else; a coordinator's row counts
    while they belong to the lead organisation; writers are members of an active
    partner; a section's writers are the coordinator or a writer from its partner.
    """
    mine = select(Membership.organisation_id).where(Membership.user_id == user_id)
    # Its own name for the partner table: the row asked about may be a partner's own.
    partner = aliased(Partner)

    def access(*roles: str) -> Any:
        return exists().where(
            ProposalAccess.proposal_id == proposal_id,
            ProposalAccess.user_id == user_id,
            # Not IN: a list of values is rendered anew on every execution.
            or_(*(ProposalAccess.role == r for r in roles)),
        )

    reader_only = access("mentor", "viewer")
    coordinator = and_(
        ~reader_only,
        access("coordinator"),
        exists().where(
            partner.proposal_id == proposal_id,
            partner.role == "lead",
            partner.organisation_id.in_(mine),
        ),
    )
    writer = and_(
        ~reader_only,
        ~coordinator,
        exists().where(
            partner.proposal_id == proposal_id,
            partner.status == "active",
            partner.organisation_id.in_(mine),
        ),
    )
    columns = {
        "coordinator": coordinator,
        "writer": writer,
        "mentor": access("mentor"),
        "viewer": access("viewer"),
    }
    if partner_id is not None:
        columns["section_writer"] = and_(
            ~reader_only,
            or_(coordinator, writer),
            exists().where(
                partner.id == partner_id,
                partner.status == "active",
                partner.organisation_id.in_(mine),
            ),
        )
    return columns


def rights_columns(
    actions: tuple[str, ...], proposal_id: Any, partner_id: Any = None
) -> list[Any] | None:
    """The roles the table grants ``actions`` to, each a labelled SQL condition for the
    user ``bindparam("user_id")`` on the row whose proposal is ``proposal_id`` (see
    :func:`_role_columns`); read the answer with :func:`rights_of`.

    None when an action grants a role SQL cannot tell here (then the full way decides).
    """
    chosen = [rule(a) for a in actions]
    target = "section" if partner_id is not None else "proposal"
    if any(r.target not in (target, "proposal") for r in chosen):
        return None
    columns = _role_columns(bindparam("user_id"), proposal_id, partner_id)
    granted = sorted({r for c in chosen for r in c.grants} - {"anyone", "user", "admin"})
    if any(r not in columns for r in granted):
        return None
    return [columns[r].label(r) for r in granted]


def rights_of(user: User, actions: tuple[str, ...], state: str | None, row: Any) -> dict[str, bool]:
    """Whether ``user`` may do each action now, from a row with :func:`rights_columns`."""
    held = {"anyone", "user"} | ({"admin"} if user.is_admin else set())
    rules = {a: rule(a) for a in actions}
    granted = {r for chosen in rules.values() for r in chosen.grants}
    held |= {r for r, value in row._mapping.items() if r in granted and bool(value)}
    return {a: chosen.allows(held, state) for a, chosen in rules.items()}


def section_if_allowed(
    session: Session, user: User | None, action: str, public_id: str, key: str
) -> Section | None:
    """Section ``key`` of proposal ``public_id`` if ``user`` may do ``action`` on it now.

    One query answers it: the section, its proposal's state and the roles the table
    grants the action to (read from ``POLICY``), so a hot path such as a save need not
    load the consortium. None means "not found or not allowed": the caller then goes
    the full way (:func:`require`) for the right refusal.
    """
    found = section_rights(session, user, public_id, key, (action,))
    return found[0] if found is not None and found[1][action] else None


def section_rights(
    session: Session, user: User | None, public_id: str, key: str, actions: tuple[str, ...]
) -> tuple[Section, dict[str, bool]] | None:
    """Section ``key`` of proposal ``public_id`` and whether ``user`` may do each action now.

    One query, as :func:`section_if_allowed`; every action must target a section or
    its proposal (the roles are the same). None when the section does not exist, the
    user is None, or an action grants a role the query cannot tell.
    """
    if user is None:
        return None
    query = _section_queries.get(actions)
    if query is None:
        query = _section_queries[actions] = _section_query(actions)
    if query is False:
        return None  # a role this query cannot tell: the full way decides
    row = session.execute(query, {"user_id": user.id, "pid": public_id, "key": key}).first()
    if row is None:
        return None
    return row[0], rights_of(user, actions, row[1], row)


#: The query of :func:`section_rights` for each tuple of actions, built once (then only bound).
_section_queries: dict[tuple[str, ...], Any] = {}


def _section_query(actions: tuple[str, ...]) -> Any:
    columns = rights_columns(actions, Section.proposal_id, Section.partner_id)
    if columns is None:
        return False
    return (
        select(Section, Proposal.status, *columns)
        .join(Proposal, Proposal.id == Section.proposal_id)
        .where(Proposal.public_id == bindparam("pid"), Section.key == bindparam("key"))
        # Not its text: a save reads that under its own lock (loaded here only if asked).
        .options(defer(Section.text), defer(Section.guidance))
    )
