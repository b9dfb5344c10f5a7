"""Sign-off records: an edit withdraws the sign-offs it touches, with the reason shown.

A sign-off is never deleted: a later edit of a section it covers (every
section save calls :func:`withdraw_for_section`) or of the partner's budget
(the budget's edits call :func:`withdraw_sign_offs`) marks it withdrawn, and
the partner signs off again. What a sign-off covers, and whether it still
holds, is the final stage's business (``proposals.domain.final``).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Exists, and_, bindparam, exists, select, update
from sqlalchemy.orm import Session

from proposals.domain import audit
from proposals.i18n import gettext as _
from proposals.models import Proposal, Section, SignOff, utcnow

#: What a partner signs off.
WHAT = ("sections", "budget")


def withdraw_sign_offs(
    session: Session,
    proposal_id: int,
    partner_id: int,
    what: str | tuple[str, ...],
    actor_id: int | None,
    reason: str,
) -> int:
    """Withdraw the partner's current sign-offs of ``what`` ("sections", "budget" or both).

    ``reason`` (shown on the page) says which edit withdrew them; an empty
    reason means a new sign-off replaces them and nothing is audited.
    """
    kinds = (what,) if isinstance(what, str) else what
    withdrawn = session.execute(
        update(SignOff)
        .where(
            SignOff.proposal_id == proposal_id,
            SignOff.partner_id == partner_id,
            SignOff.what.in_(kinds),
            SignOff.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=utcnow(), withdrawn_reason=reason[:500])
        .execution_options(synchronize_session=False)
    ).rowcount
    if withdrawn and reason:
        status = session.scalar(select(Proposal.status).where(Proposal.id == proposal_id)) or ""
        audit.write(
            session, proposal_id, actor_id, "sign_off_withdrawn", status, status, "", reason
        )
    return int(withdrawn or 0)


def sections_signed(proposal_id: ColumnElement[int]) -> Exists:
    """Whether the proposal ``proposal_id`` (a bound value or a column) has current
    sign-offs of its sections: asked by every save, with what it writes."""
    return exists().where(_sections_current(proposal_id))


def _sections_current(proposal_id: ColumnElement[int]) -> ColumnElement[bool]:
    return and_(
        SignOff.proposal_id == proposal_id,
        SignOff.what == "sections",
        SignOff.withdrawn_at.is_(None),
    )


#: Those sign-offs, read only when there are some (built once).
_CURRENT_SECTION_SIGN_OFFS = select(SignOff).where(_sections_current(bindparam("proposal_id")))


def withdraw_for_section(session: Session, section: Section, actor_id: int | None) -> None:
    """A new text of ``section`` withdraws every current sign-off that covers it.

    A save asks :func:`sections_signed` first and calls this only when it is true.
    """
    rows = session.scalars(_CURRENT_SECTION_SIGN_OFFS, {"proposal_id": section.proposal_id})
    for row in rows:
        if section.key in row.covers.get("sections", {}):
            reason = _("“%(title)s” was edited.", title=section.title)
            withdraw_sign_offs(
                session, section.proposal_id, row.partner_id, "sections", actor_id, reason
            )
