"""Organisation profiles, their members, and e-mailed invitations to join them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proposals import mail
from proposals.forms import CleanText, Email, Form, FormErrors, form_dict, validate
from proposals.i18n import WORKING_LANGUAGES, country_choices, country_codes, language_choices
from proposals.i18n import gettext as _
from proposals.models import Membership, Organisation, OrganisationInvitation, User, utcnow
from proposals.policy import can, require
from proposals.vocabulary import LEGAL_FORMS, MEMBER_ROLES, THEMES
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    invitation_from_link,
    login_required,
    redirect,
    render,
    render_form,
    submitted,
    view,
)

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
    name: CleanText = Field(min_length=1, max_length=200)
    country: Annotated[str, AfterValidator(_country)] = Field(min_length=1, max_length=2)
    city: CleanText = Field(min_length=1, max_length=120)
    legal_form: str = "association"
    themes: list[str] = Field(default_factory=list)
    tags: str = Field(default="", max_length=600)
    languages: list[str] = Field(default_factory=list)
    description: CleanText = Field(default="", max_length=5000)
    website: Annotated[str, AfterValidator(_website)] = Field(default="", max_length=WEBSITE_MAX)

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


def _choices() -> dict[str, object]:
    return {
        "countries": country_choices(),
        "themes": [(k, str(v)) for k, v in THEMES.items()],
        "legal_forms": [(k, str(v)) for k, v in LEGAL_FORMS.items()],
        "languages": language_choices(),
        "roles": [(k, str(v)) for k, v in MEMBER_ROLES.items()],
    }


def _values(organisation: Organisation) -> dict[str, object]:
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
    }


def _apply(organisation: Organisation, data: OrganisationForm) -> None:
    organisation.name = data.name
    organisation.country = data.country
    organisation.city = data.city
    organisation.legal_form = data.legal_form
    organisation.themes = data.themes
    organisation.tags = data.tag_list()
    organisation.languages = data.languages
    organisation.description = data.description
    organisation.website = data.website


def get_organisation(session: Session, public_id: str) -> Organisation:
    organisation = session.scalar(
        select(Organisation)
        .where(Organisation.public_id == public_id)
        .options(selectinload(Organisation.memberships).selectinload(Membership.user))
    )
    if organisation is None:
        raise HTTPException(status_code=404)
    return organisation


@view
@login_required
def my_organisations(request: Request) -> Response:
    user = current_user(request)
    assert user is not None
    memberships = sorted(user.memberships, key=lambda m: m.organisation.name.casefold())
    return render(request, "organisations/list.html", {"memberships": memberships})


def _save(request: Request, organisation: Organisation | None) -> Response:
    """Create (``organisation`` None) or edit a profile through the same form."""
    user = current_user(request)
    assert user is not None
    initial = (
        _values(organisation)
        if organisation
        else {"languages": ["en"], "legal_form": "association", "themes": []}
    )
    values, errors, data = submitted(request, OrganisationForm, initial=initial, lists=LIST_FIELDS)
    if data is not None:
        if organisation is None:
            organisation = Organisation()
            organisation.memberships.append(Membership(user=user, role="admin"))
            db(request).add(organisation)
            message = _("%(name)s is created. You are its administrator.", name=data.name)
        else:
            message = _("The profile is saved.")
        _apply(organisation, data)
        db(request).flush()
        flash(request, message)
        return redirect(request, f"/organisations/{organisation.public_id}")
    return render_form(
        request, "organisations/form.html", values, errors, organisation=organisation, **_choices()
    )


@view
@login_required
def new_organisation(request: Request) -> Response:
    return _save(request, None)


@view
@login_required
def show_organisation(request: Request) -> Response:
    organisation = get_organisation(db(request), request.path_params["oid"])
    user = current_user(request)
    require(user, "view", organisation)
    invitations: list[OrganisationInvitation] = []
    if can(user, "invite", organisation):
        invitations = list(
            db(request).scalars(
                select(OrganisationInvitation)
                .where(
                    OrganisationInvitation.organisation_id == organisation.id,
                    OrganisationInvitation.accepted_at.is_(None),
                    OrganisationInvitation.expires_at > utcnow(),
                )
                .order_by(OrganisationInvitation.created_at.desc())
            )
        )
    return render(
        request,
        "organisations/show.html",
        {
            "organisation": organisation,
            "invitations": invitations,
            "can_edit": can(user, "edit", organisation),
            "can_invite": can(user, "invite", organisation),
            "can_see_members": can(user, "see_members", organisation),
            "themes": THEMES,
            "legal_forms": LEGAL_FORMS,
            "member_roles": MEMBER_ROLES,
            "invite_values": {"role": "member"},
            "invite_errors": {},
            "roles": [(k, str(v)) for k, v in MEMBER_ROLES.items()],
        },
    )


@view
@login_required
def edit_organisation(request: Request) -> Response:
    organisation = get_organisation(db(request), request.path_params["oid"])
    require(current_user(request), "edit", organisation)
    return _save(request, organisation)


@view
@login_required
def invite_member(request: Request) -> Response:
    organisation = get_organisation(db(request), request.path_params["oid"])
    user = current_user(request)
    require(user, "invite", organisation)
    values = form_dict(form(request))
    try:
        data = validate(InviteForm, values)
        if any(m.user.email == data.email for m in organisation.memberships):
            raise FormErrors({"email": _("%(email)s is already a member.", email=data.email)})
    except FormErrors as exc:
        flash(request, exc.errors.get("email") or exc.errors.get("role", ""), "error")
        return redirect(request, f"/organisations/{organisation.public_id}#invite")
    settings = request.app.state.settings
    invitation = OrganisationInvitation(
        organisation=organisation,
        email=data.email,
        role=data.role,
        invited_by_id=user.id if user else None,
        expires_at=utcnow() + timedelta(days=settings.invitation_days),
    )
    db(request).add(invitation)
    db(request).flush()
    token = request.app.state.tokens.make("join", invitation.public_id)
    link = settings.base_url + str(request.app.url_path_for("join_organisation", token=token))
    body = request.app.state.templates.get_template("mail/invitation.txt").render(
        organisation=organisation, inviter=user, link=link, days=settings.invitation_days
    )
    subject = _("%(name)s invites you to Engage", name=organisation.name)
    mail.queue(db(request), data.email, subject, body, "organisation-invitation")
    flash(request, _("We have sent an invitation to %(email)s.", email=data.email))
    return redirect(request, f"/organisations/{organisation.public_id}")


@view
def join_organisation(request: Request) -> Response:
    invitation, problem = invitation_from_link(request, "join", OrganisationInvitation)
    if problem:
        return render(request, "organisations/join.html", {"problem": problem}, status_code=400)
    assert invitation is not None
    user = current_user(request)
    if request.method == "POST" and user is not None:
        return _accept(request, invitation, user)
    return render(
        request,
        "organisations/join.html",
        {"problem": None, "invitation": invitation, "next": request.url.path},
    )


def _accept(request: Request, invitation: OrganisationInvitation, user: User) -> Response:
    session = db(request)
    # Claim the invitation atomically: a double click or a replayed link joins once.
    claimed = session.execute(
        OrganisationInvitation.__table__.update()
        .where(
            OrganisationInvitation.id == invitation.id,
            OrganisationInvitation.accepted_at.is_(None),
        )
        .values(accepted_at=utcnow(), accepted_by_id=user.id)
    ).rowcount
    organisation = invitation.organisation
    already = any(m.organisation_id == organisation.id for m in user.memberships)
    if claimed and not already:
        session.add(
            Membership(user_id=user.id, organisation_id=organisation.id, role=invitation.role)
        )
    if claimed or already:
        flash(request, _("You are now a member of %(name)s.", name=organisation.name))
    else:
        flash(request, _("This invitation has already been used."), "error")
    return redirect(request, f"/organisations/{organisation.public_id}")


@view
@login_required
def change_member(request: Request) -> Response:
    organisation = get_organisation(db(request), request.path_params["oid"])
    require(current_user(request), "manage_members", organisation)
    membership = next(
        (m for m in organisation.memberships if str(m.id) == request.path_params["mid"]), None
    )
    if membership is None:
        raise HTTPException(status_code=404)
    action = form(request).get("action")
    admins = [m for m in organisation.memberships if m.role == "admin"]
    if membership.role == "admin" and len(admins) == 1 and action in ("remove", "member"):
        flash(request, _("An organisation needs at least one administrator."), "error")
    elif action == "remove":
        db(request).delete(membership)
        flash(request, _("%(name)s is no longer a member.", name=membership.user.name))
    elif action in MEMBER_ROLES:
        membership.role = str(action)
        flash(request, _("The role of %(name)s is changed.", name=membership.user.name))
    return redirect(request, f"/organisations/{organisation.public_id}#members")


routes = [
    Route("/organisations", my_organisations, name="organisations"),
    Route("/organisations/new", new_organisation, methods=["GET", "POST"], name="new_organisation"),
    Route("/organisations/{oid}", show_organisation, name="organisation"),
    Route(
        "/organisations/{oid}/edit",
        edit_organisation,
        methods=["GET", "POST"],
        name="edit_organisation",
    ),
    Route(
        "/organisations/{oid}/invitations", invite_member, methods=["POST"], name="invite_member"
    ),
    Route(
        "/organisations/{oid}/members/{mid}", change_member, methods=["POST"], name="change_member"
    ),
    Route("/join/{token}", join_organisation, methods=["GET", "POST"], name="join_organisation"),
]
