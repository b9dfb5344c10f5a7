"""What the call's checks look at: the consortium, the sections and each partner's money."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from proposals.calls.facts import PartnerFacts, ProposalFacts, SectionFacts
from proposals.domain import budget
from proposals.models import Proposal, ReviewRound, SectionVerdict, utcnow


def average_scores(verdicts: Iterable[SectionVerdict]) -> dict[str, Decimal]:
    """The average points per award criterion over the sections scored on it."""
    given: dict[str, list[Decimal]] = {}
    for verdict in verdicts:
        for key, points in (verdict.scores or {}).items():
            given.setdefault(key, []).append(Decimal(points))
    return {key: sum(values, Decimal(0)) / len(values) for key, values in given.items()}


def latest_review_scores(session: Session, proposal: Proposal) -> dict[str, Decimal] | None:
    """The points of the latest closed review round that gave any, or None."""
    rounds = session.scalars(
        select(ReviewRound)
        .where(ReviewRound.proposal_id == proposal.id, ReviewRound.status == "closed")
        .order_by(ReviewRound.closed_at.desc(), ReviewRound.id.desc())
    )
    for round_ in rounds:
        averages = average_scores(round_.verdicts)
        if averages:
            return averages
    return None


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
            region=p.organisation.region,
            newcomer=p.newcomer,
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
        language=proposal.language,
        stage=proposal.stage,
        review_scores=latest_review_scores(session, proposal) if session is not None else None,
    )
