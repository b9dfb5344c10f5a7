"""Annexes: the files a call asks for, uploaded by partners, every version kept.

- What a file is, is judged by its content (:func:`file_format`), never by its
  name: an executable renamed ``.pdf`` is refused.
- Each upload is a new version; the older ones stay downloadable.
- A file is seen by the whole consortium, or only by its partner and the
  coordinator (``visibility``).
- The bytes go to the installation's file store (``proposals.storage``).
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import PureWindowsPath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proposals.calls.describe import format_label
from proposals.calls.schema import AnnexRequirement, CallProfile
from proposals.domain import audit
from proposals.errors import Invalid
from proposals.i18n import gettext as _
from proposals.models import Annex, Partner, Proposal, User
from proposals.policy import roles_of
from proposals.storage import file_store

#: The largest annex accepted, in bytes.
MAX_BYTES = 25 * 1024 * 1024
#: The format of a file → its media type (sent back when it is downloaded).
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "jpg": "image/jpeg",
    "png": "image/png",
}
EXTENSIONS = {"pdf": ".pdf", "docx": ".docx", "xlsx": ".xlsx", "odt": ".odt", "jpg": ".jpg"}
EXTENSIONS["png"] = ".png"
VISIBILITIES = ("consortium", "partner")
#: The main part of an Office Open XML package, by format (read from [Content_Types].xml).
_OOXML_MAIN = {
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
_ODT = b"application/vnd.oasis.opendocument.text"
_SMALL_PART = 1024 * 1024  # no genuine [Content_Types].xml or mimetype entry is larger


def _zip_format(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = {info.filename: info for info in archive.infolist()}
            mimetype = entries.get("mimetype")
            if mimetype is not None and mimetype.file_size <= _SMALL_PART:
                if archive.read(mimetype).strip() == _ODT and "content.xml" in entries:
                    return "odt"
                return None
            types = entries.get("[Content_Types].xml")
            if types is None or types.file_size > _SMALL_PART:
                return None
            declared = archive.read(types)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None
    except NotImplementedError:  # a compression method nobody's office suite writes
        return None
    for name, main in _OOXML_MAIN.items():
        if main in declared:
            return name
    return None  # a macro-enabled document, a presentation or any other zip


def file_format(data: bytes) -> str | None:
    """What the bytes are (one of ``MEDIA_TYPES``), or None: judged by content only."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_format(data)
    return None


def clean_filename(name: str, file_format: str) -> str:
    """The name as the person gave it (diacritics kept), without folders or control characters."""
    name = PureWindowsPath(name).name  # "C:\\fakepath\\x.pdf" and "a/b/x.pdf" → "x.pdf"
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    extension = EXTENSIONS[file_format]
    stem = name[: -len(extension)] if name.lower().endswith(extension) else name
    if file_format == "jpg" and name.lower().endswith(".jpeg"):
        stem = name[:-5]
    return (stem.strip()[:200] or _("annex")) + extension


# --- what the call asks for, and what is there -----------------------------------------------


@dataclass
class Slot:
    """One file the call asks for (from the proposal, or from one partner), and its versions."""

    requirement: AnnexRequirement
    partner: Partner | None
    versions: list[Annex] = field(default_factory=list)  # the ones the reader may see, newest first
    uploaded: bool = False  # any version, seen or not

    @property
    def current(self) -> Annex | None:
        return self.versions[0] if self.versions else None

    @property
    def anchor(self) -> str:
        return f"annex-{self.requirement.key}" + (
            f"-{self.partner.public_id}" if self.partner else ""
        )


def _active_partners(proposal: Proposal) -> list[Partner]:
    return sorted(
        (p for p in proposal.partners if p.status == "active"),
        key=lambda p: (p.role != "lead", p.id),
    )


def may_see(user: User | None, annex: Annex, proposal: Proposal) -> bool:
    """Everyone who reads the proposal sees a consortium file; a partner's own file only the
    partner, the coordinator and the one who uploaded it."""
    if annex.visibility == "consortium":
        return True
    if user is not None and annex.uploaded_by_id == user.id:
        return True
    partner = annex.partner or next(
        (p for p in proposal.partners if p.id == annex.partner_id), None
    )
    held = roles_of(user, partner if partner is not None else proposal)
    return bool(held & {"coordinator", "partner_member"})


def slots(
    session: Session,
    proposal: Proposal,
    profile: CallProfile,
    user: User | None,
    *,
    everything: bool = False,
) -> list[Slot]:
    """Every annex the call asks for, with the versions ``user`` may see (or all of them)."""
    rows = list(
        session.scalars(
            select(Annex)
            .where(Annex.proposal_id == proposal.id)
            .order_by(Annex.version.desc(), Annex.id.desc())
        )
    )
    out = []
    for requirement in profile.annexes:
        owners: list[Partner | None] = (
            list(_active_partners(proposal)) if requirement.per == "partner" else [None]
        )
        for partner in owners:
            mine = [
                r
                for r in rows
                if r.requirement == requirement.key
                and r.partner_id == (partner.id if partner else None)
            ]
            visible = mine if everything else [r for r in mine if may_see(user, r, proposal)]
            out.append(Slot(requirement, partner, visible, bool(mine)))
    return out


def missing(session: Session, proposal: Proposal, profile: CallProfile) -> list[Slot]:
    """The required annexes nobody has uploaded yet."""
    every = slots(session, proposal, profile, None, everything=True)
    return [s for s in every if s.requirement.required and not s.uploaded]


def requirement_of(profile: CallProfile, key: str, per: str) -> AnnexRequirement:
    found = profile.annex(key)
    if found is None or found.per != per:
        raise Invalid(_("Choose which annex this file is."))
    return found


def upload(
    session: Session,
    proposal: Proposal,
    requirement: AnnexRequirement,
    partner: Partner | None,
    user: User,
    filename: str,
    data: bytes,
    visibility: str = "",
) -> Annex:
    """Keep a new version of the annex; refuse (Invalid, saying why) what cannot be one."""
    if len(data) > MAX_BYTES:
        raise Invalid(
            _(
                "“%(name)s” is larger than 25 MB, so it was not uploaded. "
                "Make the file smaller (e.g. scan at a lower resolution) and upload it again.",
                name=filename,
            )
        )
    if not data:
        raise Invalid(_("“%(name)s” is empty.", name=filename))
    found = file_format(data)
    allowed = ", ".join(format_label(f) for f in requirement.formats)
    if found is None:
        raise Invalid(
            _(
                "“%(name)s” is not a PDF, Word, Excel, OpenDocument text, JPEG or PNG file "
                "(Engage looks at what is inside a file, not at its name), so it was not "
                "uploaded.",
                name=filename,
            )
        )
    if found not in requirement.formats:
        raise Invalid(
            _(
                "“%(name)s” is a %(format)s; this annex must be: %(allowed)s.",
                name=filename,
                format=format_label(found),
                allowed=allowed,
            )
        )
    if visibility not in VISIBILITIES or requirement.per == "proposal":
        visibility = requirement.visibility if requirement.per == "partner" else "consortium"
    partner_id = partner.id if partner else None
    version = (
        session.scalar(
            select(func.max(Annex.version)).where(
                Annex.proposal_id == proposal.id,
                Annex.requirement == requirement.key,
                Annex.partner_id.is_(None)
                if partner_id is None
                else Annex.partner_id == partner_id,
            )
        )
        or 0
    ) + 1
    row = Annex(
        proposal_id=proposal.id,
        partner_id=partner_id,
        requirement=requirement.key,
        version=version,
        filename=clean_filename(filename, found),
        file_format=found,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=file_store(session).put(data),
        visibility=visibility,
        uploaded_by_id=user.id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        proposal,
        user,
        "annex_uploaded",
        f"{requirement.title.get('en')} v{version}: {row.filename}"[:500],
    )
    return row


def content(session: Session, annex: Annex) -> bytes:
    return file_store(session).get(annex.storage_key)


def find(session: Session, proposal: Proposal, public_id: str) -> Annex | None:
    return session.scalar(
        select(Annex).where(Annex.public_id == public_id, Annex.proposal_id == proposal.id)
    )


def _folder(name: str) -> str:
    return "".join("-" if ch in '/\\:*?"<>|' else ch for ch in name).strip(" .") or "partner"


def package_files(session: Session, proposal: Proposal, profile: CallProfile) -> dict[str, bytes]:
    """The current version of every annex, for the .zip: a folder per partner."""
    files: dict[str, bytes] = {}
    for slot in slots(session, proposal, profile, None, everything=True):
        if slot.current is None:
            continue
        folder = "annexes/" + (
            _folder(slot.partner.organisation.name) + "/" if slot.partner else ""
        )
        name = folder + slot.current.filename
        stem, _dot, extension = name.rpartition(".")
        number = 2
        while name in files:
            name = f"{stem} ({number}).{extension}"
            number += 1
        files[name] = content(session, slot.current)
    return files
