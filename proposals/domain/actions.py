"""The one path for changes to a proposal's state: fire a workflow trigger, keep the audit.

Guards come from the call's check engine (``proposals.calls.checks``) run on a
snapshot of the proposal; roles from ``proposals.policy``. A stale action (two
people pressing at once, or a replayed form) is refused, never applied twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from proposals.calls import library
from proposals.calls.checks import blocking, run_checks
from proposals.calls.facts import ProposalFacts
from proposals.domain import audit, final
from proposals.domain.facts import facts_of
from proposals.i18n import gettext as _
from proposals.models import Proposal, ProposalInvitation, User, utcnow
from proposals.policy import proposal_role
from workflow import Change, GuardResult, WrongState, proposal_workflow
from workflow.policy import FORMING


def _open_invitations(proposal: Proposal) -> GuardResult:
    waiting = [p.organisation.name for p in proposal.partners if p.status == "invited"]
    if not waiting:
        return GuardResult(True)
    return GuardResult(
        False, (_("Waiting for an answer from: %(names)s.", names=", ".join(waiting)),)
    )


def _lapse_invitations(session: Session, proposal: Proposal, user: User) -> None:
    """The partnership is formed: invitations still open lapse (their links stop working)."""
    now = utcnow()
    for partner in proposal.partners:
        if partner.status == "invited":
            partner.status, partner.answered_at = "lapsed", now
            audit.record(session, proposal, user, "invitation_lapsed", partner.organisation.name)
    lapsed = session.execute(
        update(ProposalInvitation)
        .where(
            ProposalInvitation.proposal_id == proposal.id,
            ProposalInvitation.used_at.is_(None),
            ProposalInvitation.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if lapsed:
        audit.record(session, proposal, user, "invitations_lapsed", str(lapsed))


def guards(
    session: Session, proposal: Proposal, facts: ProposalFacts | None = None
) -> dict[str, Callable[[], GuardResult]]:
    """What each guard name of the workflow checks for this proposal.

    The checks' facts (``facts``, else gathered on first use) are gathered once for all
    the guards: they are asked at one moment, about one state of the proposal.
    """
    profile = library.profile_for(session, proposal)
    known = [facts] if facts is not None else []

    def findings(areas: list[str] | None) -> GuardResult:
        if not known:
            known.append(facts_of(proposal))
        errors = blocking(run_checks(profile, known[0], areas))  # type: ignore[arg-type]
        return GuardResult(not errors, tuple(f"{f.message} ({f.rule})" for f in errors))

    return {
        "partnership_rules": lambda: findings(["partnership"]),
        "submission_rules": lambda: findings(None),
        "no_open_invitations": lambda: _open_invitations(proposal),
        "sign_offs": lambda: final.all_signed_off(session, proposal),
    }


def options(
    session: Session, proposal: Proposal, user: User, facts: ProposalFacts | None = None
) -> list:  # type: ignore[type-arg]
    """The triggers the user may see now, each with whether it may fire and why not."""
    role = proposal_role(user, proposal) or ""
    workflow = proposal_workflow(proposal.workflow_version)
    with workflow.bind(proposal, role, guards(session, proposal, facts)) as bound:
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
    audit.write(
        session, proposal.id, user.id, change.trigger, change.source, change.dest, change.role
    )
    if change.source in FORMING and change.dest not in FORMING:
        _lapse_invitations(session, proposal, user)
    try:
        session.flush()  # the version check happens here, inside the request
    except StaleDataError:
        session.rollback()
        raise WrongState("the proposal was changed by someone else") from None
    return change


def record_submission(
    session: Session, proposal: Proposal, user: User, day: date, reference: str
) -> None:
    """The coordinator records the submission; the proposal waits for the funder's answer."""
    fire(session, proposal, user, "submit", expected_state="final.signed")
    proposal.submitted_on = day
    proposal.funder_reference = reference
    audit.record(session, proposal, user, "submission_recorded", f"{day.isoformat()} {reference}")
