"""Database tables of Engage, as SQLAlchemy 2 typed models.

Every change here comes with an Alembic revision in ``proposals/migrations``;
``tests/test_migrations.py`` fails when the two drift apart.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    false,
    text,
)
from sqlalchemy import select as _select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    column_property,
    mapped_column,
    object_session,
    relationship,
    synonym,
)

from proposals import packing

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def public_id() -> str:
    """An unguessable id for URLs, so that nobody can enumerate others' records."""
    return secrets.token_urlsafe(12)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back as timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Engage stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """:meth:`process_result_value` after the database type's own reading, in one call
        per value (a list of 200 sections reads 400 timestamps)."""
        read = self.impl_instance.result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if read is not None:
                value = read(value)
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Warsaw")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(default=None)
    # Mentor standing (a support institute's mentor): may be asked to mentor proposals.
    is_mentor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # How notifications reach the user by e-mail: immediately | daily | off.
    email_notifications: Mapped[str] = mapped_column(
        String(20), default="immediately", server_default="immediately"
    )
    digest_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # The secret of the person's private calendar feed; None: no feed (or revoked).
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(120))
    legal_form: Mapped[str] = mapped_column(String(40), default="association")
    themes: Mapped[list[str]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    languages: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    # The NUTS region it is in (proposals.regions), for calls whose area is below country level.
    region: Mapped[str] = mapped_column(String(5), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class OrganisationInvitation(Base):
    """A colleague invited by e-mail to join an organisation; the link is single-use."""

    __tablename__ = "organisation_invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20), default="member")
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    # The name every e-mailed invitation shares, so one helper reads them all.
    used_at = synonym("accepted_at")

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


def session_token() -> str:
    return secrets.token_urlsafe(32)


class UserSession(Base):
    """One signed-in browser: the session cookie carries its random token, and it counts
    only while it has not ended (signing out, a new password, "Sign out everywhere else")."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=session_token)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")  # where it signed in from
    agent: Mapped[str] = mapped_column(String(300), default="")  # its User-Agent, to name it
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class SigninAttempt(Base):
    """Every sign-in attempt, so that throttling holds across app processes."""

    __tablename__ = "signin_attempt"
    __table_args__ = (
        Index("ix_signin_attempt_email_created", "email", "created_at"),
        Index("ix_signin_attempt_address_created", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """Every e-mail Engage sends; without SMTP this is where admins read them.

    A message that failed keeps its error and the time of its next attempt
    (``engage remind`` retries it, with a growing delay, up to a limit). Links that
    let their holder in are not in ``body`` but in ``secret_links``, and only until
    the message is delivered (``proposals.mail``).
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    secret_links: Mapped[list[str] | None] = mapped_column(JSON, default=None)


class CallProfileRecord(Base):
    """One version of a funder call profile, kept for good so no proposal is stranded."""

    __tablename__ = "call_profile"
    __table_args__ = (UniqueConstraint("call_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(20), default="shipped")  # shipped | uploaded
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Idea(Base):
    """A first joint project idea on the idea board, looking for partners."""

    __tablename__ = "idea"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    themes: Mapped[list[str]] = mapped_column(default=list)
    countries_sought: Mapped[list[str]] = mapped_column(default=list)
    skills_sought: Mapped[str] = mapped_column(Text, default="")
    call_id: Mapped[str | None] = mapped_column(String(40), default=None)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | closed
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    author: Mapped[User | None] = relationship()
    interests: Mapped[list[IdeaInterest]] = relationship(
        back_populates="idea", cascade="all, delete-orphan", order_by="IdeaInterest.created_at"
    )


class IdeaInterest(Base):
    """An organisation saying "I'm interested" in an idea, and the owner's answer."""

    __tablename__ = "idea_interest"
    __table_args__ = (UniqueConstraint("idea_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="interests")
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User | None] = relationship()


class Proposal(Base):
    """A consortium's application to one funding call, moving through the workflow."""

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    title: Mapped[str] = mapped_column(String(300))
    acronym: Mapped[str] = mapped_column(String(30), default="")
    call_id: Mapped[str] = mapped_column(String(40))
    call_version: Mapped[int] = mapped_column(Integer)
    #: The SHA-256 of the call profile version it started with (a version never changes):
    #: read with the proposal where a page asks for it (``undefer``), so that the parsed
    #: profile kept in memory is found without a query of its own.
    call_digest: Mapped[str | None] = column_property(
        _select(CallProfileRecord.sha256)
        .where(CallProfileRecord.call_id == call_id, CallProfileRecord.version == call_version)
        .correlate_except(CallProfileRecord)
        .scalar_subquery(),
        deferred=True,
    )
    status: Mapped[str] = mapped_column(String(40), default="idea")
    workflow_version: Mapped[int] = mapped_column(Integer, default=1)
    idea_id: Mapped[int | None] = mapped_column(
        ForeignKey("idea.id", ondelete="SET NULL"), default=None
    )
    duration_months: Mapped[int | None] = mapped_column(Integer, default=None)
    # The language the application is written in (None: the call's first language).
    language: Mapped[str | None] = mapped_column(String(2), default=None)
    # The call's stage the proposal is at, for calls in stages (None: the first stage).
    stage: Mapped[str | None] = mapped_column(String(40), default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Recorded by the coordinator with the submission (final stage).
    submitted_on: Mapped[date | None] = mapped_column(Date, default=None)
    funder_reference: Mapped[str | None] = mapped_column(String(100), default=None)
    # Optimistic locking: two people pressing at once make one transition, not two.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    partners: Mapped[list[Partner]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Partner.id"
    )
    access: Mapped[list[ProposalAccess]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )
    idea: Mapped[Idea | None] = relationship()
    sections: Mapped[list[Section]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Section.position"
    )


class Milestone(Base):
    """A milestone of the proposal's plan, set by the coordinator (proposed from the deadline)."""

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("proposal_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(40))
    due_date: Mapped[date] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The due date the coordinator was last reminded of as late (once per date).
    reminded_for: Mapped[date | None] = mapped_column(Date, default=None)


class Partner(Base):
    """An organisation in a proposal's consortium (exactly one is the lead)."""

    __tablename__ = "partner"
    __table_args__ = (
        UniqueConstraint("proposal_id", "organisation_id"),
        # The database itself holds "at most one lead per proposal".
        Index(
            "uq_partner_one_lead",
            "proposal_id",
            unique=True,
            sqlite_where=text("role = 'lead'"),
            postgresql_where=text("role = 'lead'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default="partner")  # lead|partner|associated
    # invited | active | declined | withdrawn
    status: Mapped[str] = mapped_column(String(20), default="invited")
    contact_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    # New to the call's programme (calls with a minimum share of newcomers); None: not said.
    newcomer: Mapped[bool | None] = mapped_column(default=None)

    proposal: Mapped[Proposal] = relationship(back_populates="partners")
    organisation: Mapped[Organisation] = relationship()
    contact: Mapped[User | None] = relationship(foreign_keys=[contact_user_id])


class ProposalAccess(Base):
    """A person's role in one proposal: coordinator, writer, mentor or viewer."""

    __tablename__ = "proposal_access"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="access")
    user: Mapped[User] = relationship()


class ProposalInvitation(Base):
    """An invitation by e-mail to join a proposal as a partner: signed, expiring, single-use."""

    __tablename__ = "proposal_invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20), default="partner")
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    proposal: Mapped[Proposal] = relationship()


class StatusChange(Base):
    """The append-only audit of every workflow transition and consortium change."""

    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    trigger: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(40))
    dest: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class Section(Base):
    """One section of the application, written by the partner it is assigned to."""

    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("proposal_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    guidance: Mapped[str] = mapped_column(Text, default="")
    char_limit: Mapped[int | None] = mapped_column(Integer, default=None)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="SET NULL"), default=None
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(30), default="unassigned")
    # The current text and its revision number, kept here so lists need no revision scan.
    text: Mapped[str] = mapped_column(Text, default="")
    current_number: Mapped[int] = mapped_column(Integer, default=0)
    # The highest revision number given out (conflict revisions do not become current).
    last_number: Mapped[int] = mapped_column(Integer, default=0)
    # The text's characters as the funder counts them, stored with each save (None: count).
    chars: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )

    proposal: Mapped[Proposal] = relationship(back_populates="sections")
    partner: Mapped[Partner | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])


#: Characters of a revision's beginning kept for lists.
PREVIEW_CHARS = 200


class Revision(Base):
    """Every saved text of a section, never deleted: save, merge, conflict or restore.

    The text is stored compactly (``proposals.packing``): ``packed`` holds it
    compressed, against the text of keyframe revision ``basis`` of the same
    section when that is set. ``text`` reads it back whatever the storage; rows
    written before compaction (or built directly) keep it in the ``text`` column.
    ``chars`` and ``preview`` are kept beside it so that lists never unpack.
    """

    __tablename__ = "revision"
    __table_args__ = (UniqueConstraint("section_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("section.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    parent_number: Mapped[int] = mapped_column(Integer, default=0)
    plain: Mapped[str] = mapped_column("text", Text, default="")
    packed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    basis: Mapped[int | None] = mapped_column(Integer, default=None)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    preview: Mapped[str | None] = mapped_column(String(PREVIEW_CHARS), default=None)
    kind: Mapped[str] = mapped_column(String(20), default="save")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()

    @property
    def text(self) -> str:
        if self.packed is None:
            return self.plain
        if self.basis is None:
            return packing.unpack(self.packed)
        session = object_session(self)
        if session is None:
            raise RuntimeError("a packed revision is read within its session")
        text = unpack_chain(session, self.section_id, self.number)
        if text is None:
            raise LookupError(f"revision {self.number} of section {self.section_id} is missing")
        return text

    @text.setter
    def text(self, value: str) -> None:
        """Kept as it is (the saves pack theirs: ``proposals.domain.sections``)."""
        self.plain, self.packed, self.basis = value, None, None
        self.preview = value[:PREVIEW_CHARS]

    @property
    def summary(self) -> str:
        """The text's beginning (enough for a list), without unpacking it."""
        return self.preview if self.preview is not None else self.text[:PREVIEW_CHARS]


def unpack_chain(session: Any, section_id: int, number: int) -> str | None:
    """The text of revision ``number`` of a section, however it is stored: its chain of
    deltas back to a keyframe (at most ``packing.KEYFRAME_EVERY`` long), read in one
    query that follows the chain and nothing else, then unpacked. None: no such revision.
    """
    rows = {
        n: (plain, packed, basis)
        for n, plain, packed, basis in session.execute(
            _chain(), {"section_id": section_id, "number": number}
        )
    }
    if number not in rows:
        return None
    chain = [number]
    while rows[chain[-1]][2] is not None:
        if rows[chain[-1]][2] not in rows:
            raise LookupError(f"revision {rows[chain[-1]][2]} of section {section_id} is missing")
        chain.append(rows[chain[-1]][2])  # type: ignore[arg-type]
    text = ""
    for n in reversed(chain):
        plain, packed, basis = rows[n]
        text = plain if packed is None else packing.unpack(packed, text if basis else None)
    return text


@cache
def _chain() -> Any:
    """The statement of :func:`unpack_chain` (built once): the revision and, recursively,
    the revision it is packed against, down to one stored whole."""
    revisions = Revision.__table__
    older = revisions.alias("older")
    top = (
        _select(revisions.c.number, revisions.c.text, revisions.c.packed, revisions.c.basis)
        .where(
            revisions.c.section_id == bindparam("section_id"),
            revisions.c.number == bindparam("number"),
        )
        .cte("chain", recursive=True)
    )
    chain = top.union_all(
        _select(older.c.number, older.c.text, older.c.packed, older.c.basis).where(
            older.c.section_id == bindparam("section_id"),
            older.c.number == top.c.basis,
            older.c.number < top.c.number,  # a basis is always older: never a loop
        )
    )
    return _select(chain.c.number, chain.c.text, chain.c.packed, chain.c.basis)


class PackedUpdate(TypeDecorator[bytes]):
    """A live update as stored: compressed when that pays (``proposals.packing``)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else packing.pack_update(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else packing.unpack_update(bytes(value))


class DraftRevision(Base):
    """A section's working-language draft, every save kept (bilingual drafting).

    A partner writes in the language they work in (e.g. English); the official text
    is the section's own. The revision the official text was last brought up to date
    with carries ``translated_at``; later revisions are what the translation lacks.
    """

    __tablename__ = "draft_revision"
    __table_args__ = (UniqueConstraint("section_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("section.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    translated_at: Mapped[datetime | None] = mapped_column(default=None)
    translated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    translated_by: Mapped[User | None] = relationship(foreign_keys=[translated_by_id])


class LiveUpdate(Base):
    """One change to a section's shared document (a Yjs update), stored before it is passed on.

    The document of a section is all its rows merged; compaction replaces many
    rows by one that holds them all (a snapshot), never changing the document.
    """

    __tablename__ = "live_update"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("section.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[bytes] = mapped_column(PackedUpdate)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A comment on a section, optionally on a quoted passage; replies form a thread."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("section.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), default=None
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text, default="")
    # Where the quoted passage is in the section's shared document: two Yjs relative
    # positions (base64), which stay on the same words while others edit.
    anchor_start: Mapped[str | None] = mapped_column(Text, default=None)
    anchor_end: Mapped[str | None] = mapped_column(Text, default=None)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    section: Mapped[Section] = relationship()
    author: Mapped[User | None] = relationship()
    replies: Mapped[list[Comment]] = relationship(order_by="Comment.created_at")


class Notification(Base):
    """Something a person should know about, shown in the app (and later e-mailed)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set once the notification went out by e-mail (alone or in a digest), or was skipped.
    emailed_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship()


class ReviewRound(Base):
    """A mentor's review of chosen sections; closed once every section has a verdict."""

    __tablename__ = "review_round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | closed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    proposal: Mapped[Proposal] = relationship()
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    verdicts: Mapped[list[SectionVerdict]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="SectionVerdict.position"
    )


class SectionVerdict(Base):
    """One section in a review round: pending until the mentor approves or requests changes."""

    __tablename__ = "section_verdict"
    __table_args__ = (UniqueConstraint("round_id", "section_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("review_round.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("section.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    # None while pending; then "approved" or "changes_requested".
    verdict: Mapped[str | None] = mapped_column(String(30), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Optional points per award criterion of the call: {criterion key: points}.
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    revision_number: Mapped[int | None] = mapped_column(Integer, default=None)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(default=None)

    round: Mapped[ReviewRound] = relationship(back_populates="verdicts")
    section: Mapped[Section] = relationship()
    decided_by: Mapped[User | None] = relationship()


class ReminderLog(Base):
    """A due-date reminder sent for a section, so that each due date is reminded once."""

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("section_id", "due_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"))
    due_date: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignOff(Base):
    """A partner's sign-off of its sections (revision numbers) or its budget (a hash).

    Never deleted: a later edit withdraws it (``withdrawn_at`` and why), and the
    partner signs off again.
    """

    __tablename__ = "sign_off"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(20))  # sections | budget
    # sections: {"sections": {key: revision number}}; budget: {"budget": sha256}
    covers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")

    partner: Mapped[Partner] = relationship()
    signed_by: Mapped[User | None] = relationship()


class Export(Base):
    """Every exported file, kept with its checksum and the versions it was built from."""

    __tablename__ = "export"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # application | declaration | package
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    # {"call": ..., "sections": {key: revision}, "budget": {partner: sha256}}
    versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    created_by: Mapped[User | None] = relationship()


class StoredFile(Base):
    """The bytes of an uploaded file, kept in the database (``proposals.storage``)."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Annex(Base):
    """One uploaded version of an annex the call asks for (a new upload keeps the old one).

    ``requirement`` is the key of the call profile's annex; ``partner_id`` names
    the partner of a per-partner annex (None: one for the whole proposal). The
    bytes live in the file store under ``storage_key``.
    """

    __tablename__ = "annex"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), default=None
    )
    requirement: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(10))  # pdf | docx | xlsx | odt | jpg | png
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[str] = mapped_column(String(20), default="consortium")  # | partner
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()


class BudgetLine(Base):
    """One cost line of a partner's budget, in one of the call's cost categories.

    ``amount`` is in the call's currency, rounded to the cent as the call says;
    a line entered in another currency keeps its currency, rate and rate date.
    A flat-rate line keeps its rate in ``quantity`` (percent) and its base in
    ``unit_cost``; both are computed again whenever the partner's lines change.
    """

    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # in ``currency``
    currency: Mapped[str] = mapped_column(String(3), default="")  # "": the call's currency
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(14, 6), default=None)
    rate_date: Mapped[date | None] = mapped_column(Date, default=None)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    period: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic locking: two people saving the same line get a clear refusal, not a lost edit.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    partner: Mapped[Partner] = relationship()


class FundingSource(Base):
    """One source of a partner's funding: grant, own cash, in-kind, other donor, national."""

    __tablename__ = "funding_source"
    __table_args__ = (UniqueConstraint("partner_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    hours: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), default=None)  # in-kind work
    note: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    partner: Mapped[Partner] = relationship()


class BudgetChange(Base):
    """The append-only history of a budget: who changed which figure, from what to what."""

    __tablename__ = "budget_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), default=None
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(300))  # the line's description or source kind
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str] = mapped_column(String(300), default="")
    new: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()
    partner: Mapped[Partner | None] = relationship()
