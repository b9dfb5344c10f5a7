"""Exports: the proposal frozen as plain data, the files built from it, and their history.

``snapshot`` freezes the proposal as plain data for ``exports/`` (pure
builders); every export is kept with its sha256 and the versions it was built
from, so the same content gives the same bytes and the history says what each
file contained.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.application import build_application
from exports.declaration import build_declaration
from exports.package import build_package
from exports.snapshot import Labels, PartnerInfo, ProposalSnapshot, SectionText
from exports.workbook import budget_workbook
from proposals.calls import library
from proposals.calls.schema import TEMPLATES_DIR
from proposals.domain import annexes, budget, pdf
from proposals.domain.final import budget_hash
from proposals.errors import Invalid
from proposals.i18n import (
    format_date,
    format_datetime,
    format_time,
    language_name,
    translations,
    using,
)
from proposals.i18n import gettext as _
from proposals.models import Export, Proposal, User


def _template(name: str | None) -> bytes | None:
    """A funder's .docx template named by the call profile, shipped beside the profiles.

    It was there when the profile was stored; if it has gone since, the export
    says so instead of failing.
    """
    if not name:
        return None
    try:
        return (TEMPLATES_DIR / Path(name).name).read_bytes()
    except OSError:
        raise Invalid(
            _(
                "The funder's Word template of this call (%(name)s) is missing on the server, "
                "so nothing was exported. Ask an administrator to install it again.",
                name=name,
            )
        ) from None


def snapshot(session: Session, proposal: Proposal, today: date | None = None) -> ProposalSnapshot:
    """The proposal as plain data for the exports, labelled in the call's language."""
    profile = library.profile_for(session, proposal)
    language = profile.written_in(proposal.language)
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
        budget=budget.budget_snapshot(session, proposal),
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
    """A part of a file name people can read: letters kept with their diacritics."""
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"[\W_]+", "-", text).strip("-")[:60].strip("-") or "proposal"


def _workbook_labels(language: str) -> dict[str, str]:
    with using(language):
        return budget.workbook_labels()


def files(
    snap: ProposalSnapshot,
    kind: str,
    partner_key: str | None = None,
    attachments: dict[str, bytes] | None = None,
    as_pdf: bool = False,
) -> dict[str, bytes]:
    """The files of one export kind: name → bytes.

    ``attachments``: the package's annexes; ``as_pdf``: the Word files as PDF.
    """
    stem = _slug(snap.acronym or snap.title)
    if kind == "application":
        built = {f"{stem}-application.docx": application_file(snap, numbered=not as_pdf)}
    elif kind == "declaration":
        chosen = [p for p in snap.partners if partner_key in (None, p.key)]
        built = {
            f"{stem}-declaration-{_slug(p.name)}.docx": build_declaration(snap, p.key)
            for p in chosen
        }
    elif kind == "package":
        contents = files(snap, "application", as_pdf=as_pdf) | files(
            snap, "declaration", as_pdf=as_pdf
        )
        contents[f"{stem}-budget.xlsx"] = budget_workbook(
            snap.budget, _workbook_labels(snap.language)
        )
        contents |= attachments or {}
        name = f"{stem}-submission-pdf.zip" if as_pdf else f"{stem}-submission.zip"
        return {name: build_package(contents, snap.moment)}
    else:
        raise ValueError(kind)
    return pdf.as_pdfs(built) if as_pdf else built


def application_file(snap: ProposalSnapshot, numbered: bool = True) -> bytes:
    """The application .docx; ``numbered``: its contents carry page numbers where
    LibreOffice is installed to lay it out once (a PDF export lays it out anyway)."""
    first = build_application(snap)
    pages = pdf.contents_pages(first) if numbered else None
    return build_application(snap, pages) if pages else first


def export(
    session: Session,
    proposal: Proposal,
    user: User | None,
    kind: str,
    partner_key: str | None = None,
    fmt: str = "docx",
) -> Export:
    """Build one file and keep it in the export history (``user`` None: ``engage export``).

    ``fmt`` "pdf": the Word files made PDF by LibreOffice (``proposals.domain.pdf``);
    the package then holds the PDFs.
    """
    snap = snapshot(session, proposal)
    attachments = (
        annexes.package_files(session, proposal, library.profile_for(session, proposal))
        if kind == "package"
        else None
    )
    built = files(snap, kind, partner_key, attachments, as_pdf=fmt == "pdf")
    if len(built) != 1:
        raise ValueError("one file per export")
    ((filename, content),) = built.items()
    partner = next((p.name for p in snap.partners if p.key == partner_key), None)
    row = Export(
        proposal_id=proposal.id,
        kind=kind,
        filename=filename,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        versions=versions(snap)
        | {"moment": snap.moment.isoformat(), "language": snap.language}
        | ({"partner": partner} if partner else {}),
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


def describe(row: Export) -> str:
    """The export in words: what, in which language, by whom, when, from the texts as of when."""
    versions = row.versions or {}
    if row.kind == "declaration":
        kind = _("Declaration of %(name)s", name=versions.get("partner") or "–")
    elif row.kind == "package":
        kind = _("Submission package")
    else:
        kind = _("Application")
    who = row.created_by.name if row.created_by else _("the engage export command")
    parts = {
        "kind": kind,
        "name": who,
        "date": format_date(row.created_at),
    }
    language = versions.get("language")
    moment = versions.get("moment")
    if not moment or not language:  # made before exports recorded these
        return _("%(kind)s, made by %(name)s on %(date)s", **parts)
    texts = datetime.fromisoformat(moment)
    same_day = format_date(texts) == parts["date"]
    as_of = format_time(texts) if same_day else format_datetime(texts, "short")
    return _(
        "%(kind)s, %(language)s, made by %(name)s on %(date)s from the texts as of %(as_of)s",
        language=language_name(language),
        as_of=as_of,
        **parts,
    )
