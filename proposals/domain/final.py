"""The final stage: check before submit, partner sign-offs, exports and the submission.

- ``problems`` lists everything still wrong (the call's check engine, sections
  not approved, missing or withdrawn sign-offs), each with where it is fixed.
- A partner signs off its sections (their revision numbers) and its budget (a
  hash of its lines and sources). An edit afterwards withdraws the sign-offs it
  touches: ``withdraw_for_section`` runs inside every section save, and the
  budget pages call ``withdraw_sign_offs``.
- ``snapshot`` freezes the proposal as plain data for ``exports/``; every
  export is kept with its sha256 and the versions it was built from.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exports.application import build_application
from exports.budget import BudgetSnapshot, PartnerBudget
from exports.declaration import build_declaration
from exports.package import build_package
from exports.snapshot import Labels, PartnerInfo, ProposalSnapshot, SectionText
from exports.workbook import budget_workbook
from proposals.calls import library
from proposals.calls.checks import run_checks
from proposals.domain import actions, budget
from proposals.i18n import gettext as _
from proposals.i18n import translations, using
from proposals.models import (
    Export,
    Partner,
    Proposal,
    Section,
    SignOff,
    StatusChange,
    User,
    utcnow,
)
from proposals.text import count_characters, plain_text
from workflow import READ_ONLY_STATES, GuardResult

WHAT = ("sections", "budget")
#: Funder .docx templates named by call profiles (``export.template``) live here.
TEMPLATES_DIR = Path(library.__file__).parent / "templates"


def is_read_only(status: str) -> bool:
    return status in READ_ONLY_STATES


# --- the budget: the one place the final stage reads it from --------------------------


def _budget(session: Session, proposal: Proposal) -> BudgetSnapshot:
    """The source of budget data for sign-offs and exports: the budget pages' own snapshot."""
    return budget.budget_snapshot(session, proposal)


def budget_hash(budget: PartnerBudget | None) -> str:
    """A sha256 of a partner's lines and sources in a canonical form (what a sign-off covers)."""
    if budget is None:
        return hashlib.sha256(b"no budget").hexdigest()
    canonical = {
        "lines": [
            [
                line.category,
                line.description,
                str(line.amount),
                line.unit,
                str(line.quantity),
                str(line.unit_cost),
                line.period,
                line.kind,
            ]
            for line in budget.lines
        ],
        "sources": [[s.kind, str(s.amount), s.note] for s in budget.sources],
    }
    data = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


# --- sign-offs ---------------------------------------------------------------------


def covered_sections(proposal: Proposal, partner: Partner) -> dict[str, int]:
    """The sections a partner signs off: those assigned to it (the lead: also unassigned)."""
    return {
        s.key: s.current_number
        for s in proposal.sections
        if s.partner_id == partner.id or (s.partner_id is None and partner.role == "lead")
    }


@dataclass(frozen=True)
class PartnerSignOffs:
    partner: Partner
    sections: SignOff | None  # the current (not withdrawn) one
    budget: SignOff | None
    withdrawn: list[SignOff]  # withdrawn since the last sign-off, newest first

    @property
    def complete(self) -> bool:
        return self.sections is not None and self.budget is not None


def sign_offs(session: Session, proposal: Proposal) -> list[PartnerSignOffs]:
    """Each active partner's current sign-offs, checked against today's texts and budget."""
    rows = list(
        session.scalars(
            select(SignOff)
            .where(SignOff.proposal_id == proposal.id)
            .order_by(SignOff.signed_at.desc(), SignOff.id.desc())
        )
    )
    budget = _budget(session, proposal)
    out = []
    for partner in proposal.partners:
        if partner.status != "active":
            continue
        mine = [r for r in rows if r.partner_id == partner.id]
        expected = {
            "sections": {"sections": covered_sections(proposal, partner)},
            "budget": {"budget": budget_hash(budget.partner(partner.public_id))},
        }
        current: dict[str, SignOff | None] = {}
        for what in WHAT:
            latest = next((r for r in mine if r.what == what and r.withdrawn_at is None), None)
            current[what] = latest if latest and latest.covers == expected[what] else None
        last_signed = max((r.signed_at for r in mine if r.withdrawn_at is None), default=None)
        withdrawn = [
            r
            for r in mine
            if r.withdrawn_at is not None and (last_signed is None or r.withdrawn_at > last_signed)
        ]
        out.append(PartnerSignOffs(partner, current["sections"], current["budget"], withdrawn))
    return out


def sign_off(session: Session, proposal: Proposal, partner: Partner, user: User) -> None:
    """The partner signs off its sections and its budget as they are now."""
    current = next((s for s in sign_offs(session, proposal) if s.partner.id == partner.id), None)
    if current is not None and current.complete:
        return  # signed already as things are now (a double click): nothing new to record
    withdraw_sign_offs(session, proposal.id, partner.id, WHAT, user.id, "")
    budget = _budget(session, proposal)
    covers = {
        "sections": {"sections": covered_sections(proposal, partner)},
        "budget": {"budget": budget_hash(budget.partner(partner.public_id))},
    }
    now = utcnow()
    for what in WHAT:
        session.add(
            SignOff(
                proposal_id=proposal.id,
                partner_id=partner.id,
                what=what,
                covers=covers[what],
                signed_by_id=user.id,
                signed_at=now,
            )
        )
    actions.record(session, proposal, user, "signed_off", partner.organisation.name)


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
        session.add(
            StatusChange(
                proposal_id=proposal_id,
                actor_id=actor_id,
                trigger="sign_off_withdrawn",
                source=status,
                dest=status,
                detail=reason[:500],
            )
        )
    return int(withdrawn or 0)


def withdraw_for_section(session: Session, section: Section, actor_id: int | None) -> None:
    """A new text of ``section`` withdraws every current sign-off that covers it."""
    rows = session.scalars(
        select(SignOff).where(
            SignOff.proposal_id == section.proposal_id,
            SignOff.what == "sections",
            SignOff.withdrawn_at.is_(None),
        )
    )
    for row in rows:
        if section.key in row.covers.get("sections", {}):
            reason = _("“%(title)s” was edited.", title=section.title)
            withdraw_sign_offs(
                session, section.proposal_id, row.partner_id, "sections", actor_id, reason
            )


def all_signed_off(session: Session, proposal: Proposal) -> GuardResult:
    missing = [s.partner.organisation.name for s in sign_offs(session, proposal) if not s.complete]
    if not missing:
        return GuardResult(True)
    return GuardResult(False, (_("Not signed off yet by: %(names)s.", names=", ".join(missing)),))


# --- check before submit -------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    severity: str  # error | warning
    message: str
    link: str
    rule: str = ""


def problems(session: Session, proposal: Proposal) -> list[Problem]:
    """Everything still wrong before submitting, errors first, each with where it is fixed."""
    profile = actions.profile_for(session, proposal)
    base = f"/proposals/{proposal.public_id}"
    links: dict[str, Callable[[str | None], str]] = {
        "partners": lambda key: f"{base}#consortium",
        "sections": lambda key: f"{base}/sections/{key}" if key else f"{base}/sections",
        "budget": lambda key: f"{base}/budget",
        "proposal": lambda key: base,
    }
    found = [
        Problem(f.severity, f.message, links[f.target.area](f.target.key), f.rule)
        for f in run_checks(profile, actions.facts_of(proposal))
    ]
    for section in proposal.sections:
        link = f"{base}/sections/{section.key}"
        if profile.section(section.key) is None:  # an annex: the engine knows only the call's
            used = count_characters(section.text)
            if section.char_limit and used > section.char_limit:
                message = _(
                    "The section “%(title)s” has %(used)s characters, %(over)s over the limit.",
                    title=section.title,
                    used=used,
                    over=used - section.char_limit,
                )
                found.append(Problem("error", message, link))
            elif not plain_text(section.text).strip():
                message = _("The annex “%(title)s” is empty.", title=section.title)
                found.append(Problem("warning", message, link))
        if section.status != "approved":
            message = _("The section “%(title)s” is not approved yet.", title=section.title)
            found.append(Problem("warning", message, link))
    for state in sign_offs(session, proposal):
        name = state.partner.organisation.name
        link = f"{base}/final#sign-offs"
        if state.withdrawn and not state.complete:
            reasons = " ".join(dict.fromkeys(r.withdrawn_reason for r in state.withdrawn))
            message = _(
                "The sign-off of %(name)s was withdrawn: %(reasons)s", name=name, reasons=reasons
            )
            found.append(Problem("error", message, link))
        elif not state.complete:
            message = _("%(name)s has not signed off its sections and budget.", name=name)
            found.append(Problem("error", message, link))
    waiting = [p.organisation.name for p in proposal.partners if p.status == "invited"]
    if waiting:
        message = _("Waiting for an answer from: %(names)s.", names=", ".join(waiting))
        found.append(Problem("warning", message, f"{base}#consortium"))
    return sorted(found, key=lambda p: p.severity != "error")


# --- snapshot and exports -----------------------------------------------------------


def _template(name: str | None) -> bytes | None:
    """A funder's .docx template named by the call profile, shipped beside the profiles."""
    if not name:
        return None
    return (TEMPLATES_DIR / Path(name).name).read_bytes()


def snapshot(session: Session, proposal: Proposal, today: date | None = None) -> ProposalSnapshot:
    """The proposal as plain data for the exports, labelled in the call's language."""
    profile = actions.profile_for(session, proposal)
    language = profile.language
    catalogue = translations(language)
    territories = Locale.parse(language).territories
    partners = tuple(
        PartnerInfo(
            key=p.public_id,
            name=p.organisation.name,
            country=p.organisation.country,
            country_name=territories.get(p.organisation.country, p.organisation.country),
            city=p.organisation.city,
            role=p.role,  # type: ignore[arg-type]
            legal_form=p.organisation.legal_form,
            contact_name=p.contact.name if p.contact else "",
            contact_email=p.contact.email if p.contact else "",
            website=p.organisation.website,
        )
        for p in sorted(proposal.partners, key=lambda p: (p.role != "lead", p.id))
        if p.status == "active"
    )
    keys = {p.id: p.public_id for p in proposal.partners}
    lead = next((p for p in proposal.partners if p.role == "lead"), None)
    sections = tuple(
        SectionText(
            key=s.key,
            title=s.title,
            text=s.text,
            revision=s.current_number,
            char_limit=s.char_limit,
            partner=keys.get(s.partner_id) if s.partner_id else (lead.public_id if lead else None),
        )
        for s in sorted(proposal.sections, key=lambda s: (s.position, s.id))
    )
    moment = max([proposal.created_at, *(s.updated_at for s in proposal.sections)])
    zone = ZoneInfo(profile.deadline.timezone if profile.deadline else "Europe/Warsaw")
    return ProposalSnapshot(
        proposal_id=proposal.public_id,
        call_id=profile.id,
        call_version=profile.version,
        call_title=profile.title.get(language),
        funder=profile.funder,
        programme=profile.programme,
        language=language,
        acronym=proposal.acronym,
        title=proposal.title,
        moment=moment,
        date=today or datetime.now(zone).date(),
        budget=_budget(session, proposal),
        partners=partners,
        sections=sections,
        duration_months=proposal.duration_months,
        title_page=tuple(profile.export.title_page),
        labels=Labels.translated(catalogue.gettext),
        template=_template(profile.export.template),
    )


def versions(snap: ProposalSnapshot) -> dict[str, object]:
    """What an export was built from: the call version, revisions and budget hashes."""
    return {
        "call": f"{snap.call_id} v{snap.call_version}",
        "sections": {s.key: s.revision for s in snap.sections},
        "budget": {p.key: budget_hash(p) for p in snap.budget.partners},
    }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "proposal"


def _workbook_labels(language: str) -> dict[str, str]:
    with using(language):
        return budget.workbook_labels()


def files(snap: ProposalSnapshot, kind: str, partner_key: str | None = None) -> dict[str, bytes]:
    """The files of one export kind: name → bytes."""
    stem = _slug(snap.acronym or snap.title)
    if kind == "application":
        return {f"{stem}-application.docx": build_application(snap)}
    if kind == "declaration":
        chosen = [p for p in snap.partners if partner_key in (None, p.key)]
        return {
            f"{stem}-declaration-{_slug(p.name)}.docx": build_declaration(snap, p.key)
            for p in chosen
        }
    if kind == "package":
        contents = (
            files(snap, "application")
            | files(snap, "declaration")
            | {f"{stem}-budget.xlsx": budget_workbook(snap.budget, _workbook_labels(snap.language))}
        )
        return {f"{stem}-submission.zip": build_package(contents, snap.moment)}
    raise ValueError(kind)


def export(
    session: Session,
    proposal: Proposal,
    user: User | None,
    kind: str,
    partner_key: str | None = None,
) -> Export:
    """Build one file and keep it in the export history (``user`` None: ``engage export``)."""
    snap = snapshot(session, proposal)
    built = files(snap, kind, partner_key)
    if len(built) != 1:
        raise ValueError("one file per export")
    ((filename, content),) = built.items()
    row = Export(
        proposal_id=proposal.id,
        kind=kind,
        filename=filename,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        versions=versions(snap),
        created_by_id=user.id if user else None,
    )
    session.add(row)
    session.flush()
    return row


def history(session: Session, proposal: Proposal) -> list[Export]:
    return list(
        session.scalars(
            select(Export)
            .where(Export.proposal_id == proposal.id)
            .order_by(Export.created_at.desc(), Export.id.desc())
        )
    )


def record_submission(
    session: Session, proposal: Proposal, user: User, day: date, reference: str
) -> None:
    """The coordinator records the submission; the proposal waits for the funder's answer."""
    actions.fire(session, proposal, user, "submit", expected_state="final.signed")
    proposal.submitted_on = day
    proposal.funder_reference = reference
    actions.record(session, proposal, user, "submission_recorded", f"{day.isoformat()} {reference}")
