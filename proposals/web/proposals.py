"""Routes for proposals: start one, its page, the consortium, invitations, the workflow."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from proposals import mail, urls
from proposals.calls import library
from proposals.calls.checks import run_checks
from proposals.calls.standing import closed_reason, standing
from proposals.domain import actions, activity, agenda, audit, consortium, final, planning
from proposals.domain.ideas import get_idea
from proposals.errors import Denied, Invalid
from proposals.forms import CleanLine, Email, Form, form_id
from proposals.i18n import get_locale
from proposals.i18n import gettext as _
from proposals.models import Proposal, ProposalInvitation, User, utcnow
from proposals.policy import can, proposal_role, require
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
from workflow import NotYourRole, Refused, WrongState, proposal_workflow, section_workflow

ACTIVITY_LIMIT = 50
#: Triggers that belong to review rounds: "Request review" opens one, the last verdict closes it.
ROUND_TRIGGERS = ("request_review", "return_for_revision")


class ProposalForm(Form):
    call: str = Field(min_length=1, max_length=40)
    title: CleanLine = Field(min_length=1, max_length=300)
    acronym: CleanLine = Field(default="", max_length=20)
    organisation: str = Field(min_length=1, max_length=40)
    invite: list[str] = Field(default_factory=list, max_length=100)


class EmailInviteForm(Form):
    email: Email = Field(min_length=1, max_length=254)
    role: str = "partner"


def _back(request: Request, proposal: Proposal, anchor: str = "") -> Response:
    return redirect(request, urls.link(proposal, anchor))


@view("use_engage")
def my_proposals(request: Request) -> Response:
    workflow = proposal_workflow()
    user = current_user(request)
    today = agenda.today_for(user)
    return render(
        request,
        "proposals/list.html",
        {
            "lines": agenda.lines(db(request), user, today, urgent=False),
            "labels": workflow.labels,
            "workflow": workflow,
        },
    )


@view("use_engage")
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
        return redirect(request, urls.path("new_organisation"))
    idea = None
    idea_id = request.query_params.get("idea") or str(form(request).get("idea") or "")
    if idea_id:
        idea = get_idea(db(request), idea_id)
        require(user, "start_proposal_from_idea", idea)
    now = utcnow()
    everything = library.latest(db(request))
    # Closed calls are not offered; one asked for by name is refused with the reason.
    profiles = [p for p in everything if standing(p, now) != "closed"]
    interested = [i.organisation for i in idea.interests] if idea else []
    initial = {
        "call": (idea.call_id if idea and idea.call_id else request.query_params.get("call", "")),
        "title": idea.title if idea else "",
        "organisation": (idea.organisation.public_id if idea else organisations[0].public_id),
        "invite": [o.public_id for o in interested],
    }
    values, errors, data = submitted(request, ProposalForm, initial=initial, lists=("invite",))
    if data is not None:
        profile = next((p for p in everything if p.id == data.call), None)
        lead = next((o for o in organisations if o.public_id == data.organisation), None)
        refused = closed_reason(profile, now) if profile is not None else None
        if profile is None:
            errors = {"call": _("Choose one of the options.")}
        elif refused:
            errors = {"call": refused}
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


def call_notices(session: Session, proposal: Proposal) -> list[str]:
    """What happened to the proposal's call since it started: closed, or a newer version."""
    latest = library.get(session, proposal.call_id)
    if latest is None:
        return []
    notices = []
    reason = closed_reason(latest, utcnow())
    if reason:
        notices.append(reason)
    if latest.version > proposal.call_version:
        notices.append(
            _(
                "The call's profile has changed since this proposal started: version "
                "%(latest)s is current, this proposal follows version %(version)s.",
                latest=latest.version,
                version=proposal.call_version,
            )
        )
    return notices


@view("view_proposal")
def show_proposal(request: Request) -> Response:
    proposal = targets.proposal(request)
    user = current_user(request)
    session = db(request)
    section_labels = section_workflow().labels
    workflow = proposal_workflow(proposal.workflow_version)
    profile = library.profile_for(session, proposal)
    inviting = can(user, "invite_partner", proposal)
    facts = actions.facts_of(proposal)  # gathered once for every check on the page
    options = [
        o
        for o in actions.options(session, proposal, user, facts)
        if o.trigger not in ROUND_TRIGGERS
    ]
    finalising = any(o.trigger == "finalise" and o.allowed for o in options)
    today = agenda.today_for(user)
    deadline = agenda.call_deadline(session, proposal, today)
    return render(
        request,
        "proposals/show.html",
        {
            "proposal": proposal,
            "profile": profile,
            "call_notices": call_notices(session, proposal),
            "written_in": profile.written_in(proposal.language),
            "stage": profile.stage(proposal.stage),
            "deadline": deadline,
            "milestones": planning.milestones(
                session, proposal, deadline.day if deadline else None, today
            ),
            "today": today,
            "locale": get_locale(),
            "role": proposal_role(user, proposal),
            # Review rounds fire these two themselves (see proposals/domain/reviews.py).
            "options": options,
            "blockers": final.blockers(session, proposal, facts) if finalising else [],
            "workflow": workflow,
            "phase": workflow.phase_of(proposal.status),
            "activity": activity.feed(
                audit.activity(session, proposal.id, ACTIVITY_LIMIT),
                proposal,
                lambda state: _(workflow.labels.get(state) or section_labels.get(state, state)),
            ),
            "invitations": consortium.open_invitations(session, proposal) if inviting else [],
            "members": consortium.members_by_organisation(session, proposal),
            "partnership_findings": run_checks(profile, facts, ["partnership"]),
            "roles": [("partner", _("Partner")), ("associated", _("Associated partner"))],
            "values": {"role": "partner"},
            "errors": {},
        },
    )


@view("fire_transition")
def transition(request: Request) -> Response:
    proposal = targets.proposal(request)
    user = current_user(request)
    trigger = str(form(request).get("trigger") or "")
    expected = str(form(request).get("state") or "")
    workflow = proposal_workflow(proposal.workflow_version)
    if trigger not in workflow.triggers:
        raise Invalid(_("This step does not exist. Reload the page and try again."))
    if trigger == "submit":  # the submission needs its date and the funder's reference
        return redirect(request, urls.path("final", pid=proposal.public_id) + "#submission")
    if trigger in ROUND_TRIGGERS:
        return redirect(request, urls.path("reviews", pid=proposal.public_id))
    if trigger == "finalise" and form(request).get("confirmed") != "1":
        found = final.blockers(db(request), proposal)
        if found:  # say what is still wrong and ask before the sign-offs start
            return render(
                request,
                "proposals/confirm_finalise.html",
                {"proposal": proposal, "blockers": found, "state": expected, "trigger": trigger},
            )
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
        raise Denied(403, _("Only the coordinator can take this step.")) from None
    except Refused as exc:
        flash(request, _("Not yet: %(reasons)s", reasons=" ".join(exc.reasons)), "error")
    else:
        flash(
            request,
            _("Done: the proposal is now “%(state)s”.", state=_(workflow.labels[change.dest])),
        )
    return _back(request, proposal)


def _invite(request: Request, proposal: Proposal) -> Response:
    organisation = consortium.find_organisation(
        db(request), str(form(request).get("organisation") or "")
    )
    if organisation is None:
        flash(request, _("Choose an organisation from the directory."), "error")
        return _back(request, proposal, "consortium")
    try:
        consortium.invite_organisation(
            db(request),
            current_user(request),
            proposal,
            organisation,
            str(form(request).get("role") or "partner"),
        )
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("%(name)s is invited.", name=organisation.name))
    return _back(request, proposal, "consortium")


@view("invite_partner")
def invite_partner(request: Request) -> Response:
    """Invite an existing organisation from the proposal page."""
    return _invite(request, targets.proposal(request))


@view("invite_partner")
def invite_from_directory(request: Request) -> Response:
    """Invite an existing organisation from the partner directory (the proposal in the form)."""
    pid = str(form(request).get("proposal") or "")
    return _invite(request, targets.proposal(request, pid=pid))


@view("invite_partner")
def invite_email(request: Request) -> Response:
    proposal = targets.proposal(request)
    user = current_user(request)
    settings = request.app.state.settings
    _values, errors, data = submitted(request, EmailInviteForm)
    if data is None:
        flash(request, next(iter(errors.values())), "error")
        return _back(request, proposal, "consortium")
    try:
        invitation = consortium.invite_by_email(
            db(request), user, proposal, data.email, data.role, settings.invitation_days
        )
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
        return _back(request, proposal, "consortium")
    token = request.app.state.tokens.make("proposal-invite", invitation.public_id)
    link = settings.base_url + urls.path("proposal_invitation", token=token)
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
    mail.queue(db(request), data.email, subject, body, "proposal-invitation", secret_links=[link])
    flash(request, _("We have sent an invitation to %(email)s.", email=data.email))
    return _back(request, proposal, "consortium")


@view("invite_partner")
def revoke_invitation(request: Request) -> Response:
    proposal = targets.proposal(request)
    consortium.revoke_invitation(
        db(request), current_user(request), proposal, request.path_params["inv"]
    )
    flash(request, _("The invitation is withdrawn: its link no longer works."))
    return _back(request, proposal, "consortium")


@view("use_engage")
def my_invitations(request: Request) -> Response:
    pending = consortium.pending_invitations(db(request), current_user(request))
    return render(request, "proposals/invitations.html", {"pending": pending})


def _invitation(request: Request) -> ProposalInvitation:
    invitation, problem = invitation_from_link(request, "proposal-invite", ProposalInvitation)
    if problem or invitation is None:
        raise Invalid(problem or "")
    return invitation


def _join_page(
    request: Request, invitation: ProposalInvitation, errors: dict[str, str] | None = None
) -> Response:
    user = current_user(request)
    organisations = sorted(
        (m.organisation for m in user.memberships) if user else [], key=lambda o: o.name
    )
    proposal = consortium.load_proposal(db(request), invitation.proposal.public_id)
    return render(
        request,
        "proposals/join.html",
        {
            "problem": None,
            "invitation": invitation,
            "lead": consortium.lead_of(proposal).organisation,
            "organisations": [(o.public_id, o.name) for o in organisations],
            "addressee": can(user, "join_by_link", invitation),
            "values": {},
            "errors": errors or {},
            "next": request.url.path,
        },
        status_code=422 if errors else 200,
    )


@view("public")
def proposal_invitation_page(request: Request) -> Response:
    """The page an e-mailed invitation opens: the project, and how to answer."""
    try:
        invitation = _invitation(request)
    except Invalid as exc:
        return render(request, "proposals/join.html", {"problem": exc.message}, status_code=400)
    return _join_page(request, invitation)


@view("join_by_link")
def answer_proposal_invitation(request: Request) -> Response:
    """The invited person accepts for one of their organisations, or declines."""
    invitation = _invitation(request)
    authorize(request, invitation)
    user = current_user(request)
    if form(request).get("answer") == "decline":
        consortium.decline_by_invitation(db(request), user, invitation)
        flash(request, _("You declined the invitation."))
        return redirect(request, urls.path("home"))
    chosen = next(
        (
            m.organisation
            for m in user.memberships
            if m.organisation.public_id == form(request).get("organisation")
        ),
        None,
    )
    try:
        if chosen is None:
            raise consortium.ConsortiumError(_("Choose one of your organisations."))
        consortium.join_by_invitation(db(request), user, invitation, chosen)
    except consortium.ConsortiumError as exc:
        return _join_page(request, invitation, {"organisation": str(exc)})
    flash(request, _("Welcome to the consortium of %(title)s.", title=invitation.proposal.title))
    return _back(request, invitation.proposal)


def _answer(request: Request, accept: bool) -> Response:
    """Accept or decline for one's organisation; a second press is told it was answered."""
    proposal = targets.proposal(request)
    partner = targets.partner(request, proposal)
    if not consortium.answer(db(request), current_user(request), partner, accept):
        flash(request, _("This invitation has already been answered."), "info")
    elif accept:
        flash(request, _("Welcome to the consortium of %(title)s.", title=proposal.title))
        return _back(request, proposal)
    else:
        flash(request, _("You declined the invitation."))
    return redirect(request, urls.path("invitations"))


@view("answer_invitation")
def accept_partnership(request: Request) -> Response:
    return _answer(request, True)


@view("answer_invitation")
def decline_partnership(request: Request) -> Response:
    return _answer(request, False)


def _after_partner_change(request: Request, proposal: Proposal) -> Response:
    if not can(current_user(request), "view_proposal", proposal):  # e.g. one's own just left
        return redirect(request, urls.path("proposals"))
    return _back(request, proposal, "consortium")


@view("hand_over_lead")
def hand_over_lead(request: Request) -> Response:
    proposal = targets.proposal(request)
    partner = targets.partner(request, proposal)
    try:
        consortium.hand_over_lead(db(request), current_user(request), proposal, partner)
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("%(name)s is now the lead partner.", name=partner.organisation.name))
    return _after_partner_change(request, proposal)


@view("withdraw_partner")
def withdraw_partner(request: Request) -> Response:
    proposal = targets.proposal(request)
    partner = targets.partner(request, proposal)
    try:
        consortium.withdraw_partner(db(request), current_user(request), partner)
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("%(name)s has left the consortium.", name=partner.organisation.name))
    return _after_partner_change(request, proposal)


@view("set_contact")
def set_contact(request: Request) -> Response:
    proposal = targets.proposal(request)
    partner = targets.partner(request, proposal)
    contact_id = form_id(form(request).get("contact"))
    contact = db(request).get(User, contact_id) if contact_id is not None else None
    try:
        if contact is None:
            raise consortium.ConsortiumError(_("Choose one of the options."))
        consortium.set_contact(db(request), current_user(request), partner, contact)
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
    else:
        flash(
            request,
            _(
                "%(name)s is the contact person of %(org)s.",
                name=contact.name,
                org=partner.organisation.name,
            ),
        )
    return _after_partner_change(request, proposal)


@view("mark_newcomer")
def mark_newcomer(request: Request) -> Response:
    proposal = targets.proposal(request)
    partner = targets.partner(request, proposal)
    said = {"yes": True, "no": False, "": None}
    raw = form(request).get("newcomer", "")
    try:
        if not isinstance(raw, str) or raw not in said:
            raise consortium.ConsortiumError(_("Choose one of the options."))
        consortium.mark_newcomer(db(request), current_user(request), partner, said[raw])
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("Saved."))
    return _after_partner_change(request, proposal)


@view("set_application")
def set_application(request: Request) -> Response:
    """The application's language and the call's stage it is at."""
    proposal = targets.proposal(request)
    session, user = db(request), current_user(request)
    profile = library.profile_for(session, proposal)
    data = form(request)
    language, stage = data.get("language"), data.get("stage")
    try:
        if language is not None:
            if not isinstance(language, str):
                raise consortium.ConsortiumError(_("Choose one of the options."))
            consortium.set_language(session, user, proposal, profile, language)
        if stage is not None:
            if not isinstance(stage, str):
                raise consortium.ConsortiumError(_("Choose one of the options."))
            consortium.set_stage(session, user, proposal, profile, stage)
    except consortium.ConsortiumError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("Saved."))
    return _back(request, proposal, "application")


routes = [
    route("proposals", my_proposals),
    route("new_proposal", new_proposal, ("GET", "POST")),
    route("proposal_invitation", proposal_invitation_page),
    route("proposal_invitation", answer_proposal_invitation, ("POST",)),
    route("invite_from_directory", invite_from_directory, ("POST",)),
    route("proposal", show_proposal),
    route("transition", transition, ("POST",)),
    route("invite_partner", invite_partner, ("POST",)),
    route("invite_email", invite_email, ("POST",)),
    route("revoke_invitation", revoke_invitation, ("POST",)),
    route("partner_accept", accept_partnership, ("POST",)),
    route("partner_decline", decline_partnership, ("POST",)),
    route("partner_lead", hand_over_lead, ("POST",)),
    route("partner_withdraw", withdraw_partner, ("POST",)),
    route("partner_contact", set_contact, ("POST",)),
    route("partner_newcomer", mark_newcomer, ("POST",)),
    route("proposal_application", set_application, ("POST",)),
    route("invitations", my_invitations),
]
