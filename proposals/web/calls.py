"""Pages about calls: the list with filters, a call explained in plain words, admin upload."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from proposals import urls
from proposals.calls import describe, library
from proposals.calls.diff import Change, changes
from proposals.calls.loader import MAX_PROFILE_BYTES, ProfileError, digest, parse_profile
from proposals.calls.schema import CallProfile
from proposals.calls.standing import STANDINGS, Standing, closed_reason, label, staleness, standing
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


#: What the calls list shows when no standing is chosen.
DEFAULT_STANDINGS: tuple[Standing, ...] = ("open", "expected")


def standing_of(profile: CallProfile) -> Standing:
    return standing(profile, utcnow())


def _matches(profile: CallProfile, funder: str, country: str, shown: set[str]) -> bool:
    rule = profile.partnership.countries
    return (
        (not funder or profile.funder == funder)
        and (not country or not rule.eligible or country in rule.eligible + rule.additional)
        and standing_of(profile) in shown
    )


@view("public")
def list_calls(request: Request) -> Response:
    profiles = library.latest(db(request))
    params = request.query_params
    funder, country = params.get("funder", ""), params.get("country", "").upper()
    chosen = {s for s in params.getlist("standing") if s in STANDINGS}
    wanted = chosen or set(DEFAULT_STANDINGS)
    shown = [p for p in profiles if _matches(p, funder, country, wanted)]
    return render(
        request,
        "calls/list.html",
        {
            "profiles": shown,
            "total": len(profiles),
            "funders": sorted({p.funder for p in profiles}),
            "countries": country_choices(),
            "filters": {"funder": funder, "country": country, "standing": wanted},
            "standings": [(value, label(value)) for value in STANDINGS],
            "standing_of": standing_of,
            "standing_label": label,
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
            "standing": standing_of(profile),
            "standing_label": label,
            "closed_reason": closed_reason(profile, utcnow()),
            "stale": staleness(profile, utcnow()) if current_user(request) else None,
            "versions": library.versions(db(request), call_id),
            "describe": describe,
            "budget_rules": describe.budget_rules(profile),
            "partnership_rules": describe.partnership_rules(profile),
            "language_name": language_name,
        },
    )


def _changes_to_confirm(request: Request, content: str) -> tuple[CallProfile, list[Change]] | None:
    """The changes against the stored version, if the admin has not confirmed this text yet.

    The form carries a digest of the text that was shown, so a text edited after the
    diff was shown is shown again rather than stored unseen.
    """
    profile = parse_profile(content)
    previous = library.get(db(request), profile.id)
    if previous is None or previous.version >= profile.version:
        return None  # a new call, or a version store() accepts or refuses by itself
    if str(form(request).get("confirm") or "") == digest(content):
        return None
    return previous, changes(previous, profile)


@view("admin")
def admin_calls(request: Request) -> Response:
    user = current_user(request)
    problems: list[object] = []
    content = ""
    review: dict[str, object] | None = None
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
                pending = _changes_to_confirm(request, content)
                if pending is None:
                    profile, new = library.store(db(request), content, "uploaded", user)
            except ProfileError as exc:
                problems = list(exc.problems)
            else:
                if pending is not None:
                    previous, found = pending
                    review = {"previous": previous, "changes": found, "digest": digest(content)}
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
                        flash(
                            request, _("This version is already stored; nothing changed."), "info"
                        )
                    return redirect(
                        request,
                        urls.path("call", call_id=profile.id) + f"?version={profile.version}",
                    )
        elif not problems:
            problems = [_("Choose a profile file or paste its text.")]
    now = utcnow()
    profiles = library.latest(db(request))
    return render(
        request,
        "admin/calls.html",
        {
            "problems": problems,
            "content": content,
            "review": review,
            "area_names": {
                "standing": _("Standing and dates"),
                "rules": _("Rules and figures"),
                "sections": _("Sections and stages"),
                "other": _("Titles, texts and sources"),
            },
            "profiles": [(p, standing(p, now), staleness(p, now)) for p in profiles],
            "standing_label": label,
            "locale": get_locale(),
        },
        status_code=422 if problems else 200,
    )


routes = [
    route("calls", list_calls),
    route("call", show_call),
    route("admin_calls", admin_calls, ("GET", "POST")),
]
