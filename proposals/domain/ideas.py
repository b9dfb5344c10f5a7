"""The idea board: first joint ideas posted by organisations, and the interest they draw."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from proposals.db import Page, json_list_contains, like_pattern, paginate
from proposals.errors import NotFound
from proposals.forms import CleanLine, CleanText, Form, FormErrors
from proposals.i18n import country_codes
from proposals.i18n import gettext as _
from proposals.models import Idea, IdeaInterest, Organisation, Proposal, User, utcnow
from proposals.vocabulary import THEMES

PAGE_SIZE = 20


def _countries(values: list[str]) -> list[str]:
    codes = [v.upper() for v in values]
    if any(c not in country_codes() for c in codes):
        raise ValueError(_("Choose a country from the list."))
    return list(dict.fromkeys(codes))


def _themes(values: list[str]) -> list[str]:
    if any(v not in THEMES for v in values):
        raise ValueError(_("Choose themes from the list."))
    return list(dict.fromkeys(values))


class IdeaForm(Form):
    organisation: str = Field(min_length=1, max_length=40)
    title: CleanLine = Field(min_length=1, max_length=200)
    summary: CleanText = Field(min_length=1, max_length=5000)
    themes: Annotated[list[str], AfterValidator(_themes)] = Field(default_factory=list)
    countries_sought: Annotated[list[str], AfterValidator(_countries)] = Field(
        default_factory=list, max_length=60
    )
    skills_sought: CleanText = Field(default="", max_length=1000)
    call_id: str = Field(default="", max_length=40)


class InterestForm(Form):
    organisation: str = Field(min_length=1, max_length=40)
    message: CleanText = Field(min_length=1, max_length=2000)


class ReplyForm(Form):
    reply: CleanText = Field(min_length=1, max_length=2000)


@dataclass(frozen=True)
class Filters:
    country: str = ""
    theme: str = ""
    call: str = ""
    q: str = ""


def my_organisations(user: User) -> list[Organisation]:
    return sorted((m.organisation for m in user.memberships), key=lambda o: o.name.casefold())


def own_organisation(user: User, public_id: str) -> Organisation:
    """One of the user's organisations, or a form error on the "organisation" field."""
    for organisation in my_organisations(user):
        if organisation.public_id == public_id:
            return organisation
    raise FormErrors({"organisation": _("Choose one of your organisations.")})


def get_idea(session: Session, public_id: str) -> Idea:
    idea = session.scalar(
        select(Idea)
        .where(Idea.public_id == public_id)
        .options(
            selectinload(Idea.organisation),
            selectinload(Idea.interests).selectinload(IdeaInterest.organisation),
            selectinload(Idea.interests).selectinload(IdeaInterest.user),
        )
    )
    if idea is None:
        raise NotFound()
    return idea


def search(session: Session, filters: Filters, page: int) -> Page[Idea]:
    """Open ideas matching ``filters`` (unknown codes are ignored), newest first."""
    query = select(Idea).where(Idea.status == "open")
    if filters.country in country_codes():
        query = query.where(json_list_contains(Idea.countries_sought, filters.country))
    if filters.theme in THEMES:
        query = query.where(json_list_contains(Idea.themes, filters.theme))
    if filters.call:
        query = query.where(Idea.call_id == filters.call)
    if filters.q:
        needle = like_pattern(filters.q)
        query = query.where(
            or_(
                func.lower(Idea.title).like(needle, escape="\\"),
                func.lower(Idea.summary).like(needle, escape="\\"),
            )
        )
    query = query.options(selectinload(Idea.organisation)).order_by(
        Idea.created_at.desc(), Idea.id.desc()
    )
    return paginate(session, query, page, PAGE_SIZE)


def save_idea(
    session: Session,
    user: User,
    idea: Idea | None,
    data: IdeaForm,
    call_ids: set[str],
    closed: Mapping[str, str] | None = None,
) -> Idea:
    """Publish a new idea (``idea`` None) or save an edited one.

    ``closed``: why each closed call takes nothing new. An idea may not be put on
    one, but an idea whose call closed later keeps it when edited.
    """
    organisation = own_organisation(user, data.organisation)
    if data.call_id and data.call_id not in call_ids:
        raise FormErrors({"call_id": _("Choose one of the options.")})
    kept = idea is not None and idea.call_id == data.call_id
    if data.call_id and closed and data.call_id in closed and not kept:
        raise FormErrors({"call_id": closed[data.call_id]})
    if idea is None:
        idea = Idea(author_id=user.id)
        session.add(idea)
    idea.organisation_id = organisation.id
    idea.title, idea.summary = data.title, data.summary
    idea.themes, idea.countries_sought = data.themes, data.countries_sought
    idea.skills_sought, idea.call_id = data.skills_sought, data.call_id or None
    session.flush()
    return idea


def express_interest(user: User, idea: Idea, data: InterestForm) -> IdeaInterest:
    """One of the user's organisations says it is interested (once per organisation)."""
    organisation = own_organisation(user, data.organisation)
    if organisation.id == idea.organisation_id:
        raise FormErrors({"organisation": _("This is your own idea.")})
    if any(i.organisation_id == organisation.id for i in idea.interests):
        raise FormErrors(
            {
                "organisation": _(
                    "%(name)s has already said it is interested.", name=organisation.name
                )
            }
        )
    interest = IdeaInterest(organisation_id=organisation.id, user_id=user.id, message=data.message)
    idea.interests.append(interest)
    return interest


def reply(idea: Idea, interest_id: str, text: str) -> IdeaInterest:
    interest = next((i for i in idea.interests if i.public_id == interest_id), None)
    if interest is None:
        raise NotFound()
    interest.reply, interest.replied_at = text, utcnow()
    return interest


def proposals_from(session: Session, idea: Idea) -> list[Proposal]:
    """The proposals started from this idea, oldest first."""
    return list(
        session.scalars(select(Proposal).where(Proposal.idea_id == idea.id).order_by(Proposal.id))
    )
