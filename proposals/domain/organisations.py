"""Organisations: profiles, their members and roles, and e-mailed invitations to join them.

Leaving an organisation, or being removed from it, ends what its membership
gave: the person's access to the organisation's proposals (and their place as
a partner's contact person). An invitation is accepted only by the person it
was sent to: the account must have the invited address.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from proposals.domain import accounts, consortium
from proposals.errors import NotFound
from proposals.forms import CleanLine, CleanText, Email, Form, FormErrors
from proposals.i18n import WORKING_LANGUAGES, country_codes
from proposals.i18n import gettext as _
from proposals.models import Membership, Organisation, OrganisationInvitation, User, utcnow
from proposals.regions import regions_of
from proposals.vocabulary import LEGAL_FORMS, MEMBER_ROLES, THEMES

LIST_FIELDS = ("themes", "languages")
MAX_TAGS = 12
WEBSITE_MAX = 300
_TAG_SPLIT = re.compile(r"[,;\n]+")


def _country(code: str) -> str:
    code = code.upper()
    if code not in country_codes():
        raise ValueError(_("Choose a country from the list."))
    return code


def _website(url: str) -> str:
    if not url:
        return ""
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or " " in url:
        raise ValueError(_("Enter a web address like https://example.org."))
    if len(url) > WEBSITE_MAX:
        raise ValueError(_("Use at most %(max)s characters.", max=WEBSITE_MAX))
    return url


class OrganisationForm(Form):
    name: CleanLine = Field(min_length=1, max_length=200)
    country: Annotated[str, AfterValidator(_country)] = Field(min_length=1, max_length=2)
    city: CleanLine = Field(min_length=1, max_length=120)
    legal_form: str = "association"
    themes: list[str] = Field(default_factory=list)
    tags: str = Field(default="", max_length=600)
    languages: list[str] = Field(default_factory=list)
    description: CleanText = Field(default="", max_length=5000)
    website: Annotated[str, AfterValidator(_website)] = Field(default="", max_length=WEBSITE_MAX)
    region: str = Field(default="", max_length=5)

    @model_validator(mode="after")
    def _region_in_country(self) -> OrganisationForm:
        self.region = self.region.strip().upper()
        if self.region and self.region not in regions_of(self.country):
            raise FormErrors(
                {"region": _("Choose a region of the country the organisation is in, or none.")}
            )
        return self

    @field_validator("legal_form")
    @classmethod
    def _legal_form(cls, value: str) -> str:
        if value not in LEGAL_FORMS:
            raise ValueError(_("Choose one of the options."))
        return value

    @field_validator("themes")
    @classmethod
    def _themes(cls, value: list[str]) -> list[str]:
        if any(v not in THEMES for v in value):
            raise ValueError(_("Choose themes from the list."))
        return list(dict.fromkeys(value))

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        if any(v not in WORKING_LANGUAGES for v in value):
            raise ValueError(_("Choose languages from the list."))
        return list(dict.fromkeys(value))

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: str) -> str:
        tags = split_tags(value)
        if len(tags) > MAX_TAGS:
            raise ValueError(_("Use at most %(max)s tags.", max=MAX_TAGS))
        if any(len(t) > 40 for t in tags):
            raise ValueError(_("Keep each tag under 40 characters."))
        return value

    def tag_list(self) -> list[str]:
        return split_tags(self.tags)


class InviteForm(Form):
    email: Email = Field(min_length=1, max_length=254)
    role: str = "member"

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in MEMBER_ROLES:
            raise ValueError(_("Choose one of the options."))
        return value


def split_tags(value: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in _TAG_SPLIT.split(value) if t.strip()))


def form_values(organisation: Organisation) -> dict[str, object]:
    return {
        "name": organisation.name,
        "country": organisation.country,
        "city": organisation.city,
        "legal_form": organisation.legal_form,
        "themes": list(organisation.themes),
        "tags": ", ".join(organisation.tags),
        "languages": list(organisation.languages),
        "description": organisation.description,
        "website": organisation.website,
        "region": organisation.region,
    }


def apply(organisation: Organisation, data: OrganisationForm) -> None:
    organisation.name = data.name
    organisation.country = data.country
    organisation.city = data.city
    organisation.legal_form = data.legal_form
    organisation.themes = data.themes
    organisation.tags = data.tag_list()
    organisation.languages = data.languages
    organisation.description = data.description
    organisation.website = data.website
    organisation.region = data.region


class MembershipError(Exception):
    """A change of members that cannot be made; the message says why."""


def get_organisation(session: Session, public_id: str) -> Organisation:
    organisation = session.scalar(
        select(Organisation)
        .where(Organisation.public_id == public_id)
        .options(selectinload(Organisation.memberships).selectinload(Membership.user))
    )
    if organisation is None:
        raise NotFound()
    return organisation


def create(session: Session, user: User, data: OrganisationForm) -> Organisation:
    """A new organisation profile; its creator becomes its administrator."""
    first = not user.memberships
    organisation = Organisation()
    organisation.memberships.append(Membership(user=user, role="admin"))
    apply(organisation, data)
    if first:
        accounts.follow_first_organisation(user, organisation.country)
    session.add(organisation)
    session.flush()
    return organisation


def open_invitations(session: Session, organisation: Organisation) -> list[OrganisationInvitation]:
    return list(
        session.scalars(
            select(OrganisationInvitation)
            .where(
                OrganisationInvitation.organisation_id == organisation.id,
                OrganisationInvitation.accepted_at.is_(None),
                OrganisationInvitation.expires_at > utcnow(),
            )
            .order_by(OrganisationInvitation.created_at.desc())
        )
    )


def invite(
    session: Session, user: User, organisation: Organisation, data: InviteForm, days: int
) -> OrganisationInvitation:
    """Invite a colleague by e-mail; the link works once, for ``days`` days, for that address."""
    email = data.email.casefold()
    if any(m.user.email.casefold() == email for m in organisation.memberships):
        raise FormErrors({"email": _("%(email)s is already a member.", email=data.email)})
    if any(i.email.casefold() == email for i in open_invitations(session, organisation)):
        raise FormErrors({"email": _("%(email)s has an invitation already.", email=data.email)})
    invitation = OrganisationInvitation(
        organisation=organisation,
        email=data.email,
        role=data.role,
        invited_by_id=user.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(invitation)
    session.flush()
    return invitation


def revoke_invitation(session: Session, organisation: Organisation, public_id: str) -> None:
    """Withdraw an open invitation: its link no longer works."""
    invitation = next(
        (i for i in open_invitations(session, organisation) if i.public_id == public_id), None
    )
    if invitation is None:
        raise NotFound()
    invitation.expires_at = utcnow()


def accept(session: Session, user: User, invitation: OrganisationInvitation) -> bool:
    """Join the organisation with the invited role; False when the link was used already.

    The caller has checked that ``user`` has the invited address. The claim is
    conditional, so a double click or a replayed link joins once.
    """
    claimed = session.execute(
        update(OrganisationInvitation)
        .where(
            OrganisationInvitation.id == invitation.id,
            OrganisationInvitation.accepted_at.is_(None),
        )
        .values(accepted_at=utcnow(), accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    already = any(m.organisation_id == invitation.organisation_id for m in user.memberships)
    if claimed and not already:
        if not user.memberships:
            accounts.follow_first_organisation(user, invitation.organisation.country)
        session.add(
            Membership(
                user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role
            )
        )
        session.flush()
    return bool(claimed) or already


def _admins(organisation: Organisation) -> list[Membership]:
    return [m for m in organisation.memberships if m.role == "admin"]


def change_role(organisation: Organisation, membership: Membership, role: str) -> None:
    if role not in MEMBER_ROLES:
        raise MembershipError(_("Choose one of the options."))
    if membership.role == "admin" and role != "admin" and len(_admins(organisation)) == 1:
        raise MembershipError(_("An organisation needs at least one administrator."))
    membership.role = role


def remove(
    session: Session, actor: User, organisation: Organisation, membership: Membership
) -> None:
    """End a membership (removed by an administrator, or left): and what it gave."""
    if membership.role == "admin" and len(_admins(organisation)) == 1:
        raise MembershipError(_("An organisation needs at least one administrator."))
    person = membership.user
    organisation.memberships.remove(membership)
    session.delete(membership)
    session.flush()
    consortium.end_membership(session, actor, person, organisation)


def leave(session: Session, user: User, organisation: Organisation) -> None:
    membership = next(m for m in organisation.memberships if m.user_id == user.id)
    if membership.role == "admin" and len(_admins(organisation)) == 1:
        raise MembershipError(
            _("Make another member an administrator first: an organisation needs one.")
        )
    remove(session, user, organisation, membership)
