"""Arranging many mentored proposals at once (the review-queue test and its benchmark)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from proposals.models import Proposal, ProposalAccess, ReviewRound, Section, SectionVerdict


def add_mentored_rounds(
    session: Session,
    mentor_id: int,
    count: int,
    *,
    start: int = 0,
    sections: int = 20,
    text: str = "x",
    requested_by_id: int | None = None,
) -> None:
    """``count`` proposals "C{n}" in review, mentored by ``mentor_id``.

    Each has ``sections`` ready sections (due dates spread over January 2027, the
    earliest on the 1st for sections 0 of proposals 0, 28, ...) and an open round on
    all of them, the first five already approved. Flushed, not committed.
    """
    for n in range(start, start + count):
        proposal = Proposal(
            title=f"Consortium {n}",
            acronym=f"C{n}",
            call_id="eea-csf-poland",
            call_version=1,
            status="drafting.in_review",
            created_by_id=requested_by_id,
        )
        proposal.access.append(ProposalAccess(user_id=mentor_id, role="mentor"))
        proposal.sections = [
            Section(
                key=f"s{i}",
                title=f"Section {i}",
                position=i,
                status="ready",
                text=text,
                due_date=date(2027, 1, 1 + (n + i) % 28),
            )
            for i in range(sections)
        ]
        session.add(proposal)
        session.flush()
        session.add(
            ReviewRound(
                proposal_id=proposal.id,
                mentor_id=mentor_id,
                requested_by_id=requested_by_id,
                verdicts=[
                    SectionVerdict(
                        section_id=s.id,
                        position=s.position,
                        verdict="approved" if s.position < 5 else None,
                    )
                    for s in proposal.sections
                ],
            )
        )
    session.flush()
