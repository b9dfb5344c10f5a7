"""The one path for changes to a proposal's state: fire a workflow trigger, keep the audit.

Guards come from the call's check engine (``proposals.calls.checks``) run on a
snapshot of the proposal; roles from ``proposals.policy``. A stale action (two
people pressing at once, or a replayed form) is refused, never applied twice.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from proposals.calls import library
from proposals.calls.checks import blocking, run_checks
from proposals.calls.facts import PartnerFacts, ProposalFacts, SectionFacts
from proposals.calls.schema import CallProfile
from proposals.domain import budget
from proposals.i18n import gettext as _
from proposals.models import Proposal, StatusChange, User, utcnow
from proposals.policy import proposal_role
from workflow import Change, GuardResult, WrongState, proposal_workflow


def profile_for(session: Session, proposal: Proposal) -> CallProfile:
    """The call profile version the proposal started with."""
    profile = library.get(session, proposal.call_id, proposal.call_version)
    if profile is None:  # every stored version is kept, so this means a broken database
        raise LookupError(f"call profile {proposal.call_id} v{proposal.call_version} is missing")
    return profile


def facts_of(proposal: Proposal) -> ProposalFacts:
    """What the checks look at: the consortium, the sections and each partner's budget."""
    session = object_session(proposal)
    money = budget.money_facts(session, proposal) if session is not None else {}
    partners = tuple(
        PartnerFacts(
            key=p.public_id,
            name=p.organisation.name,
            country=p.organisation.country,
            role=p.role,  # type: ignore[arg-type]
            **money.get(p.id, {}),
        )
        for p in proposal.partners
        if p.status == "active"
    )
    sections = tuple(SectionFacts(s.key, s.title, s.text) for s in proposal.sections)
    return ProposalFacts(
        now=utcnow(),
        partners=partners,
        sections=sections,
        duration_months=proposal.duration_months,
    )


def _open_invitations(proposal: Proposal) -> GuardResult:
    waiting = [p.organisation.name for p in proposal.partners if p.status == "invited"]
    if not waiting:
        return GuardResult(True)
    return GuardResult(
        False, (_("Waiting for an answer from: %(names)s.", names=", ".join(waiting)),)
    )


def guards(session: Session, proposal: Proposal) -> dict[str, Callable[[], GuardResult]]:
    """What each guard name of the workflow checks for this proposal."""
    from proposals.domain import final

    profile = profile_for(session, proposal)

    def findings(areas: list[str] | None) -> GuardResult:
        errors = blocking(run_checks(profile, facts_of(proposal), areas))  # type: ignore[arg-type]
        return GuardResult(not errors, tuple(f"{f.message} ({f.rule})" for f in errors))

    return {
        "partnership_rules": lambda: findings(["partnership"]),
        "submission_rules": lambda: findings(None),
        "no_open_invitations": lambda: _open_invitations(proposal),
        "sign_offs": lambda: final.all_signed_off(session, proposal),
    }


def options(session: Session, proposal: Proposal, user: User) -> list:  # type: ignore[type-arg]
    """The triggers the user may see now, each with whether it may fire and why not."""
    role = proposal_role(user, proposal) or ""
    workflow = proposal_workflow(proposal.workflow_version)
    with workflow.bind(proposal, role, guards(session, proposal)) as bound:
        return bound.options()


def fire(
    session: Session, proposal: Proposal, user: User, trigger: str, expected_state: str
) -> Change:
    """Fire ``trigger`` as ``user``; raise WrongState when the proposal moved meanwhile.

    ``expected_state`` is the state the user saw when pressing the button.
    """
    if proposal.status != expected_state:
        raise WrongState(f"expected {expected_state!r}, found {proposal.status!r}")
    role = proposal_role(user, proposal) or ""
    workflow = proposal_workflow(proposal.workflow_version)
    with workflow.bind(proposal, role, guards(session, proposal)) as bound:
        change = bound.fire(trigger)
    session.add(
        StatusChange(
            proposal_id=proposal.id,
            actor_id=user.id,
            trigger=change.trigger,
            source=change.source,
            dest=change.dest,
            role=change.role,
        )
    )
    try:
        session.flush()  # the version check happens here, inside the request
    except StaleDataError:
        session.rollback()
        raise WrongState("the proposal was changed by someone else") from None
    return change


def record(session: Session, proposal: Proposal, user: User, event: str, detail: str = "") -> None:
    """Audit a consortium change that is not a state transition (e.g. a partner accepted)."""
    session.add(
        StatusChange(
            proposal_id=proposal.id,
            actor_id=user.id,
            trigger=event,
            source=proposal.status,
            dest=proposal.status,
            role=proposal_role(user, proposal) or "",
            detail=detail[:500],
        )
    )
