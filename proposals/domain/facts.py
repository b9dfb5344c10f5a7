"""What the call's checks look at: the consortium, the sections and each partner's money."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from proposals.calls.facts import PartnerFacts, ProposalFacts, SectionFacts
from proposals.domain import budget
from proposals.models import Proposal, utcnow


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
