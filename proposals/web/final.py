"""Routes of the final stage: check before submit, sign-offs, exports, the submission."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field, field_validator
from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from proposals import urls
from proposals.domain import actions, exporting, final, pdf, sections, wordback
from proposals.errors import Invalid, NotFound
from proposals.forms import CleanLine, Form, form_id
from proposals.i18n import gettext as _
from proposals.models import Export, Proposal, Section
from proposals.policy import can
from proposals.web import targets
from proposals.web.plumbing import (
    attachment,
    current_user,
    db,
    flash,
    form,
    redirect,
    render,
    route,
    settle_live,
    submitted,
    view,
)
from proposals.web.sections import follow, on_saved
from workflow import SIGNING_STATES, Refused, WrongState, proposal_workflow

KINDS = ("application", "declaration", "package")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "zip": "application/zip",
    "pdf": "application/pdf",
}
FORMATS = ("docx", "pdf")


class SubmissionForm(Form):
    submitted_on: date
    reference: CleanLine = Field(min_length=1, max_length=100)

    @field_validator("submitted_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today() + timedelta(days=1):  # a day of slack for time zones
            raise ValueError(_("Enter the day the application was submitted, not a later one."))
        return value


def _url(proposal: Proposal, anchor: str = "") -> str:
    return urls.path("final", pid=proposal.public_id) + (f"#{anchor}" if anchor else "")


def _page(request: Request, proposal: Proposal, values=None, errors=None, confirm=None) -> Response:  # type: ignore[no-untyped-def]
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
            "pdf_available": pdf.available(),
            "may_import": can(user, "import_word", proposal),
            "word_exports": wordback.exports_to_compare(session, proposal),
            "pdf_missing": pdf.missing_message(),
            "may_submit": can(user, "record_submission", proposal),
            "options": actions.options(session, proposal, user),
            "history": exporting.history(session, proposal),
            "describe": exporting.describe,
            "label": _(workflow.labels[proposal.status]),
            "values": values or {"submitted_on": date.today().isoformat()},
            "errors": errors or {},
            "confirm": confirm,
        },
        status_code=422 if errors else 200,
    )


@view("view_proposal")
def show(request: Request) -> Response:
    proposal = targets.proposal(request, sections=True)
    settle_live(request, [s.id for s in proposal.sections])  # the checks read the text
    return _page(request, proposal)


@view("sign_off")
def sign_off(request: Request) -> Response:
    proposal = targets.proposal(request, sections=True)
    partner = targets.partner(request, proposal, str(form(request).get("partner") or ""))
    settle_live(request, [s.id for s in proposal.sections])
    if form(request).get("confirmed") != "1":
        findings = final.budget_findings(db(request), proposal, partner)
        if findings:  # the partner sees what its budget breaks before signing it
            return _page(request, proposal, confirm=(partner, findings))
    final.sign_off(db(request), proposal, partner, current_user(request))
    flash(request, _("%(name)s has signed off.", name=partner.organisation.name))
    return redirect(request, _url(proposal, "sign-offs"))


def _format(request: Request) -> str:
    """The file format asked for: Word unless the form says PDF."""
    fmt = str(form(request).get("format") or "docx")
    if fmt not in FORMATS:
        raise Invalid(_("Choose Word or PDF."))
    return fmt


def _export(request: Request, proposal: Proposal, kind: str, partner: str | None) -> Response:
    settle_live(request, [s.id for s in proposal.sections])
    fmt = _format(request)
    row = exporting.export(db(request), proposal, current_user(request), kind, partner, fmt)
    return _download(row)


@view("export", slow=True)
def make_export(request: Request) -> Response:
    """Build the application or the package, keep it in the history and send it."""
    proposal = targets.proposal(request, sections=True)
    kind = str(form(request).get("kind") or "")
    if kind not in ("application", "package"):
        raise Invalid(_("Choose what to export."))
    return _export(request, proposal, kind, None)


@view("export_declaration", slow=True)
def export_declaration(request: Request) -> Response:
    """Build one partner's declaration (the partner itself, or the coordinator)."""
    proposal = targets.proposal(request, sections=True)
    partner = targets.partner(request, proposal, str(form(request).get("partner") or ""))
    if partner.status != "active":
        raise NotFound()
    return _export(request, proposal, "declaration", partner.public_id)


def _download(row: Export) -> Response:
    extension = row.filename.rsplit(".", 1)[-1]
    return Response(
        row.content,
        media_type=MEDIA_TYPES.get(extension, "application/octet-stream"),
        headers={
            "Content-Disposition": attachment(row.filename),
            "X-Content-SHA256": row.sha256,
            "Cache-Control": "no-store",
        },
    )


@view("view_proposal")
def download(request: Request) -> Response:
    proposal = targets.proposal(request)
    row = db(request).scalar(
        select(Export).where(
            Export.public_id == request.path_params["eid"], Export.proposal_id == proposal.id
        )
    )
    if row is None:
        raise NotFound()
    return _download(row)


@view("import_word", slow=True)
def word_upload(request: Request) -> Response:
    """Read an edited Word export and show, per section, what changed since that export."""
    proposal = targets.proposal(request, sections=True)
    data = form(request)
    choices = wordback.exports_to_compare(db(request), proposal)
    export = next((e for e in choices if e.public_id == str(data.get("export") or "")), None)
    if export is None:
        raise Invalid(_("Choose the export the file was made from."))
    file = data.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise Invalid(_("Choose the Word file to upload."))
    content = file.file.read(wordback.MAX_UPLOAD + 1)
    found = wordback.review(db(request), proposal, export, content)
    user = current_user(request)
    return render(
        request,
        "final/word.html",
        {
            "proposal": proposal,
            "export": export,
            "filename": file.filename,
            "review": found,
            "may_edit": {c.section.key: can(user, "edit_text", c.section) for c in found.changes},
        },
    )


@view("import_word", slow=True)
def word_apply(request: Request) -> Response:
    """Save the sections accepted from Word, each merged with what Engage has now."""
    proposal = targets.proposal(request, sections=True)
    data = form(request)
    user = current_user(request)
    by_key = {s.key: s for s in proposal.sections}
    accepted: list[str] = []
    merged: list[str] = []
    conflicts: list[str] = []
    refused: list[str] = []
    work: list[tuple[Section, str, int]] = []
    for key in data.getlist("section"):
        section = by_key.get(str(key))
        decision = data.get(f"decision-{key}")
        if section is None or decision not in ("accept", "some"):
            continue
        text, base = data.get(f"text-{key}"), form_id(data.get(f"base-{key}"))
        if not isinstance(text, str) or base is None:
            raise Invalid(_("The form was incomplete; nothing was saved. Upload the file again."))
        if decision == "some":  # only the changes ticked, each a number of the section's diff
            ticked = {form_id(v) for v in data.getlist(f"change-{key}")} - {None}
            if not ticked:
                continue
            text = wordback.chosen_text(db(request), section, base, text, ticked)  # type: ignore[arg-type]
        if not can(user, "edit_text", section):
            refused.append(section.title)
            continue
        work.append((section, text, base))
    db(request).commit()  # release the request's connection before the saves (see sections)
    for section, text, base in work:
        try:
            result = sections.save(
                request.app.state.sessionmaker,
                section.id,
                user.id,
                text,
                base,
                on_saved=on_saved(request, section),
            )
        except sections.SaveRefused as exc:
            flash(request, f"{section.title}: {exc}", "error")
            continue
        follow(request, section, result)
        if result.kind == "conflict":
            conflicts.append(section.title)
        elif result.kind == "merge":
            merged.append(section.title)
        elif result.kind == "save":
            accepted.append(section.title)
    if accepted:
        flash(request, _("Taken from Word: %(titles)s.", titles="; ".join(accepted)))
    if merged:
        flash(
            request,
            _(
                "Taken from Word and merged with the edits made in Engage since the export: "
                "%(titles)s.",
                titles="; ".join(merged),
            ),
        )
    if conflicts:
        flash(
            request,
            _(
                "Word and Engage changed the same words in %(titles)s: Engage's text is kept "
                "and Word's is saved as a conflict revision in the section's history.",
                titles="; ".join(conflicts),
            ),
            "error",
        )
    if refused:
        flash(
            request,
            _(
                "You may not edit %(titles)s; those changes were not taken.",
                titles="; ".join(refused),
            ),
            "error",
        )
    if not (accepted or merged or conflicts or refused):
        flash(request, _("Nothing was taken from Word: every section kept its text."))
    return redirect(request, _url(proposal, "word"))


@view("record_submission")
def submission(request: Request) -> Response:
    proposal = targets.proposal(request, sections=True)
    values, errors, data = submitted(request, SubmissionForm)
    if data is None:
        return _page(request, proposal, values, errors)
    try:
        actions.record_submission(
            db(request), proposal, current_user(request), data.submitted_on, data.reference
        )
    except WrongState:
        flash(request, _("The proposal must be signed before the submission is recorded."), "error")
        return redirect(request, _url(proposal))
    except Refused as exc:
        flash(request, _("Not yet: %(reasons)s", reasons=" ".join(exc.reasons)), "error")
        return redirect(request, _url(proposal))
    flash(request, _("The submission is recorded. Good luck!"))
    return redirect(request, urls.link(proposal))


routes = [
    route("final", show),
    route("sign_off", sign_off, ("POST",)),
    route("export", make_export, ("POST",)),
    route("export_declaration", export_declaration, ("POST",)),
    route("submission", submission, ("POST",)),
    route("word_upload", word_upload, ("POST",)),
    route("word_apply", word_apply, ("POST",)),
    route("export_download", download),
]
