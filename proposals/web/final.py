"""Routes of the final stage: check before submit, sign-offs, exports, the submission."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field, field_validator
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proposals.domain import actions, consortium, final
from proposals.forms import CleanText, Form, FormErrors, form_dict, validate
from proposals.i18n import gettext as _
from proposals.models import Export, Proposal
from proposals.policy import can, proposal_role, require, require_proposal
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    login_required,
    redirect,
    render,
    view,
)
from workflow import SIGNING_STATES, Refused, WrongState, proposal_workflow

KINDS = ("application", "declaration", "package")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "zip": "application/zip",
}


class SubmissionForm(Form):
    submitted_on: date
    reference: CleanText = Field(min_length=1, max_length=100)

    @field_validator("submitted_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today() + timedelta(days=1):  # a day of slack for time zones
            raise ValueError(_("Enter the day the application was submitted, not a later one."))
        return value


def _proposal(request: Request) -> Proposal:
    proposal = consortium.load_proposal(db(request), request.path_params["pid"], with_sections=True)
    return require_proposal(current_user(request), proposal)


def _url(proposal: Proposal, anchor: str = "") -> str:
    return f"/proposals/{proposal.public_id}/final{anchor}"


def _page(request: Request, proposal: Proposal, values=None, errors=None) -> Response:  # type: ignore[no-untyped-def]
    session = db(request)
    user = current_user(request)
    found = final.problems(session, proposal)
    states = final.sign_offs(session, proposal)
    workflow = proposal_workflow(proposal.workflow_version)
    return render(
        request,
        "final/show.html",
        {
            "proposal": proposal,
            "problems": found,
            "errors_left": [p for p in found if p.severity == "error"],
            "states": states,
            "signing": proposal.status in SIGNING_STATES,
            "read_only": final.is_read_only(proposal.status),
            "may_sign": {s.partner.id: can(user, "sign_off", s.partner) for s in states},
            "may_declare": {
                s.partner.id: can(user, "export_declaration", s.partner) for s in states
            },
            "may_export": can(user, "export", proposal),
            "coordinator": proposal_role(user, proposal) == "coordinator",
            "options": actions.options(session, proposal, user),
            "history": final.history(session, proposal),
            "label": _(workflow.labels[proposal.status]),
            "values": values or {"submitted_on": date.today().isoformat()},
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


@view
@login_required
def show(request: Request) -> Response:
    return _page(request, _proposal(request))


@view
@login_required
def sign_off(request: Request) -> Response:
    proposal = _proposal(request)
    user = current_user(request)
    partner = next(
        (p for p in proposal.partners if p.public_id == form(request).get("partner")), None
    )
    if partner is None:
        raise HTTPException(status_code=404)
    require(user, "sign_off", partner)
    if proposal.status not in SIGNING_STATES:
        flash(
            request, _("Sign-offs are collected once the coordinator moves to sign-off."), "error"
        )
        return redirect(request, _url(proposal, "#sign-offs"))
    final.sign_off(db(request), proposal, partner, user)
    flash(request, _("%(name)s has signed off.", name=partner.organisation.name))
    return redirect(request, _url(proposal, "#sign-offs"))


@view
@login_required
def make_export(request: Request) -> Response:
    """Build a file, keep it in the history and send it as a download."""
    proposal = _proposal(request)
    user = current_user(request)
    kind = str(form(request).get("kind") or "")
    partner = str(form(request).get("partner") or "") or None
    if kind not in KINDS or (kind == "declaration" and partner is None):
        raise HTTPException(status_code=400)
    if kind == "declaration":
        target = next(
            (p for p in proposal.partners if p.public_id == partner and p.status == "active"), None
        )
        if target is None:
            raise HTTPException(status_code=404)
        require(user, "export_declaration", target)
    else:
        require(user, "export", proposal)
    row = final.export(db(request), proposal, user, kind, partner)
    return _download(row)


def _download(row: Export) -> Response:
    extension = row.filename.rsplit(".", 1)[-1]
    return Response(
        row.content,
        media_type=MEDIA_TYPES.get(extension, "application/octet-stream"),
        headers={
            "Content-Disposition": f'attachment; filename="{row.filename}"',
            "X-Content-SHA256": row.sha256,
            "Cache-Control": "no-store",
        },
    )


@view
@login_required
def download(request: Request) -> Response:
    proposal = _proposal(request)
    row = db(request).scalar(
        select(Export).where(
            Export.public_id == request.path_params["eid"], Export.proposal_id == proposal.id
        )
    )
    if row is None:
        raise HTTPException(status_code=404)
    return _download(row)


@view
@login_required
def submission(request: Request) -> Response:
    proposal = _proposal(request)
    user = current_user(request)
    if not can(user, "manage_consortium", proposal):
        raise HTTPException(status_code=403)
    if proposal.status != "final.signed":  # the form is not on the page: say why, not 422
        flash(request, _("The proposal must be signed before the submission is recorded."), "error")
        return redirect(request, _url(proposal))
    values = form_dict(form(request))
    try:
        data = validate(SubmissionForm, values)
    except FormErrors as exc:
        return _page(request, proposal, values, exc.errors)
    try:
        final.record_submission(db(request), proposal, user, data.submitted_on, data.reference)
    except WrongState:
        flash(request, _("The proposal must be signed before the submission is recorded."), "error")
        return redirect(request, _url(proposal))
    except Refused as exc:
        flash(request, _("Not yet: %(reasons)s", reasons=" ".join(exc.reasons)), "error")
        return redirect(request, _url(proposal))
    flash(request, _("The submission is recorded. Good luck!"))
    return redirect(request, f"/proposals/{proposal.public_id}")


routes = [
    Route("/proposals/{pid}/final", show, name="final"),
    Route("/proposals/{pid}/final/sign-off", sign_off, methods=["POST"]),
    Route("/proposals/{pid}/final/export", make_export, methods=["POST"], name="export"),
    Route("/proposals/{pid}/final/submission", submission, methods=["POST"]),
    Route("/proposals/{pid}/exports/{eid}", download, name="export_download"),
]
