"""Routes for proposals: start one, its page, the consortium, invitations, the workflow."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proposals import mail
from proposals.calls import library
from proposals.calls.checks import run_checks
from proposals.domain import actions, consortium
from proposals.forms import CleanText, Email, Form, FormErrors, form_dict, form_id, validate
from proposals.i18n import get_locale
from proposals.i18n import gettext as _
from proposals.models import (
    Membership,
    Organisation,
    Partner,
    Proposal,
    ProposalInvitation,
    StatusChange,
    User,
    utcnow,
)
from proposals.policy import (
    can,
    organisation_ids,
    proposal_role,
    require,
    require_proposal,
    visible_proposals,
)
from proposals.web.ideas import get_idea
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
from workflow import NotYourRole, Refused, WrongState, proposal_workflow

ACTIVITY_LIMIT = 50
#: Triggers that belong to review rounds: "Request review" opens one, the last verdict closes it.
ROUND_TRIGGERS = ("request_review", "return_for_revision")


class ProposalForm(Form):
    call: str = Field(min_length=1, max_length=40)
    title: CleanText = Field(min_length=1, max_length=300)
    acronym: CleanText = Field(default="", max_length=20)
    organisation: str = Field(min_length=1, max_length=40)
    invite: list[str] = Field(default_factory=list, max_length=100)


class EmailInviteForm(Form):
    email: Email = Field(min_length=1, max_length=254)
    role: str = "partner"


def _proposal(request: Request, action: str = "view") -> Proposal:
    proposal = consortium.load_proposal(db(request), request.path_params["pid"])
    return require_proposal(current_user(request), proposal, action)


def _partner(request: Request, proposal: Proposal) -> Partner:
    partner = next(
        (p for p in proposal.partners if p.public_id == request.path_params["partner"]), None
    )
    if partner is None:
        raise HTTPException(status_code=404)
    return partner


def _back(request: Request, proposal: Proposal, anchor: str = "") -> Response:
    return redirect(request, f"/proposals/{proposal.public_id}{anchor}")


@view
@login_required
def my_proposals(request: Request) -> Response:
    user = current_user(request)
    proposals = db(request).scalars(
        visible_proposals(user)
        .options(selectinload(Proposal.partners).selectinload(Partner.organisation))
        .order_by(Proposal.updated_at.desc())
    )
    workflow = proposal_workflow()
    return render(
        request,
        "proposals/list.html",
        {"proposals": list(proposals), "labels": workflow.labels, "workflow": workflow},
    )


@view
@login_required
def new_proposal(request: Request) -> Response:
    user = current_user(request)
    organisations = sorted(
        (m.organisation for m in user.memberships), key=lambda o: o.name.casefold()
    )
    if not organisations:
        flash(
            request,
            _("Create your organisation's profile first: it will lead the proposal."),
            "info",
        )
        return redirect(request, "/organisations/new")
    idea = None
    idea_id = request.query_params.get("idea") or str(form(request).get("idea") or "")
    if idea_id:
        idea = get_idea(db(request), idea_id)
        require(user, "start_proposal", idea)
    profiles = library.latest(db(request))
    interested = [i.organisation for i in idea.interests] if idea else []
    initial = {
        "call": (idea.call_id if idea and idea.call_id else request.query_params.get("call", "")),
        "title": idea.title if idea else "",
        "organisation": (idea.organisation.public_id if idea else organisations[0].public_id),
        "invite": [o.public_id for o in interested],
    }
    values, errors, data = submitted(request, ProposalForm, initial=initial, lists=("invite",))
    if data is not None:
        profile = next((p for p in profiles if p.id == data.call), None)
        lead = next((o for o in organisations if o.public_id == data.organisation), None)
        if profile is None:
            errors = {"call": _("Choose one of the options.")}
        elif lead is None:
            errors = {"organisation": _("Choose one of your organisations.")}
        else:
            invite = [o for o in interested if o.public_id in data.invite]
            proposal = consortium.start_proposal(
                db(request), user, profile, lead, data.title, data.acronym, idea, invite
            )
            flash(request, _("The proposal is created. Invite your partners next."))
            return _back(request, proposal)
    locale = get_locale()
    return render_form(
        request,
        "proposals/new.html",
        values,
        errors,
        idea=idea,
        calls=[(p.id, f"{p.title.get(locale)} ({p.funder})") for p in profiles],
        organisations=[(o.public_id, o.name) for o in organisations],
        interested=[(o.public_id, o.name) for o in interested],
    )


def _page_context(request: Request, proposal: Proposal) -> dict[str, object]:
    user = current_user(request)
    session = db(request)
    workflow = proposal_workflow(proposal.workflow_version)
    profile = actions.profile_for(session, proposal)
    activity = session.scalars(
        select(StatusChange)
        .where(StatusChange.proposal_id == proposal.id)
        .options(selectinload(StatusChange.actor))
        .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
        .limit(ACTIVITY_LIMIT)
    )
    invitations = []
    manager = can(user, "manage_consortium", proposal)
    if manager:
        invitations = list(
            session.scalars(
                select(ProposalInvitation).where(
                    ProposalInvitation.proposal_id == proposal.id,
                    ProposalInvitation.used_at.is_(None),
                    ProposalInvitation.expires_at > utcnow(),
                )
            )
        )
    members: dict[int, list[User]] = {}
    mine = organisation_ids(user)
    for membership in session.scalars(
        select(Membership)
        .where(Membership.organisation_id.in_([p.organisation_id for p in proposal.partners]))
        .options(selectinload(Membership.user))
    ):
        members.setdefault(membership.organisation_id, []).append(membership.user)
    findings = run_checks(profile, actions.facts_of(proposal), ["partnership"])
    return {
        "proposal": proposal,
        "profile": profile,
        "locale": get_locale(),
        "role": proposal_role(user, proposal),
        "manager": manager,
        # Review rounds fire these two themselves (see proposals/reviews.py).
        "options": [
            o for o in actions.options(session, proposal, user) if o.trigger not in ROUND_TRIGGERS
        ],
        "workflow": workflow,
        "phase": workflow.phase_of(proposal.status),
        "activity": list(activity),
        "invitations": invitations,
        "members": members,
        "my_organisations": mine,
        "partnership_findings": findings,
        "roles": [("partner", _("Partner")), ("associated", _("Associated partner"))],
        "values": {"role": "partner"},
        "errors": {},
    }


@view
@login_required
def show_proposal(request: Request) -> Response:
    proposal = _proposal(request)
    return render(request, "proposals/show.html", _page_context(request, proposal))


@view
@login_required
def transition(request: Request) -> Response:
    proposal = _proposal(request)
    user = current_user(request)
    trigger = str(form(request).get("trigger") or "")
    expected = str(form(request).get("state") or "")
    workflow = proposal_workflow(proposal.workflow_version)
    if trigger not in workflow.triggers:
        raise HTTPException(status_code=400)
    if trigger == "submit":  # the submission needs its date and the funder's reference
        return redirect(request, f"/proposals/{proposal.public_id}/final#submission")
    if trigger in ROUND_TRIGGERS:
        return redirect(request, f"/proposals/{proposal.public_id}/reviews")
    try:
        change = actions.fire(db(request), proposal, user, trigger, expected)
    except WrongState:
        flash(
            request,
            _(
                "Someone else changed this proposal a moment ago, so nothing was done. "
                "Here is how it looks now."
            ),
            "error",
        )
    except NotYourRole:
        raise HTTPException(status_code=403) from None
    except Refused as exc:
        flash(request, _("Not yet: %(reasons)s", reasons=" ".join(exc.reasons)), "error")
    else:
        flash(
            request,
            _("Done: the proposal is now “%(state)s”.", state=_(workflow.labels[change.dest])),
        )
    return _back(request, proposal)


@view
@login_required
def invite_partner(request: Request) -> Response:
    """Invite an existing organisation (from the proposal page or the partner directory)."""
    user = current_user(request)
    public_id = request.path_params.get("pid") or str(form(request).get("proposal") or "")
    proposal = require_proposal(
        user, consortium.load_proposal(db(request), public_id), "manage_consortium"
    )
    organisation = db(request).scalar(
        select(Organisation).where(
            Organisation.public_id == str(form(request).get("organisation") or "")
        )
    )
    if organisation is None:
        flash(request, _("Choose an organisation from the directory."), "error")
        return _back(request, proposal, "#consortium")
    try:
        consortium.invite_organisation(
            db(request), user, proposal, organisation, str(form(request).get("role") or "partner")
        )
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("%(name)s is invited.", name=organisation.name))
    return _back(request, proposal, "#consortium")


@view
@login_required
def invite_email(request: Request) -> Response:
    proposal = _proposal(request, "manage_consortium")
    user = current_user(request)
    settings = request.app.state.settings
    try:
        data = validate(EmailInviteForm, form_dict(form(request)))
        invitation = consortium.invite_by_email(
            db(request), user, proposal, data.email, data.role, settings.invitation_days
        )
    except FormErrors as exc:
        flash(request, next(iter(exc.errors.values())), "error")
        return _back(request, proposal, "#consortium")
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
        return _back(request, proposal, "#consortium")
    token = request.app.state.tokens.make("proposal-invite", invitation.public_id)
    link = settings.base_url + str(request.app.url_path_for("proposal_invitation", token=token))
    lead = consortium.lead_of(proposal)
    body = request.app.state.templates.get_template("mail/proposal_invitation.txt").render(
        proposal=proposal,
        lead=lead.organisation,
        inviter=user,
        link=link,
        days=settings.invitation_days,
    )
    subject = _(
        "%(lead)s invites you to a joint project: %(title)s",
        lead=lead.organisation.name,
        title=proposal.title,
    )
    mail.queue(db(request), data.email, subject, body, "proposal-invitation")
    flash(request, _("We have sent an invitation to %(email)s.", email=data.email))
    return _back(request, proposal, "#consortium")


@view
@login_required
def my_invitations(request: Request) -> Response:
    user = current_user(request)
    pending = db(request).scalars(
        select(Partner)
        .where(
            Partner.status == "invited",
            Partner.organisation_id.in_(organisation_ids(user) or {-1}),
        )
        .options(
            selectinload(Partner.organisation),
            selectinload(Partner.proposal)
            .selectinload(Proposal.partners)
            .selectinload(Partner.organisation),
        )
        .order_by(Partner.created_at.desc())
    )
    return render(request, "proposals/invitations.html", {"pending": list(pending)})


def _answer(request: Request, proposal: Proposal, partner: Partner, accept: bool) -> Response:
    """Accept or decline for one's organisation; a second press is told it was answered."""
    user = current_user(request)
    if partner.organisation_id not in organisation_ids(user):
        raise HTTPException(status_code=403)
    if partner.status != "invited" or not consortium.answer(db(request), user, partner, accept):
        flash(request, _("This invitation has already been answered."), "info")
    elif accept:
        flash(request, _("Welcome to the consortium of %(title)s.", title=proposal.title))
        return _back(request, proposal)
    else:
        flash(request, _("You declined the invitation."))
    return redirect(request, "/invitations")


@view
def proposal_invitation(request: Request) -> Response:
    invitation, problem = invitation_from_link(request, "proposal-invite", ProposalInvitation)
    if problem:
        return render(request, "proposals/join.html", {"problem": problem}, status_code=400)
    user = current_user(request)
    organisations = sorted(
        (m.organisation for m in user.memberships) if user else [], key=lambda o: o.name
    )
    errors: dict[str, str] = {}
    if request.method == "POST" and user is not None:
        if form(request).get("answer") == "decline":
            invitation.used_at = utcnow()
            actions.record(db(request), invitation.proposal, user, "partner_declined", user.email)
            flash(request, _("You declined the invitation."))
            return redirect(request, "/")
        chosen = next(
            (o for o in organisations if o.public_id == form(request).get("organisation")), None
        )
        try:
            if chosen is None:
                raise consortium.ConsortiumError(_("Choose one of your organisations."))
            consortium.join_by_invitation(db(request), user, invitation, chosen)
        except consortium.ConsortiumError as exc:
            errors = {"organisation": str(exc)}
        else:
            flash(
                request,
                _("Welcome to the consortium of %(title)s.", title=invitation.proposal.title),
            )
            return _back(request, invitation.proposal)
    lead = consortium.lead_of(consortium.load_proposal(db(request), invitation.proposal.public_id))
    return render(
        request,
        "proposals/join.html",
        {
            "problem": None,
            "invitation": invitation,
            "lead": lead.organisation,
            "organisations": [(o.public_id, o.name) for o in organisations],
            "values": {},
            "errors": errors,
            "next": request.url.path,
        },
        status_code=422 if errors else 200,
    )


@view
@login_required
def partner_action(request: Request) -> Response:
    user = current_user(request)
    proposal = consortium.load_proposal(db(request), request.path_params["pid"])
    if proposal is None or proposal_role(user, proposal) is None:
        raise HTTPException(status_code=404)
    partner = _partner(request, proposal)
    action = request.path_params["action"]
    if action in ("accept", "decline"):
        return _answer(request, proposal, partner, action == "accept")
    require_proposal(user, proposal)
    try:
        if action == "lead":
            require(user, "manage_consortium", proposal)
            consortium.hand_over_lead(db(request), user, proposal, partner)
            flash(request, _("%(name)s is now the lead partner.", name=partner.organisation.name))
        elif action == "withdraw":
            require(user, "withdraw", partner)
            consortium.withdraw_partner(db(request), user, partner)
            flash(request, _("%(name)s has left the consortium.", name=partner.organisation.name))
        elif action == "contact":
            require(user, "set_contact", partner)
            contact = db(request).scalar(
                select(User).where(User.id == (form_id(form(request).get("contact")) or -1))
            )
            if contact is None:
                raise consortium.ConsortiumError(_("Choose one of the options."))
            consortium.set_contact(db(request), user, partner, contact)
            flash(
                request,
                _(
                    "%(name)s is the contact person of %(org)s.",
                    name=contact.name,
                    org=partner.organisation.name,
                ),
            )
        else:
            raise HTTPException(status_code=404)
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
    if not can(user, "view", proposal):  # e.g. one's own organisation just withdrew
        return redirect(request, "/proposals")
    return _back(request, proposal, "#consortium")


routes = [
    Route("/proposals", my_proposals, name="proposals"),
    Route("/proposals/new", new_proposal, methods=["GET", "POST"], name="new_proposal"),
    Route(
        "/proposals/join/{token}",
        proposal_invitation,
        methods=["GET", "POST"],
        name="proposal_invitation",
    ),
    Route("/proposals/invite", invite_partner, methods=["POST"], name="invite_from_directory"),
    Route("/proposals/{pid}", show_proposal, name="proposal"),
    Route("/proposals/{pid}/transition", transition, methods=["POST"], name="transition"),
    Route("/proposals/{pid}/partners", invite_partner, methods=["POST"], name="invite_partner"),
    Route("/proposals/{pid}/invitations", invite_email, methods=["POST"], name="invite_email"),
    Route(
        "/proposals/{pid}/partners/{partner}/{action}",
        partner_action,
        methods=["POST"],
        name="partner_action",
    ),
    Route("/invitations", my_invitations, name="invitations"),
]
