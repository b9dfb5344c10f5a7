"""Routes for mentor review: mentors, "Request review", rounds and verdicts, the review queue."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response

from proposals import mail, urls
from proposals.calls import library
from proposals.calls.describe import section_names
from proposals.domain import accounts, consortium, reviews
from proposals.errors import NotFound
from proposals.forms import CleanLine, CleanText, Email, Form, form_id
from proposals.i18n import get_locale
from proposals.i18n import gettext as _
from proposals.models import Proposal, ReviewRound, SectionVerdict, User
from proposals.policy import can
from proposals.text import render_html
from proposals.web import targets
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    redirect,
    render,
    render_form,
    route,
    settle_live,
    submitted,
    view,
)
from proposals.web.sections import names_context
from workflow import WorkflowError, section_workflow


class RequestForm(Form):
    mentor: str = Field(min_length=1, max_length=20)
    sections: list[str] = Field(default_factory=list, max_length=200)
    due_date: date | None = None
    note: CleanText = Field(default="", max_length=reviews.MAX_NOTE)

    @field_validator("due_date", mode="before")
    @classmethod
    def _no_date(cls, value: object) -> object:
        return None if value == "" else value


class VerdictForm(Form):
    verdict: str = Field(min_length=1, max_length=30)
    comment: CleanText = Field(default="", max_length=reviews.MAX_COMMENT)


class MentorForm(Form):
    name: CleanLine = Field(min_length=1, max_length=120)
    email: Email = Field(min_length=1, max_length=254)


def _proposal(request: Request, with_sections: bool = True) -> Proposal:
    return targets.proposal(request, sections=with_sections)


def _url(proposal: Proposal) -> str:
    return urls.path("reviews", pid=proposal.public_id)


def _criteria(request: Request, proposal: Proposal) -> list:  # type: ignore[type-arg]
    return list(library.profile_for(db(request), proposal).award_criteria)


@view("view_proposal")
def overview(request: Request) -> Response:
    """The proposal's mentors and review rounds (open ones first, then their summaries)."""
    proposal = _proposal(request, with_sections=False)
    user = current_user(request)
    manager = can(user, "add_mentor", proposal)
    return render(
        request,
        "reviews/overview.html",
        {
            "proposal": proposal,
            "rounds": reviews.rounds_of(db(request), proposal),
            "mentors": reviews.mentors_of(proposal),
            "candidates": [
                m
                for m in reviews.available_mentors(db(request))
                if all(a.user_id != m.id for a in proposal.access)
            ]
            if manager
            else [],
            "manager": manager,
            "may_request": can(user, "request_review", proposal),
        },
    )


@view("add_mentor")
def add_mentor(request: Request) -> Response:
    """The coordinator asks a mentor of a support institute to follow the proposal."""
    proposal = _proposal(request, with_sections=False)
    user = current_user(request)
    mentor_id = form_id(form(request).get("mentor"))
    mentor = db(request).get(User, mentor_id) if mentor_id is not None else None
    try:
        if mentor is None:
            raise reviews.ReviewError(_("Choose one of the options."))
        reviews.add_mentor(db(request), user, proposal, mentor)
    except reviews.ReviewError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("%(name)s now mentors this proposal.", name=mentor.name))
    return redirect(request, _url(proposal))


@view("request_review")
def new_round(request: Request) -> Response:
    """ "Request review": choose sections (ready ones by default), the mentor, a due date."""
    proposal = _proposal(request)
    user = current_user(request)
    if request.method == "POST":  # the mentor reads what was typed live until now
        settle_live(request, [s.id for s in proposal.sections])
    session = db(request)
    busy = reviews.busy_sections(session, proposal)
    mentors = reviews.mentors_of(proposal)
    initial = {
        "sections": [s.key for s in reviews.default_sections(proposal, busy)],
        "mentor": str(mentors[0].id) if mentors else "",
    }
    values, errors, data = submitted(request, RequestForm, initial=initial, lists=("sections",))
    if data is not None:
        chosen = [s for s in proposal.sections if s.key in data.sections]
        mentor = next((m for m in mentors if str(m.id) == data.mentor), None)
        try:
            if mentor is None:
                raise reviews.ReviewError(_("Choose one of the options."))
            round_ = reviews.request_review(
                session, user, proposal, chosen, mentor, data.due_date, data.note
            )
        except reviews.ReviewError as exc:
            errors = {"__all__": str(exc)}
        except WorkflowError:
            errors = {"__all__": _("Someone else changed this proposal a moment ago.")}
        else:
            flash(
                request,
                _("%(name)s is asked to review the chosen sections.", name=mentor.name),
            )
            return redirect(request, reviews.round_url(round_, proposal))
    return render_form(
        request,
        "reviews/new.html",
        values,
        errors,
        proposal=proposal,
        busy=busy,
        mentors=mentors,
        labels=section_workflow().labels,
    )


def _round(request: Request, proposal: Proposal) -> ReviewRound:
    round_ = db(request).scalar(
        select(ReviewRound)
        .where(
            ReviewRound.public_id == request.path_params["rid"],
            ReviewRound.proposal_id == proposal.id,
        )
        .options(
            selectinload(ReviewRound.mentor),
            selectinload(ReviewRound.requested_by),
            selectinload(ReviewRound.verdicts).selectinload(SectionVerdict.decided_by),
        )
    )
    return targets.review_round(request, proposal, round_)


def _round_page(
    request: Request,
    proposal: Proposal,
    round_: ReviewRound,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
) -> Response:
    user = current_user(request)
    criteria = _criteria(request, proposal)
    by_id = {s.id: s for s in proposal.sections}
    items = [
        (v, by_id[v.section_id], render_html(by_id[v.section_id].text)) for v in round_.verdicts
    ]
    return render(
        request,
        "reviews/round.html",
        {
            "proposal": proposal,
            "round": round_,
            "items": items,
            "criteria": reviews.scores_context(criteria, get_locale()),
            "totals": reviews.totals(round_, criteria),
            "may_cancel": round_.status == "open" and can(user, "cancel_review", round_),
            "may_judge": round_.status == "open" and can(user, "give_verdict", round_),
            "labels": section_workflow().labels,
            "item_errors": errors or {},
            "item_values": values or {},
            **names_context(request, proposal, by_id.values()),
        },
        status_code=422 if errors else 200,
    )


@view("view_proposal")
def show_round(request: Request) -> Response:
    proposal = _proposal(request)
    return _round_page(request, proposal, _round(request, proposal))


@view("cancel_review")
def cancel_round(request: Request) -> Response:
    """The coordinator withdraws an open round (a mentor who cannot answer, a wrong choice)."""
    proposal = _proposal(request)
    user = current_user(request)
    round_ = _round(request, proposal)
    try:
        reviews.cancel_round(db(request), user, round_)
    except reviews.ReviewError as exc:
        flash(request, str(exc), "error")
    else:
        flash(
            request, _("The review round is cancelled; its sections can be sent for review again.")
        )
    return redirect(request, reviews.round_url(round_, proposal))


@view("give_verdict")
def verdict(request: Request) -> Response:
    """The mentor approves a section or requests changes, with a comment and optional scores."""
    proposal = _proposal(request)
    user = current_user(request)
    round_ = _round(request, proposal)
    key = request.path_params["key"]
    item = next((v for v in round_.verdicts if v.section.key == key), None)
    if item is None:
        raise NotFound()
    values, form_errors, data = submitted(request, VerdictForm)
    criteria = _criteria(request, proposal)
    raw_scores = {c.key: str(values.get(f"score-{c.key}") or "") for c in criteria}
    scores, score_errors = reviews.check_scores(raw_scores, criteria)
    errors: dict[str, str] = {f"score-{k}": v for k, v in score_errors.items()} | form_errors
    if data is not None and data.verdict == "changes_requested" and not data.comment:
        errors["comment"] = _("Say what should change, so the writers know.")
    if errors or data is None:
        shown = {k: str(v) for k, v in values.items() if k != "csrf_token"}
        return _round_page(request, proposal, round_, {key: errors}, {key: shown})
    try:
        closed = reviews.give_verdict(
            db(request), user, round_, item, data.verdict, data.comment, scores
        )
    except reviews.ReviewError as exc:
        flash(request, str(exc), "error")
    except WorkflowError:
        flash(request, _("Someone else changed this proposal a moment ago."), "error")
    else:
        if closed:
            flash(request, _("Every section has its verdict: the review round is closed."))
        else:
            profile = library.profile_for(db(request), proposal)
            name = section_names(profile, [item.section])[item.section.key].name
            flash(request, _("Your verdict on “%(title)s” is saved.", title=name))
    return redirect(request, reviews.round_url(round_, proposal) + f"#s-{key}")


@view("use_engage")
def review_queue(request: Request) -> Response:
    """A mentor's page across all their consortia: what waits for them, most urgent first."""
    user = current_user(request)
    session = db(request)
    return render(
        request,
        "reviews/queue.html",
        {
            "waiting": reviews.queue(session, user),
            "mentored": reviews.mentored(session, user),
            "today": date.today(),
        },
    )


@view("admin")
def admin_mentors(request: Request) -> Response:
    """Admins create or invite mentor accounts and assign mentors to proposals."""
    user = current_user(request)
    session = db(request)
    values, errors = {}, {}
    if request.method == "POST" and form(request).get("action") == "assign":
        mentor_id, pid = (
            form_id(form(request).get("mentor")),
            str(form(request).get("proposal") or ""),
        )
        mentor = session.get(User, mentor_id) if mentor_id is not None else None
        proposal = consortium.load_proposal(session, pid)
        try:
            if mentor is None or proposal is None:
                raise reviews.ReviewError(_("Choose one of the options."))
            reviews.add_mentor(session, user, proposal, mentor)
        except reviews.ReviewError as exc:
            flash(request, str(exc), "error")
        else:
            flash(request, _("%(name)s now mentors this proposal.", name=mentor.name))
        return redirect(request, urls.path("admin_mentors"))
    if request.method == "POST":
        values, errors, data = submitted(request, MentorForm)
        if data is not None:
            existing = accounts.find_user(session, data.email)
            if existing is not None:
                existing.is_mentor = True
                flash(request, _("%(name)s is now a mentor.", name=existing.name))
            else:
                _invite_mentor(request, data.name, data.email)
                flash(request, _("We have sent an invitation to %(email)s.", email=data.email))
            return redirect(request, urls.path("admin_mentors"))
    proposals = session.scalars(select(Proposal).order_by(Proposal.title)).all()
    return render_form(
        request,
        "reviews/mentors.html",
        values,
        errors,
        mentors=reviews.available_mentors(session),
        proposals=proposals,
    )


def _invite_mentor(request: Request, name: str, email: str) -> None:
    """A new mentor account, and an e-mail with a link to choose its password."""
    session = db(request)
    user = accounts.new_invited_user(session, name, email)
    user.is_mentor = True
    session.flush()
    settings = request.app.state.settings
    token = request.app.state.tokens.make("reset", accounts.reset_payload(user))
    link = settings.base_url + urls.path("reset_password", token=token)
    body = request.app.state.templates.get_template("mail/mentor_invitation.txt").render(
        user=user, inviter=current_user(request), link=link, hours=settings.password_reset_hours
    )
    subject = _("You are invited to mentor consortia on Engage")
    mail.queue(db(request), email, subject, body, "mentor", secret_links=[link])


routes = [
    route("review_queue", review_queue),
    route("admin_mentors", admin_mentors, ("GET", "POST")),
    route("reviews", overview),
    route("new_round", new_round, ("GET", "POST")),
    route("add_mentor", add_mentor, ("POST",)),
    route("review_round", show_round),
    route("verdict", verdict, ("POST",)),
    route("cancel_round", cancel_round, ("POST",)),
]
