"""Where profiles live: every version ever stored, in the ``call_profile`` table.

Shipped YAML files are copied in by ``engage migrate`` / ``serve`` / ``demo``;
admins upload new ones in the browser. A version, once stored, never changes,
so a proposal that started on it can always be checked against it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.orm import Session

from proposals.calls.loader import Problem, ProfileError, digest, parse_profile, shipped_files
from proposals.calls.schema import CallProfile
from proposals.models import CallProfileRecord, Proposal, User


@lru_cache(maxsize=256)
def _parsed(content: str) -> CallProfile:
    # A stored version never changes, so its parse can be kept.
    return parse_profile(content, check_files=False)


#: Parsed profiles by their content's SHA-256: a page asks for the digest, not the text.
_by_digest: dict[str, CallProfile] = {}


#: A given version's digest: every proposal page asks it, so the statement is built once.
_ONE_VERSION = select(CallProfileRecord.id, CallProfileRecord.sha256).where(
    CallProfileRecord.call_id == bindparam("call_id"),
    CallProfileRecord.version == bindparam("version"),
)


def profile_of(record: CallProfileRecord) -> CallProfile:
    return _parsed(record.content)


def get(session: Session, call_id: str, version: int | None = None) -> CallProfile | None:
    """A profile by id: the given version, or the latest."""
    if version is None:
        query = select(CallProfileRecord.id, CallProfileRecord.sha256).where(
            CallProfileRecord.call_id == call_id
        )
        found = session.execute(query.order_by(CallProfileRecord.version.desc()).limit(1)).first()
    else:
        found = session.execute(_ONE_VERSION, {"call_id": call_id, "version": version}).first()
    if found is None:
        return None
    record_id, sha256 = found
    profile = _by_digest.get(sha256)
    if profile is None:
        content = session.scalar(
            select(CallProfileRecord.content).where(CallProfileRecord.id == record_id)
        )
        profile = _parsed(content)
        if digest(content) == sha256 and len(_by_digest) < 1024:
            _by_digest[sha256] = profile
    return profile


class CallOf(Protocol):
    """What names a proposal's call profile version, read without the ORM (a glance)."""

    call_id: str
    call_version: int
    call_digest: str | None


def profile_for(session: Session, proposal: Proposal | CallOf) -> CallProfile:
    """The call profile version the proposal started with.

    Without a query when the proposal was read with its ``call_digest`` and that version
    is already parsed in this process.
    """
    digest_read = (
        inspect(proposal).dict.get("call_digest")
        if isinstance(proposal, Proposal)
        else proposal.call_digest
    )
    profile = _by_digest.get(digest_read) if digest_read else None
    if profile is None:
        profile = get(session, proposal.call_id, proposal.call_version)
    if profile is None:  # every stored version is kept, so this means a broken database
        raise LookupError(f"call profile {proposal.call_id} v{proposal.call_version} is missing")
    return profile


def latest(session: Session) -> list[CallProfile]:
    """The latest version of every call, in one query."""
    newest = (
        select(CallProfileRecord.call_id, func.max(CallProfileRecord.version).label("version"))
        .group_by(CallProfileRecord.call_id)
        .subquery()
    )
    records = session.scalars(
        select(CallProfileRecord).join(
            newest,
            (CallProfileRecord.call_id == newest.c.call_id)
            & (CallProfileRecord.version == newest.c.version),
        )
    )
    return sorted((profile_of(r) for r in records), key=lambda p: (p.funder, p.id))


def versions(session: Session, call_id: str) -> list[CallProfileRecord]:
    return list(
        session.scalars(
            select(CallProfileRecord)
            .where(CallProfileRecord.call_id == call_id)
            .order_by(CallProfileRecord.version.desc())
        )
    )


def store(
    session: Session, content: str, origin: str = "uploaded", user: User | None = None
) -> tuple[CallProfile, bool]:
    """Validate and keep a profile version; return it and whether it was new.

    Storing the same version again with the same text is a no-op; with other
    text it is refused, so that a published version never changes under a
    proposal.
    """
    profile = parse_profile(content)
    existing = session.scalar(
        select(CallProfileRecord).where(
            CallProfileRecord.call_id == profile.id, CallProfileRecord.version == profile.version
        )
    )
    sha = digest(content)
    if existing is not None:
        if existing.sha256 == sha:
            return profile, False
        raise ProfileError(
            [
                Problem(
                    "version",
                    f"version {profile.version} of {profile.id!r} already exists with other "
                    "content; give the changed profile a higher version",
                )
            ]
        )
    session.add(
        CallProfileRecord(
            call_id=profile.id,
            version=profile.version,
            content=content,
            sha256=sha,
            origin=origin,
            uploaded_by_id=user.id if user else None,
        )
    )
    session.flush()
    return profile, True


def sync_shipped(session: Session) -> list[str]:
    """Store every shipped profile file not stored yet; return "id vN" for each new one."""
    added = []
    for path in shipped_files():
        try:
            profile, new = store(session, path.read_text(encoding="utf-8"), origin="shipped")
        except ProfileError as exc:
            raise ProfileError(
                [
                    Problem(f"{path.name}: {p.path}" if p.path else path.name, p.message)
                    for p in exc.problems
                ]
            ) from None
        if new:
            added.append(f"{profile.id} v{profile.version}")
    return added
