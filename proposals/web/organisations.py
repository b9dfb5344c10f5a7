"""Routes for organisation profiles, their members, and e-mailed invitations to join them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from proposals import mail, regions, urls
from proposals.domain import organisations
from proposals.domain.organisations import MembershipError
from proposals.errors import Invalid, NotFound
from proposals.forms import FormErrors
from proposals.i18n import country_choices, country_name, language_choices
from proposals.i18n import gettext as _
from proposals.models import Organisation, OrganisationInvitation
from proposals.policy import can
from proposals.vocabulary import LEGAL_FORMS, MEMBER_ROLES, THEMES
from proposals.web import targets
from proposals.web.plumbing import (
    authorize,
    current_user,
    db,
    flash,
    form,
    invitation_from_link,
    redirect,
    render,
    render_form,
    route,
    submitted,
    view,
)


def _choices() -> dict[str, object]:
    return {
        "countries": country_choices(),
        "themes": [(k, str(v)) for k, v in THEMES.items()],
        "legal_forms": [(k, str(v)) for k, v in LEGAL_FORMS.items()],
        "languages": language_choices(),
        "regions": [
            (country_name(country), choices) for country, choices in regions.region_choices()
        ],
        "roles": [(k, str(v)) for k, v in MEMBER_ROLES.items()],
    }


def _organisation(request: Request) -> Organisation:
    found = organisations.get_organisation(db(request), request.path_params["oid"])
    return targets.organisation(request, found)


@view("use_engage")
def my_organisations(request: Request) -> Response:
    user = current_user(request)
    memberships = sorted(user.memberships, key=lambda m: m.organisation.name.casefold())
    return render(request, "organisations/list.html", {"memberships": memberships})


def _save(request: Request, organisation: Organisation | None) -> Response:
    """Create (``organisation`` None) or edit a profile through the same form."""
    user = current_user(request)
    initial = (
        organisations.form_values(organisation)
        if organisation
        else {"languages": ["en"], "legal_form": "association", "themes": []}
    )
    values, errors, data = submitted(
        request, organisations.OrganisationForm, initial=initial, lists=organisations.LIST_FIELDS
    )
    if data is not None:
        if organisation is None:
            organisation = organisations.create(db(request), user, data)
            message = _("%(name)s is created. You are its administrator.", name=data.name)
        else:
            organisations.apply(organisation, data)
            message = _("The profile is saved.")
        flash(request, message)
        return redirect(request, urls.link(organisation))
    return render_form(
        request, "organisations/form.html", values, errors, organisation=organisation, **_choices()
    )


@view("use_engage")
def new_organisation(request: Request) -> Response:
    return _save(request, None)


@view("view_organisation")
def show_organisation(request: Request) -> Response:
    organisation = _organisation(request)
    user = current_user(request)
    manager = can(user, "manage_members", organisation)
    return render(
        request,
        "organisations/show.html",
        {
            "organisation": organisation,
            "invitations": organisations.open_invitations(db(request), organisation)
            if manager
            else [],
            "can_edit": can(user, "edit_organisation", organisation),
            "can_invite": manager,
            "can_see_members": can(user, "see_members", organisation),
            "can_leave": can(user, "leave_organisation", organisation),
            "themes": THEMES,
            "legal_forms": LEGAL_FORMS,
            "member_roles": MEMBER_ROLES,
            "invite_values": {"role": "member"},
            "invite_errors": {},
            "roles": [(k, str(v)) for k, v in MEMBER_ROLES.items()],
        },
    )


@view("edit_organisation")
def edit_organisation(request: Request) -> Response:
    return _save(request, _organisation(request))


@view("manage_members")
def invite_member(request: Request) -> Response:
    organisation = _organisation(request)
    user = current_user(request)
    settings = request.app.state.settings
    _values, errors, data = submitted(request, organisations.InviteForm)
    if data is not None:
        try:
            invitation = organisations.invite(
                db(request), user, organisation, data, settings.invitation_days
            )
        except FormErrors as exc:
            errors = exc.errors
    if errors or data is None:
        flash(request, errors.get("email") or errors.get("role", ""), "error")
        return redirect(request, urls.link(organisation, "invite"))
    token = request.app.state.tokens.make("join", invitation.public_id)
    link = settings.base_url + urls.path("join_organisation", token=token)
    body = request.app.state.templates.get_template("mail/invitation.txt").render(
        organisation=organisation, inviter=user, link=link, days=settings.invitation_days
    )
    subject = _("%(name)s invites you to Engage", name=organisation.name)
    mail.queue(
        db(request), data.email, subject, body, "organisation-invitation", secret_links=[link]
    )
    flash(request, _("We have sent an invitation to %(email)s.", email=data.email))
    return redirect(request, urls.link(organisation))


@view("manage_members")
def revoke_member_invitation(request: Request) -> Response:
    organisation = _organisation(request)
    organisations.revoke_invitation(db(request), organisation, request.path_params["inv"])
    flash(request, _("The invitation is withdrawn: its link no longer works."))
    return redirect(request, urls.link(organisation, "invite"))


def _invitation(request: Request) -> tuple[OrganisationInvitation | None, str | None]:
    return invitation_from_link(request, "join", OrganisationInvitation)


@view("public")
def join_page(request: Request) -> Response:
    """The page an invitation link opens: whom it is for, and how to accept it."""
    invitation, problem = _invitation(request)
    if problem:
        return render(request, "organisations/join.html", {"problem": problem}, status_code=400)
    return render(
        request,
        "organisations/join.html",
        {
            "problem": None,
            "invitation": invitation,
            "next": request.url.path,
            "addressee": can(current_user(request), "join_organisation", invitation),
        },
    )


@view("join_organisation")
def join_organisation(request: Request) -> Response:
    invitation, problem = _invitation(request)
    if problem or invitation is None:
        raise Invalid(problem or "")
    authorize(request, invitation)
    organisation = invitation.organisation
    if organisations.accept(db(request), current_user(request), invitation):
        flash(request, _("You are now a member of %(name)s.", name=organisation.name))
    else:
        flash(request, _("This invitation has already been used."), "error")
    return redirect(request, urls.link(organisation))


@view("manage_members")
def change_member(request: Request) -> Response:
    organisation = _organisation(request)
    membership = next(
        (m for m in organisation.memberships if str(m.id) == request.path_params["mid"]), None
    )
    if membership is None:
        raise NotFound()
    action = str(form(request).get("action") or "")
    name = membership.user.name
    try:
        if action == "remove":
            organisations.remove(db(request), current_user(request), organisation, membership)
            flash(request, _("%(name)s is no longer a member.", name=name))
        else:
            organisations.change_role(organisation, membership, action)
            flash(request, _("The role of %(name)s is changed.", name=name))
    except MembershipError as exc:
        flash(request, str(exc), "error")
    return redirect(request, urls.link(organisation, "members"))


@view("leave_organisation")
def leave_organisation(request: Request) -> Response:
    organisation = _organisation(request)
    try:
        organisations.leave(db(request), current_user(request), organisation)
    except MembershipError as exc:
        flash(request, str(exc), "error")
        return redirect(request, urls.link(organisation, "members"))
    flash(request, _("You have left %(name)s.", name=organisation.name))
    return redirect(request, urls.path("organisations"))


routes = [
    route("organisations", my_organisations),
    route("new_organisation", new_organisation, ("GET", "POST")),
    route("organisation", show_organisation),
    route("edit_organisation", edit_organisation, ("GET", "POST")),
    route("invite_member", invite_member, ("POST",)),
    route("revoke_member_invitation", revoke_member_invitation, ("POST",)),
    route("change_member", change_member, ("POST",)),
    route("leave_organisation", leave_organisation, ("POST",)),
    route("join_organisation", join_page),
    route("join_organisation", join_organisation, ("POST",)),
]
