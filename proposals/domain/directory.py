"""The partner directory: organisation profiles found by country, theme, language and words."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from proposals.db import Page, json_list_contains, like_pattern, paginate
from proposals.i18n import WORKING_LANGUAGES, country_codes
from proposals.models import Organisation, Partner, Proposal, User
from proposals.policy import can, visible_proposals
from proposals.vocabulary import THEMES

PAGE_SIZE = 24


@dataclass(frozen=True)
class Filters:
    country: str = ""
    theme: str = ""
    language: str = ""
    q: str = ""


def search(session: Session, filters: Filters, page: int) -> Page[Organisation]:
    """Organisations matching ``filters`` (unknown codes are ignored), by name."""
    query = select(Organisation)
    if filters.country in country_codes():
        query = query.where(Organisation.country == filters.country)
    if filters.theme in THEMES:
        query = query.where(json_list_contains(Organisation.themes, filters.theme))
    if filters.language in WORKING_LANGUAGES:
        query = query.where(json_list_contains(Organisation.languages, filters.language))
    if filters.q:
        needle = like_pattern(filters.q)
        query = query.where(
            or_(
                func.lower(Organisation.name).like(needle, escape="\\"),
                func.lower(Organisation.city).like(needle, escape="\\"),
                func.lower(Organisation.description).like(needle, escape="\\"),
            )
        )
    return paginate(
        session, query.order_by(func.lower(Organisation.name), Organisation.id), page, PAGE_SIZE
    )


def invite_targets(session: Session, user: User) -> list[Proposal]:
    """The proposals the user may invite partners to now (the directory's "Invite" buttons)."""
    proposals = session.scalars(
        visible_proposals(user)
        .options(selectinload(Proposal.partners), selectinload(Proposal.access))
        .where(Proposal.partners.any(Partner.role == "lead"))
        .order_by(Proposal.created_at.desc())
    )
    return [p for p in proposals if can(user, "invite_partner", p)]
