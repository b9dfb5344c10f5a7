"""Routes for the plan (milestones back from the deadline) and the calendars (.ics, feeds)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from proposals import urls
from proposals.domain import agenda, calendars, planning, sections
from proposals.errors import NotFound
from proposals.forms import Form
from proposals.i18n import format_date, ngettext, using
from proposals.i18n import gettext as _
from proposals.web import targets
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    redirect,
    render_form,
    route,
    submitted,
    view,
)

#: The latest a milestone may be planned (typos like 20277 are refused).
LATEST = date(2100, 12, 31)


class PlanForm(Form):
    partnership: date
    sections_assigned: date
    first_drafts: date
    mentor_review: date
    revisions: date
    sign_offs: date
    submission: date
    done: list[str] = Field(default_factory=list, max_length=len(planning.KEYS))

    @model_validator(mode="after")
    def _in_range(self) -> PlanForm:
        for key in planning.KEYS:
            if not date(2000, 1, 1) <= getattr(self, key) <= LATEST:
                raise ValueError(_("Give a date between 2000 and 2100."))
        return self


def _ics(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@view("plan_proposal")
def plan(request: Request) -> Response:
    proposal = targets.proposal(request, sections=True)
    session = db(request)
    today = agenda.today_for(current_user(request))
    deadline = agenda.call_deadline(session, proposal, today)
    current = planning.milestones(session, proposal, deadline.day if deadline else None, today)
    proposed = planning.back_plan(deadline.day, planning.countries_of(proposal)) if deadline else {}
    initial: dict[str, object] = {m.key: m.due.isoformat() for m in current}
    initial["done"] = [m.key for m in current if m.done]
    values, errors, data = submitted(request, PlanForm, initial=initial, lists=("done",))
    if data is not None:
        dates = {key: getattr(data, key) for key in planning.KEYS}
        planning.save(session, proposal, dates, set(data.done) & set(planning.KEYS))
        flash(request, _("The plan is saved."))
        return redirect(request, urls.link(proposal, "timeline"))
    days_off = planning.DaysOff(planning.countries_of(proposal))
    return render_form(
        request,
        "proposals/plan.html",
        values,
        errors,
        proposal=proposal,
        deadline=deadline,
        keys=planning.KEYS,
        labels={key: _(label) for key, label in planning.LABELS.items()},
        proposed=proposed,
        countries=days_off.countries,
        drafts_due=planning.drafts_due(session, proposal),
        to_date=planning.sections_to_date(proposal),
    )


@view("plan_due_dates")
def apply_plan(request: Request) -> Response:
    """Every assigned, not yet approved section gets the plan's "first drafts" date."""
    proposal = targets.proposal(request, sections=True)
    session = db(request)
    due = planning.drafts_due(session, proposal)
    back = urls.path("plan", pid=proposal.public_id)
    if due is None:
        flash(request, _("Save the plan first: the due dates come from its first drafts."), "error")
        return redirect(request, back)
    user = current_user(request)
    changed = 0
    for section in planning.sections_to_date(proposal):
        if section.due_date != due:
            sections.assign(session, user, section, section.partner, section.assignee, due)
            changed += 1
    flash(
        request,
        ngettext(
            "%(num)s section is now due on %(date)s.",
            "%(num)s sections are now due on %(date)s.",
            changed,
            date=format_date(due),
        )
        if changed
        else _("Every section already had that due date."),
    )
    return redirect(request, urls.link(proposal, "timeline"))


@view("view_proposal")
def proposal_calendar(request: Request) -> Response:
    proposal = targets.proposal(request)
    base = request.app.state.settings.base_url
    events = calendars.proposal_events(db(request), proposal, base)
    name = proposal.acronym or proposal.title
    return _ics(calendars.ics(name, events), f"{proposal.public_id}.ics")


@view("public")
def calendar_feed(request: Request) -> Response:
    """A person's private feed: the secret in the address is the only key (no cookie)."""
    session = db(request)
    token = request.path_params["token"]
    user = calendars.owner_of(session, token)
    if user is None:
        raise NotFound()
    base = request.app.state.settings.base_url
    with using(user.locale, user.timezone):
        events = calendars.person_events(session, user, base)
        content = calendars.ics(_("Engage: %(name)s", name=user.name), events)
    return _ics(content, "engage.ics")


@view("use_engage")
def calendar_settings(request: Request) -> Response:
    """Create, replace or revoke one's feed address."""
    user = current_user(request)
    if request.method == "POST":
        action = str(form(request).get("action") or "")
        if action == "revoke":
            calendars.revoke(user)
            flash(request, _("The calendar address is revoked: calendars using it get nothing."))
        else:
            calendars.new_token(user)
            flash(
                request,
                _("A new calendar address is ready; the previous one no longer works.")
                if action == "replace"
                else _("Your calendar address is ready."),
            )
        return redirect(request, urls.path("calendar_settings"))
    token = user.calendar_token
    feed = (
        request.app.state.settings.base_url + urls.path("calendar_feed", token=token)
        if token
        else ""
    )
    return render_form(request, "auth/calendar.html", {}, {}, feed=feed)


routes = [
    route("plan", plan, ("GET", "POST")),
    route("apply_plan", apply_plan, ("POST",)),
    route("proposal_calendar", proposal_calendar),
    route("calendar_feed", calendar_feed),
    route("calendar_settings", calendar_settings, ("GET", "POST")),
]
