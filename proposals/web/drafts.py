"""Routes for a section's working-language draft (bilingual drafting)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from proposals import urls
from proposals.domain import drafts
from proposals.forms import form_id
from proposals.i18n import gettext as _
from proposals.i18n import language_choices
from proposals.models import Section
from proposals.text import render_html
from proposals.web import targets
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    redirect,
    render,
    route,
    settle_live,
    view,
)
from proposals.web.sections import names_context


def _page(request: Request, section: Section, **context: object) -> Response:
    proposal = section.proposal
    current = drafts.state(db(request), section).current
    values = {
        "language": current.language if current else "en",
        "text": current.text if current else "",
        "base": current.number if current else 0,
    }
    values.update(context.pop("values", {}))  # type: ignore[arg-type]
    return render(
        request,
        "sections/draft.html",
        {
            "proposal": proposal,
            "section": section,
            "current": current,
            "official": render_html(section.text),
            "languages": language_choices(),
            "values": values,
            "errors": context.pop("errors", {}),
            "theirs": None,
            **names_context(request, proposal, [section]),
            **context,
        },
        status_code=int(context.pop("status", 200)),  # type: ignore[call-overload]
    )


@view("edit_text")
def edit_draft(request: Request) -> Response:
    """Write the section in one's working language, beside the official text."""
    proposal = targets.proposal(request, sections=True)
    section = targets.section(request, proposal)
    settle_live(request, [section.id])  # the official text as typed live
    if request.method != "POST":
        return _page(request, section)
    data = form(request)
    language, text, base = data.get("language"), data.get("text"), form_id(data.get("base"))
    values = {"language": language, "text": text, "base": data.get("base")}
    if not isinstance(language, str) or not isinstance(text, str) or base is None:
        errors = {"text": _("This value is not valid.")}
        return _page(request, section, values=values, errors=errors, status=400)
    try:
        drafts.save(db(request), current_user(request), section, language, text, base)  # type: ignore[arg-type]
    except drafts.DraftStale as exc:
        # Nothing stored: the writer's text stays in the box, theirs is shown beside it,
        # and the next save replaces the current revision knowingly.
        values["base"] = exc.current.number
        theirs = render_html(exc.current.text)
        errors = {"text": str(exc)}
        return _page(request, section, values=values, errors=errors, theirs=theirs, status=409)
    except drafts.DraftRefused as exc:
        return _page(request, section, values=values, errors={"text": str(exc)}, status=400)
    flash(request, _("The working draft is saved."))
    return redirect(request, urls.link(section, "draft"))


@view("edit_text")
def mark_translated(request: Request) -> Response:
    """The official text is now up to date with the draft revision the writer read."""
    proposal = targets.proposal(request, sections=True)
    section = targets.section(request, proposal)
    number = form_id(form(request).get("number"))
    try:
        if number is None:
            raise drafts.DraftRefused(
                _("This version of the draft does not exist; reload the page.")
            )
        drafts.mark_translated(db(request), current_user(request), section, number)  # type: ignore[arg-type]
    except drafts.DraftRefused as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("The translation is marked as up to date with the working draft."))
    return redirect(request, urls.link(section, "draft"))


routes = [
    route("section_draft", edit_draft, ("GET", "POST")),
    route("section_draft_translated", mark_translated, ("POST",)),
]
