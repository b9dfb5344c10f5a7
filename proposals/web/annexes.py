"""Routes of the annexes: the files the call asks for, uploaded and downloaded."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from proposals import urls
from proposals.calls import describe, library
from proposals.calls.schema import AnnexRequirement
from proposals.domain import annexes, final
from proposals.errors import Invalid, NotFound
from proposals.i18n import get_locale
from proposals.i18n import gettext as _
from proposals.models import Partner, Proposal
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
    view,
)

#: The upload addresses, whose requests may be as large as an annex (and a little more).
UPLOAD_PATHS = urls.matcher("annex_upload", "partner_annex_upload")
BODY_LIMIT = annexes.MAX_BYTES + 2 * 1024 * 1024


def too_large_message() -> str:
    return _(
        "The file is larger than 25 MB, so it was not uploaded. Make it smaller "
        "(e.g. scan at a lower resolution) and upload it again."
    )


def _accept(requirement: AnnexRequirement) -> str:
    """The ``accept`` attribute of the file field: extensions and media types."""
    kinds = [annexes.EXTENSIONS[f] for f in requirement.formats]
    if "jpg" in requirement.formats:
        kinds.append(".jpeg")
    return ",".join(kinds + [annexes.MEDIA_TYPES[f] for f in requirement.formats])


def _page(request: Request, proposal: Proposal, errors: dict[str, str] | None = None) -> Response:
    session = db(request)
    user = current_user(request)
    profile = library.profile_for(session, proposal)
    slots = annexes.slots(session, proposal, profile, user)
    order = {p.id: n for n, p in enumerate(proposal.partners)}
    slots.sort(key=lambda s: -1 if s.partner is None else order.get(s.partner.id, 0))
    partners = {s.partner.id: s.partner for s in slots if s.partner is not None}
    context: dict[str, Any] = {
        "proposal": proposal,
        "locale": get_locale(),
        "slots": slots,
        "missing": {s.anchor for s in annexes.missing(session, proposal, profile)},
        "may_upload": can(user, "upload_annex", proposal),
        "may_upload_for": {
            pid: can(user, "upload_partner_annex", p) for pid, p in partners.items()
        },
        "may_declare": {pid: can(user, "export_declaration", p) for pid, p in partners.items()},
        "accept": {a.key: _accept(a) for a in profile.annexes},
        "formats": {
            a.key: ", ".join(describe.format_label(f) for f in a.formats) for a in profile.annexes
        },
        "max_bytes": annexes.MAX_BYTES,
        "read_only": final.is_read_only(proposal.status),
        "errors": errors or {},
    }
    return render(request, "annexes/page.html", context, status_code=422 if errors else 200)


@view("view_annex")
def page(request: Request) -> Response:
    return _page(request, targets.proposal(request))


def _upload(request: Request, proposal: Proposal, partner: Partner | None) -> Response:
    session = db(request)
    user = current_user(request)
    profile = library.profile_for(session, proposal)
    submitted = form(request)
    key = str(submitted.get("requirement") or "")
    anchor = f"annex-{key}" + (f"-{partner.public_id}" if partner else "")
    try:
        requirement = annexes.requirement_of(
            profile, key, "partner" if partner is not None else "proposal"
        )
        file = submitted.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            raise Invalid(_("Choose the file to upload."))
        data = file.file.read(annexes.MAX_BYTES + 1)
        row = annexes.upload(
            session,
            proposal,
            requirement,
            partner,
            user,
            file.filename,
            data,
            str(submitted.get("visibility") or ""),
        )
    except Invalid as exc:
        return _page(request, proposal, {anchor: exc.message})
    message = _(
        "“%(name)s” is uploaded (version %(version)s).", name=row.filename, version=row.version
    )
    if (
        requirement.declaration
        and partner is not None
        and final.declaration_received(session, proposal, partner, user)
    ):
        message += " " + _(
            "The signed declaration records the sign-off of %(name)s.",
            name=partner.organisation.name,
        )
    flash(request, message)
    return redirect(request, urls.path("annexes", pid=proposal.public_id) + "#" + anchor)


@view("upload_annex")
def upload(request: Request) -> Response:
    """A new version of an annex of the whole proposal."""
    return _upload(request, targets.proposal(request, sections=True), None)


@view("upload_partner_annex")
def upload_for_partner(request: Request) -> Response:
    """A new version of one partner's annex (its signed declaration, its statutes ...)."""
    proposal = targets.proposal(request, sections=True)
    partner = targets.partner(request, proposal)
    if partner.status != "active":
        raise NotFound()
    return _upload(request, proposal, partner)


@view("view_annex")
def download(request: Request) -> Response:
    proposal = targets.proposal(request)
    session = db(request)
    row = annexes.find(session, proposal, request.path_params["aid"])
    if row is None or not annexes.may_see(current_user(request), row, proposal):
        raise NotFound()
    return Response(
        annexes.content(session, row),
        media_type=annexes.MEDIA_TYPES[row.file_format],
        headers={
            "Content-Disposition": attachment(row.filename),
            "X-Content-SHA256": row.sha256,
            "Cache-Control": "no-store",
        },
    )


routes = [
    route("annexes", page),
    route("annex_upload", upload, ("POST",)),
    route("partner_annex_upload", upload_for_partner, ("POST",)),
    route("annex_download", download),
]
