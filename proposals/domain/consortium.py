"""The consortium: starting a proposal, inviting partners, answering, handing over the lead.

Domain functions take the session and the acting user, never the request,
and never commit: the request's unit of work does. Refusals are raised as
:class:`ConsortiumError` with a message in the user's language.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload, undefer

from proposals import urls
from proposals.calls.schema import CallProfile
from proposals.calls.standing import closed_reason
from proposals.domain import actions, audit, sections
from proposals.domain.notifications import notify, notify_all
from proposals.errors import NotFound
from proposals.i18n import gettext as _
from proposals.models import (
    Idea,
    Membership,
    Organisation,
    Partner,
    Proposal,
    ProposalAccess,
    ProposalInvitation,
    Section,
    User,
    utcnow,
)
from proposals.policy import can, organisation_ids, rights_columns, rights_of, visible_proposals

PARTNER_ROLES = ("partner", "associated")


class ConsortiumError(Exception):
    """A consortium change that cannot be made; the message says why."""


def load_proposal(
    session: Session, public_id: str, with_sections: bool = False, people: bool = True
) -> Proposal | None:
    """A proposal with its consortium (and its sections) loaded in a fixed number of queries.

    ``people=False`` leaves out the contact persons and the access rows' users (loaded
    on first use): what the policy and a list page need, and no more.
    """
    found = session.execute(_proposal_query(with_sections, people), {"public_id": public_id})
    return found.unique().scalar_one_or_none()


@cache
def _proposal_query(with_sections: bool, people: bool) -> Select[tuple[Proposal]]:
    """The statement of :func:`load_proposal`, built once for each kind (every page runs one)."""
    # The partners come with their organisations in the proposal's own query.
    options = [joinedload(Proposal.partners).joinedload(Partner.organisation)]
    if people:
        options += [
            joinedload(Proposal.partners).selectinload(Partner.contact),
            selectinload(Proposal.access).selectinload(ProposalAccess.user),
        ]
    else:
        options += [selectinload(Proposal.access)]
    if with_sections:
        options += [
            selectinload(Proposal.sections).selectinload(Section.assignee),
            selectinload(Proposal.sections).selectinload(Section.updated_by),
        ]
    # With the digest of its call profile's version: the pages that show the call find
    # the profile parsed in memory, without a query.
    options.append(undefer(Proposal.call_digest))
    return select(Proposal).where(Proposal.public_id == bindparam("public_id")).options(*options)


def visible_to(session: Session, user: User) -> list[Proposal]:
    """The proposals the user may open, most recently changed first, with their partners."""
    return list(
        session.scalars(
            visible_proposals(user)
            .options(selectinload(Proposal.partners).selectinload(Partner.organisation))
            .order_by(Proposal.updated_at.desc())
        )
    )


def pending_invitations(session: Session, user: User) -> list[Partner]:
    """Invitations waiting for an answer from one of the user's organisations."""
    return list(
        session.scalars(
            select(Partner)
            .where(
                Partner.status == "invited",
                Partner.organisation_id.in_(organisation_ids(user) or {-1}),
            )
            .options(
                selectinload(Partner.organisation),
                selectinload(Partner.proposal)
                .selectinload(Proposal.partners)
                .selectinload(Partner.organisation),
            )
            .order_by(Partner.created_at.desc())
        )
    )


def open_invitations(session: Session, proposal: Proposal) -> list[ProposalInvitation]:
    """The proposal's e-mailed invitations that can still be answered."""
    return list(
        session.scalars(
            select(ProposalInvitation).where(
                ProposalInvitation.proposal_id == proposal.id,
                ProposalInvitation.used_at.is_(None),
                ProposalInvitation.expires_at > utcnow(),
            )
        )
    )


def members_by_organisation(session: Session, proposal: Proposal) -> dict[int, list[User]]:
    """The members of each partner organisation (for contact persons and assignments)."""
    members: dict[int, list[User]] = {}
    for membership in session.scalars(
        select(Membership)
        .where(Membership.organisation_id.in_([p.organisation_id for p in proposal.partners]))
        .options(selectinload(Membership.user))
    ):
        members.setdefault(membership.organisation_id, []).append(membership.user)
    return members


#: The statement of :func:`member_names`, built once (the sections dashboard runs it).
_MEMBER_NAMES = (
    select(Membership.organisation_id, User.id, User.name)
    .join(User, User.id == Membership.user_id)
    .join(Partner, Partner.organisation_id == Membership.organisation_id)
    .where(Partner.proposal_id == bindparam("proposal_id"), Partner.status == "active")
    .order_by(Membership.id)
)


def member_names(session: Session, proposal_id: int) -> dict[int, list[tuple[int, str]]]:
    """The people of the proposal's active partners as (user id, name), by organisation."""
    members: dict[int, list[tuple[int, str]]] = {}
    # Plain rows: the connection's execute skips the ORM's result set-up.
    for organisation_id, user_id, name in session.connection().execute(
        _MEMBER_NAMES, {"proposal_id": proposal_id}
    ):
        members.setdefault(organisation_id, []).append((user_id, name))
    return members


class PartnerGlance(NamedTuple):
    """A partner as a list page shows it: plain values."""

    id: int
    public_id: str
    role: str
    status: str
    organisation_id: int
    name: str


class ProposalGlance(NamedTuple):
    """A proposal as a list page shows it: plain values, nothing loaded later."""

    id: int
    public_id: str
    acronym: str
    title: str
    status: str
    language: str | None
    call_id: str
    call_version: int
    call_digest: str | None
    partners: list[PartnerGlance]


_GLANCE_COLUMNS = (
    Proposal.id,
    Proposal.public_id,
    Proposal.acronym,
    Proposal.title,
    Proposal.status,
    Proposal.language,
    Proposal.call_id,
    Proposal.call_version,
    Proposal.call_digest,
)
_PARTNER_COLUMNS = (
    Partner.id,
    Partner.public_id,
    Partner.role,
    Partner.status,
    Partner.organisation_id,
    Organisation.name,
)


def glance(
    session: Session, user: User | None, public_id: str, actions: tuple[str, ...]
) -> tuple[ProposalGlance, dict[str, bool]] | None:
    """Proposal ``public_id`` with its partners, and whether ``user`` may do each action
    now: one query, the policy's roles asked in SQL (:func:`proposals.policy.rights_columns`).

    None when there is no such proposal, nobody is signed in, or an action needs a role
    the query cannot tell: then load the proposal and ask the policy (:func:`glance_of`).
    """
    if user is None:
        return None
    query = _glance_query(actions)
    if query is None:
        return None
    # Plain rows: the connection's execute skips the ORM's result set-up.
    found = session.connection().execute(query, {"user_id": user.id, "public_id": public_id}).all()
    if not found:
        return None
    first, width = found[0], len(_GLANCE_COLUMNS)
    partners = [
        PartnerGlance(*row[width : width + len(_PARTNER_COLUMNS)])
        for row in found
        if row[width] is not None
    ]
    head = ProposalGlance(*first[:width], partners)  # type: ignore[call-arg]
    return head, rights_of(user, actions, head.status, first)


@cache
def _glance_query(actions: tuple[str, ...]) -> Any:
    """The statement of :func:`glance` for these actions, built once."""
    rights = rights_columns(actions, Proposal.id)
    if rights is None:
        return None
    return (
        select(*_GLANCE_COLUMNS, *_PARTNER_COLUMNS, *rights)
        .outerjoin(Partner, Partner.proposal_id == Proposal.id)
        .outerjoin(Organisation, Organisation.id == Partner.organisation_id)
        .where(Proposal.public_id == bindparam("public_id"))
        .order_by(Partner.id)
    )


def glance_of(
    proposal: Proposal, user: User | None, actions: tuple[str, ...]
) -> tuple[ProposalGlance, dict[str, bool]]:
    """:func:`glance` of a loaded proposal (the policy asked in Python)."""
    head = ProposalGlance(
        *(getattr(proposal, c.key) for c in _GLANCE_COLUMNS),  # type: ignore[arg-type]
        [
            PartnerGlance(
                p.id, p.public_id, p.role, p.status, p.organisation_id, p.organisation.name
            )
            for p in proposal.partners
        ],
    )
    return head, {a: can(user, a, proposal) for a in actions}


def find_organisation(session: Session, public_id: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.public_id == public_id))


def lead_of(proposal: Proposal) -> Partner:
    return next(p for p in proposal.partners if p.role == "lead")


def _grant(session: Session, proposal: Proposal, user: User, role: str) -> None:
    """Give ``user`` ``role`` in the proposal; becoming a writer never demotes a coordinator."""
    for access in proposal.access:
        if access.user_id == user.id:
            if not (role == "writer" and access.role in ("coordinator", "mentor")):
                access.role = role
            return
    proposal.access.append(ProposalAccess(user=user, role=role))


def start_proposal(
    session: Session,
    user: User,
    profile: CallProfile,
    lead: Organisation,
    title: str,
    acronym: str,
    idea: Idea | None = None,
    invite: list[Organisation] | None = None,
) -> Proposal:
    """Create a proposal led by ``lead`` on ``profile``'s current version; invite ``invite``."""
    refused = closed_reason(profile, utcnow())
    if refused:
        raise ConsortiumError(refused)
    if lead.id not in {m.organisation_id for m in user.memberships}:
        raise ConsortiumError(_("You can only start a proposal for an organisation you belong to."))
    proposal = Proposal(
        title=title,
        acronym=acronym,
        call_id=profile.id,
        call_version=profile.version,
        status="idea",
        idea=idea,
        created_by_id=user.id,
    )
    proposal.partners.append(
        Partner(
            organisation=lead,
            role="lead",
            status="active",
            contact_user_id=user.id,
            answered_at=utcnow(),
            invited_by_id=user.id,
        )
    )
    proposal.access.append(ProposalAccess(user=user, role="coordinator"))
    sections.create_sections(proposal, profile)
    session.add(proposal)
    session.flush()
    actions.fire(session, proposal, user, "start", expected_state="idea")
    for organisation in invite or []:
        if organisation.id != lead.id:
            invite_organisation(session, user, proposal, organisation, "partner")
    return proposal


def _inviting(proposal: Proposal) -> None:
    if not proposal.status.startswith("partnership."):
        raise ConsortiumError(
            _(
                "Partners are invited while the partnership is formed. Reopen the partnership "
                "to invite more."
            )
        )


def invite_organisation(
    session: Session, user: User, proposal: Proposal, organisation: Organisation, role: str
) -> Partner:
    """Invite an existing organisation; its members answer under "Invitations"."""
    _inviting(proposal)
    if role not in PARTNER_ROLES:
        raise ConsortiumError(_("Choose one of the options."))
    existing = next((p for p in proposal.partners if p.organisation_id == organisation.id), None)
    if existing is not None and existing.role == "lead":
        raise ConsortiumError(_("%(name)s leads this proposal already.", name=organisation.name))
    if existing is not None and existing.status in ("invited", "active"):
        raise ConsortiumError(
            _("%(name)s is already in this consortium or invited.", name=organisation.name)
        )
    if existing is not None:  # declined or withdrawn before: ask again
        existing.status, existing.role, existing.invited_by_id = "invited", role, user.id
        existing.answered_at = None
        partner = existing
    else:
        partner = Partner(
            organisation=organisation, role=role, status="invited", invited_by_id=user.id
        )
        proposal.partners.append(partner)
    session.flush()
    audit.record(session, proposal, user, "invite_partner", organisation.name)
    members = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id)
    )
    notify_all(
        session,
        members,
        "invitation",
        {"by": user.name, "organisation": organisation.name, "proposal": proposal.title},
        urls.path("invitations"),
        actor=user,
    )
    return partner


def invite_by_email(
    session: Session, user: User, proposal: Proposal, email: str, role: str, days: int
) -> ProposalInvitation:
    _inviting(proposal)
    if role not in PARTNER_ROLES:
        raise ConsortiumError(_("Choose one of the options."))
    if email == user.email:
        raise ConsortiumError(_("You cannot invite yourself."))
    pending = session.scalar(
        select(ProposalInvitation).where(
            ProposalInvitation.proposal_id == proposal.id,
            ProposalInvitation.email == email,
            ProposalInvitation.used_at.is_(None),
            ProposalInvitation.expires_at > utcnow(),
        )
    )
    if pending is not None:
        raise ConsortiumError(_("%(email)s has an invitation already.", email=email))
    invitation = ProposalInvitation(
        proposal_id=proposal.id,
        email=email,
        role=role,
        invited_by_id=user.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(invitation)
    session.flush()
    audit.record(session, proposal, user, "invite_by_email", email)
    # Someone already on Engage also sees it under the bell (the e-mail carries the link).
    known = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if known is not None:
        notify(
            session,
            known,
            "invitation",
            {"by": user.name, "organisation": known.name, "proposal": proposal.title},
            urls.path("invitations"),
        )
    return invitation


def answer(session: Session, user: User, partner: Partner, accept: bool) -> bool:
    """Accept or decline an invitation to an organisation; False when already answered.

    The update is conditional, so a double click or two colleagues at once
    make one answer.
    """
    status = "active" if accept else "declined"
    changed = session.execute(
        update(Partner)
        .where(Partner.id == partner.id, Partner.status == "invited")
        .values(status=status, answered_at=utcnow(), contact_user_id=user.id if accept else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        return False
    session.refresh(partner)
    proposal = partner.proposal
    if accept:
        _grant(session, proposal, user, "writer")
    audit.record(
        session,
        proposal,
        user,
        "partner_accepted" if accept else "partner_declined",
        partner.organisation.name,
    )
    return True


def revoke_invitation(session: Session, user: User, proposal: Proposal, public_id: str) -> None:
    """Withdraw an e-mailed invitation that has not been answered: its link stops working."""
    invitation = next(
        (i for i in open_invitations(session, proposal) if i.public_id == public_id), None
    )
    if invitation is None:
        raise NotFound()
    invitation.expires_at = utcnow()
    audit.record(session, proposal, user, "invitation_revoked", invitation.email)


def decline_by_invitation(session: Session, user: User, invitation: ProposalInvitation) -> None:
    """The invited person declines an e-mailed invitation (once)."""
    claimed = session.execute(
        update(ProposalInvitation)
        .where(ProposalInvitation.id == invitation.id, ProposalInvitation.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        audit.record(session, invitation.proposal, user, "partner_declined", user.email)


def join_by_invitation(
    session: Session, user: User, invitation: ProposalInvitation, organisation: Organisation
) -> Partner:
    """Accept an e-mailed invitation on behalf of one of the user's organisations (once)."""
    if organisation.id not in {m.organisation_id for m in user.memberships}:
        raise ConsortiumError(_("Choose one of your organisations."))
    proposal = invitation.proposal
    _inviting(proposal)
    existing = next((p for p in proposal.partners if p.organisation_id == organisation.id), None)
    if existing is not None and existing.status == "active":
        # Checked before the link is used up, so the right organisation can still join.
        raise ConsortiumError(_("%(name)s is already in this consortium.", name=organisation.name))
    claimed = session.execute(
        update(ProposalInvitation)
        .where(ProposalInvitation.id == invitation.id, ProposalInvitation.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise ConsortiumError(_("This invitation has already been used."))
    if existing is None:
        existing = Partner(
            organisation=organisation, role=invitation.role, invited_by_id=invitation.invited_by_id
        )
        proposal.partners.append(existing)
    existing.status, existing.answered_at, existing.contact_user_id = "active", utcnow(), user.id
    _grant(session, proposal, user, "writer")
    session.flush()
    audit.record(session, proposal, user, "partner_accepted", organisation.name)
    return existing


def hand_over_lead(session: Session, user: User, proposal: Proposal, new_lead: Partner) -> None:
    """Make ``new_lead`` the lead partner; its contact person becomes the coordinator."""
    if new_lead.status != "active" or new_lead.role == "lead":
        raise ConsortiumError(_("Only an active partner can take over the lead."))
    if new_lead.contact is None:
        raise ConsortiumError(
            _(
                "%(name)s needs a contact person before it can lead.",
                name=new_lead.organisation.name,
            )
        )
    old = lead_of(proposal)
    old.role = "partner"
    session.flush()  # one lead at a time, also for the database's unique index
    new_lead.role = "lead"
    for access in proposal.access:
        if access.role == "coordinator":
            access.role = "writer"
    _grant(session, proposal, new_lead.contact, "coordinator")
    session.flush()
    audit.record(session, proposal, user, "lead_handed_over", new_lead.organisation.name)


def withdraw_partner(session: Session, user: User, partner: Partner) -> None:
    if partner.role == "lead":
        raise ConsortiumError(
            _("The lead partner cannot withdraw. Hand the lead to another partner first.")
        )
    partner.status = "withdrawn"
    member_ids = set(
        session.scalars(
            select(Membership.user_id).where(Membership.organisation_id == partner.organisation_id)
        )
    )
    proposal = partner.proposal
    for access in list(proposal.access):
        if access.user_id in member_ids and access.role == "writer":
            proposal.access.remove(access)
    session.flush()
    audit.record(session, proposal, user, "partner_withdrawn", partner.organisation.name)


def set_contact(session: Session, user: User, partner: Partner, contact: User) -> None:
    members = set(
        session.scalars(
            select(Membership.user_id).where(Membership.organisation_id == partner.organisation_id)
        )
    )
    if contact.id not in members:
        raise ConsortiumError(_("The contact person must be a member of the organisation."))
    partner.contact_user_id = contact.id
    if partner.role == "lead":
        for access in partner.proposal.access:
            if access.role == "coordinator":
                access.role = "writer"
        _grant(session, partner.proposal, contact, "coordinator")
    else:
        _grant(session, partner.proposal, contact, "writer")
    session.flush()
    audit.record(session, partner.proposal, user, "contact_changed", contact.name)


def mark_newcomer(session: Session, user: User, partner: Partner, newcomer: bool | None) -> None:
    """Say whether ``partner`` is new to the call's programme (None: not known)."""
    if partner.status != "active":
        raise ConsortiumError(_("Only partners in the consortium can be marked."))
    if partner.newcomer is newcomer:
        return
    partner.newcomer = newcomer
    session.flush()
    kind = "newcomer_marked" if newcomer else "newcomer_unmarked"
    audit.record(session, partner.proposal, user, kind, partner.organisation.name)


def set_language(
    session: Session, user: User, proposal: Proposal, profile: CallProfile, language: str
) -> None:
    """Write the application in ``language``, one the call accepts; the call's texts follow."""
    if language not in profile.languages:
        raise ConsortiumError(_("Choose one of the languages the call accepts."))
    old = profile.written_in(proposal.language)
    if old == language:
        return
    proposal.language = language
    sections.retitle_sections(proposal, profile, old, language)
    session.flush()
    audit.record(session, proposal, user, "language_chosen", language)


def set_stage(
    session: Session, user: User, proposal: Proposal, profile: CallProfile, key: str
) -> None:
    """Move the proposal to the call's stage ``key`` (e.g. from the outline to the full form)."""
    stage = next((s for s in profile.stages if s.key == key), None)
    if stage is None:
        raise ConsortiumError(_("Choose one of the call's stages."))
    if profile.stage(proposal.stage) is stage:
        return
    proposal.stage = stage.key
    session.flush()
    language = profile.written_in(proposal.language)
    audit.record(session, proposal, user, "stage_changed", stage.title.get(language))


def end_membership(session: Session, actor: User, person: User, organisation: Organisation) -> None:
    """``person`` no longer belongs to ``organisation``: end what that gave them in its proposals.

    Their access rows as writer (and as coordinator of proposals the organisation
    leads) go, they stop being its contact person and the assignee of its
    sections. Who must act next is told: the coordinator when a partner has no
    contact person left, the organisation's administrators when the lead has no
    coordinator.
    """
    session.expire(person, ["memberships"])
    partners = session.scalars(
        select(Partner)
        .where(
            Partner.organisation_id == organisation.id, Partner.status.in_(("active", "invited"))
        )
        .options(
            selectinload(Partner.proposal).selectinload(Proposal.access),
            selectinload(Partner.proposal).selectinload(Proposal.partners),
            selectinload(Partner.proposal).selectinload(Proposal.sections),
        )
    ).all()
    admins = [
        m.user for m in organisation.memberships if m.role == "admin" and m.user_id != person.id
    ]
    for partner in partners:
        proposal = partner.proposal
        was_coordinator = any(
            a.user_id == person.id and a.role == "coordinator" for a in proposal.access
        )
        for access in list(proposal.access):
            mine = access.user_id == person.id
            if mine and (
                access.role == "writer" or (access.role, partner.role) == ("coordinator", "lead")
            ):
                proposal.access.remove(access)
        for section in proposal.sections:
            if section.partner_id == partner.id and section.assignee_id == person.id:
                section.assignee_id = None
        if partner.contact_user_id == person.id:
            partner.contact_user_id = None
        session.flush()
        audit.record(
            session, proposal, actor, "member_left", f"{person.name} ({organisation.name})"
        )
        payload = {
            "person": person.name,
            "organisation": organisation.name,
            "proposal": proposal.title,
        }
        if partner.role == "lead" and was_coordinator:
            notify_all(
                session, admins, "coordinator_missing", payload, urls.link(proposal, "consortium")
            )
        elif partner.contact_user_id is None and partner.status == "active":
            coordinators = [a.user for a in proposal.access if a.role == "coordinator"]
            notify_all(
                session, coordinators, "contact_missing", payload, urls.link(proposal, "consortium")
            )
