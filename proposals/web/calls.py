"""Pages about calls: the list with filters, a call explained in plain words, admin upload."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from proposals import urls
from proposals.calls import describe, library
from proposals.calls.loader import MAX_PROFILE_BYTES, ProfileError
from proposals.calls.schema import CallProfile
from proposals.errors import NotFound
from proposals.i18n import country_choices, get_locale, language_name
from proposals.i18n import gettext as _
from proposals.models import utcnow
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    redirect,
    render,
    route,
    view,
)

VERSION = re.compile(r"[0-9]{1,7}")


def is_open(profile: CallProfile) -> bool:
    return profile.deadline is None or profile.deadline.moment() > utcnow()


def _matches(profile: CallProfile, funder: str, country: str, only_open: bool) -> bool:
    eligible = profile.partnership.countries.eligible
    return (
        (not funder or profile.funder == funder)
        and (not country or not eligible or country in eligible)
        and (not only_open or is_open(profile))
    )


@view("public")
def list_calls(request: Request) -> Response:
    profiles = library.latest(db(request))
    params = request.query_params
    funder, country = params.get("funder", ""), params.get("country", "").upper()
    only_open = params.get("open") == "1"
    shown = [p for p in profiles if _matches(p, funder, country, only_open)]
    return render(
        request,
        "calls/list.html",
        {
            "profiles": shown,
            "total": len(profiles),
            "funders": sorted({p.funder for p in profiles}),
            "countries": country_choices(),
            "filters": {"funder": funder, "country": country, "open": only_open},
            "is_open": is_open,
            "locale": get_locale(),
            "language_name": language_name,
        },
        fragment="calls/_results.html",
    )


@view("public")
def show_call(request: Request) -> Response:
    call_id = request.path_params["call_id"]
    raw_version = request.query_params.get("version", "")
    # Anything but a plausible version number shows the latest version.
    version = int(raw_version) if VERSION.fullmatch(raw_version) else None
    profile = library.get(db(request), call_id, version)
    if profile is None:
        raise NotFound()
    return render(
        request,
        "calls/show.html",
        {
            "profile": profile,
            "locale": get_locale(),
            "open": is_open(profile),
            "versions": library.versions(db(request), call_id),
            "describe": describe,
            "budget_rules": describe.budget_rules(profile),
            "partnership_rules": describe.partnership_rules(profile),
            "language_name": language_name,
        },
    )


@view("admin")
def admin_calls(request: Request) -> Response:
    user = current_user(request)
    problems: list[object] = []
    content = ""
    if request.method == "POST":
        upload = form(request).get("file")
        content = str(form(request).get("content") or "")
        if upload is not None and not isinstance(upload, str) and upload.filename:
            raw = upload.file.read(MAX_PROFILE_BYTES + 1)
            if len(raw) > MAX_PROFILE_BYTES:
                problems = [_("The file is larger than %(max)s bytes.", max=MAX_PROFILE_BYTES)]
            else:
                try:
                    content = raw.decode("utf-8")
                except UnicodeDecodeError:
                    problems = [_("The file is not UTF-8 text.")]
        if content.strip() and not problems:
            try:
                profile, new = library.store(db(request), content, "uploaded", user)
            except ProfileError as exc:
                problems = list(exc.problems)
            else:
                if new:
                    flash(
                        request,
                        _(
                            "Version %(version)s of %(id)s is stored.",
                            version=profile.version,
                            id=profile.id,
                        ),
                    )
                else:
                    flash(request, _("This version is already stored; nothing changed."), "info")
                return redirect(
                    request, urls.path("call", call_id=profile.id) + f"?version={profile.version}"
                )
        elif not problems:
            problems = [_("Choose a profile file or paste its text.")]
    return render(
        request,
        "admin/calls.html",
        {"problems": problems, "content": content, "profiles": library.latest(db(request))},
        status_code=422 if problems else 200,
    )


routes = [
    route("calls", list_calls),
    route("call", show_call),
    route("admin_calls", admin_calls, ("GET", "POST")),
]
