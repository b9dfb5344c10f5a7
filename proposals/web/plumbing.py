"""The request plumbing every route shares: templates, the unit of work, the current user.

A route is a plain function ``(request) -> Response`` decorated with
:func:`view`. The decorator parses the form (async), then runs the function
in a worker thread with one database session, committed once before the
response is sent and rolled back on any error.
"""

from __future__ import annotations

import functools
import logging
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote, urlencode

from anyio import to_thread
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.background import BackgroundTasks
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from proposals import i18n, live, mail, urls
from proposals.db import unit_of_work
from proposals.domain import livedoc, sessions
from proposals.domain.notifications import deliver, unread_count
from proposals.forms import FormErrors, validate
from proposals.models import User, utcnow
from proposals.policy import can, kind_of_action, needs_sign_in, require, rule
from proposals.security import csrf_token
from proposals.templating import Kept, make_environment
from workflow.policy import CHANGES_ACCESS

log = logging.getLogger("engage")
Handler = Callable[[Request], Response]
FormModel = TypeVar("FormModel", bound=BaseModel)
LANGUAGE_COOKIE = "engage_lang"


def make_templates(extra_globals: Mapping[str, Any] | None = None) -> Jinja2Templates:
    """The page templates: the shared Jinja2 environment, wrapped for Starlette responses."""
    return Jinja2Templates(env=make_environment(extra_globals))


# --- the current request ----------------------------------------------------------


def db(request: Request) -> Session:
    return request.state.db


def current_user(request: Request) -> User | None:
    return request.state.user


def is_htmx(request: Request) -> bool:
    # A history restore wants the whole page, not a fragment.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def form(request: Request) -> FormData:
    """The parsed form of this request (parsed before the handler runs)."""
    return request.state.form


def form_dict(form: FormData, *, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The submitted values as a dict: the named fields as lists, every other as a string."""
    data: dict[str, Any] = {}
    for key in form:
        if key in lists:
            data[key] = [v for v in form.getlist(key) if isinstance(v, str)]
        else:
            value = form.get(key)
            data[key] = value if isinstance(value, str) else ""
    for key in lists:
        data.setdefault(key, [])
    return data


def flash(request: Request, message: str, category: str = "success") -> None:
    request.session.setdefault("flash", []).append([category, str(message)])


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    return [(c, m) for c, m in request.session.pop("flash", [])]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    fragment: str | None = None,
) -> Response:
    """Render the full page, or ``fragment`` when htmx asks for part of it."""
    name = fragment if fragment and is_htmx(request) else template
    user = getattr(request.state, "user", None)
    token = csrf_token(request)
    full_page = name == template
    unread = _unread(request, user) if full_page else 0
    ctx: dict[str, Any] = {
        "user": user,
        "csrf_token": token,
        "site_header": site_header(request, user, unread, token) if full_page else "",
        "flashes": pop_flashes(request) if full_page else [],
        "settings": request.app.state.settings,
        "can": lambda action, target=None: can(user, action, target),
    }
    ctx.update(context or {})
    response = html_page(request, name, ctx, status_code=status_code)
    response.headers["Vary"] = "HX-Request, Cookie"
    return response


#: Marks where a kept fragment goes in a page being rendered: a tag no escaped text can
#: contain, with a token of this process.
_SPLICE = f"<engage-kept {secrets.token_hex(8)} "


def html_page(
    request: Request, name: str, context: Mapping[str, Any], *, status_code: int = 200
) -> Response:
    """The template ``name`` rendered with ``context`` as an HTML response.

    A kept fragment (:class:`proposals.templating.Kept`: the dashboard's rows, the site
    header) is not copied into the page as text and encoded again with it: the page
    is rendered with a mark in its place, then the fragment's UTF-8 bytes, encoded once
    when it was kept, replace the mark.
    """
    ctx: dict[str, Any] = {"request": request, **context}
    spliced: list[tuple[bytes, bytes]] = []
    for key, value in list(ctx.items()):
        if isinstance(value, Kept) and value:
            mark = f"{_SPLICE}{len(spliced)}>"
            spliced.append((mark.encode(), value.encoded))
            ctx[key] = Markup(mark)  # noqa: S704 - a constant tag
    body = request.app.state.templates.get_template(name).render(ctx).encode("utf-8")
    for mark, encoded in spliced:
        body = body.replace(mark, encoded)
    return HTMLResponse(body, status_code=status_code)


def submitted(
    request: Request,
    model: type[FormModel],
    *,
    initial: Mapping[str, Any] | None = None,
    lists: tuple[str, ...] = (),
) -> tuple[dict[str, Any], dict[str, str], FormModel | None]:
    """The form's values, its errors, and the validated data (None unless posted and valid).

    On GET the values are ``initial``; the values always come back so that a
    page re-rendered with errors keeps what the user typed.
    """
    if request.method != "POST":
        return dict(initial or {}), {}, None
    values = form_dict(form(request), lists=lists)
    try:
        return values, {}, validate(model, values)
    except FormErrors as exc:
        return values, exc.errors, None


def render_form(
    request: Request,
    template: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    **context: Any,
) -> Response:
    """Render a form page; with errors, answer 422 so that htmx and tests can tell."""
    values = {k: v for k, v in values.items() if k not in ("password", "confirm", "csrf_token")}
    return render(
        request,
        template,
        {"values": values, "errors": errors, **context},
        status_code=422 if errors else 200,
    )


class Viewer(NamedTuple):
    """What the site header shows of the signed-in person (plain values, so it is kept)."""

    name: str
    is_mentor: bool
    is_admin: bool


def site_header(request: Request, user: User | None, unread: int, token: str) -> Markup:
    """The header every page starts with (menu, bell, account, language), rendered once
    for what it shows and kept (``Fragments``): a page seen again skips its 20 links
    and 25 translated words."""
    query = request.url.query
    viewer = None if user is None else Viewer(user.name, bool(user.is_mentor), bool(user.is_admin))
    return request.app.state.fragments.render(
        "_header.html",
        {
            "viewer": viewer,
            "unread": unread,
            "csrf_token": token,
            # Where the language form comes back to.
            "here": request.url.path + (f"?{query}" if query else ""),
        },
    )


def _unread(request: Request, user: User | None) -> int:
    session = getattr(request.state, "db", None)
    if user is None or session is None:
        return 0
    counted = getattr(request.state, "unread", None)  # with the user, as the request began
    if counted is not None and not session.info.get("notified"):
        return int(counted)
    return unread_count(session, user)  # this request notified someone: count again


# What may stay as it is in a URL sent in a header (as Starlette's RedirectResponse keeps).
_URL_SAFE = ":/%#?=@[]!$&'()*+,;"


def redirect(request: Request, url: str) -> Response:
    """Redirect after a successful form post (htmx follows it as a full navigation)."""
    if is_htmx(request):
        # Percent-encoded like the Location header: a header carries ASCII only.
        return Response(status_code=204, headers={"HX-Redirect": quote(url, safe=_URL_SAFE)})
    return RedirectResponse(url, status_code=303)


#: Letters NFKD does not take apart, spelled in ASCII for the fallback name.
_ASCII_LETTERS = str.maketrans(
    {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "ß": "ss", "Æ": "AE", "æ": "ae"}
    | {"Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th", "Ð": "D", "ð": "d", "ı": "i"}
)


def attachment(filename: str) -> str:
    """A Content-Disposition header value that downloads ``filename``, whatever its letters.

    The plain ``filename`` is an ASCII fallback; ``filename*`` (RFC 6266) gives the
    real name to the browsers that read it.
    """
    name = "".join(ch for ch in filename if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    fallback = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", name.translate(_ASCII_LETTERS))
        if ch.isascii() and ch.isprintable() and ch not in '"\\'
    ).strip()
    fallback = fallback or "download"
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def use_request_locale(request: Request, user: User | None = None) -> str:
    """Choose the interface language: the switcher's cookie, the account, then the browser."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen not in i18n.LOCALES:
        chosen = user.locale if user else i18n.negotiate(request.headers.get("accept-language", ""))
    i18n.set_locale(chosen, user.timezone if user else None)
    request.state.locale = i18n.get_locale()
    return request.state.locale


# --- the unit of work ---------------------------------------------------------------


def _load_user(
    request: Request, session: Session, memberships: bool = True, bell: bool = True
) -> User | None:
    """The signed-in user: the session the cookie names must be live on the server."""
    user, request.state.unread = sessions.signed_in(
        session, request.session.get("sid"), memberships=memberships, bell=bell
    )
    if not bell:
        request.state.unread = None  # not counted: the bell asks, if a page is shown
    if user is None and ("sid" in request.session or "uid" in request.session):
        # Signed out elsewhere, a new password, too old, or a cookie from before sessions
        # lived on the server: this browser is signed out.
        request.session.clear()
    return user


def _run(handler: Handler, action: str, request: Request, lean: bool, reads: bool) -> Response:
    try:
        with unit_of_work(request.app.state.sessionmaker) as session:
            if reads:
                session.info[_WRITES_REFUSED] = True
            if lean or reads:
                _reads_only(session)
            request.state.db = session
            user = _load_user(request, session, memberships=not (lean or reads), bell=not lean)
            request.state.user = user
            request.state.action = action
            request.state.authorized = False
            use_request_locale(request, user)
            if user is None and needs_sign_in(action):
                return _to_sign_in(request)
            if kind_of_action(action) == "site":
                authorize(request, None)
            response = handler(request)
            if not request.state.authorized:
                # Every route checks its action on the target it loaded; a handler that
                # forgot is a bug, and nothing it did is committed.
                raise RuntimeError(f"{request.url.path}: {action!r} was never checked")
            request.state.notified = list(session.info.get("notified", []))
            request.state.mail = list(session.info.get("mail", []))
            request.state.access_changed = action in CHANGES_ACCESS or bool(
                session.info.get("access_changed")
            )
            return response
    except (StaleDataError, IntegrityError) as exc:
        # Two requests changed the same thing at the same moment and this one lost at
        # commit time: nothing of it was stored, and the user is told so.
        log.info("conflict on %s %s: %s", request.method, request.url.path, exc.__class__.__name__)
        request.state.mail = []
        request.state.notified = []
        raise HTTPException(status_code=409) from None


def _reads_only(session: Session) -> None:
    """A lean route only reads in the request's session (its writes have transactions of
    their own): on PostgreSQL those reads go without BEGIN and COMMIT, two round trips
    fewer. Until the session's first commit, which returns its connection to the pool."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


#: Set in the session of a route declared ``view(reads=True)``: it may not write.
_WRITES_REFUSED = "writes_refused"


@event.listens_for(Session, "do_orm_execute")
def _refuse_writes(state: Any) -> None:
    if not state.is_select and state.session.info.get(_WRITES_REFUSED):
        raise RuntimeError("this route is declared view(reads=True): it may not write")


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, *_: object) -> None:
    if session.info.get(_WRITES_REFUSED) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("this route is declared view(reads=True): it may not write")


def settle_live(request: Request, section_ids: list[int]) -> None:
    """Record what was typed live in these sections, before the text is read for something
    that counts (an export, the checks, a sign-off, a review); then read afresh."""
    session = db(request)
    live = livedoc.live_sections(session, section_ids)
    if not live:
        return
    session.commit()  # end the request's read, so that its connection is free meanwhile
    if livedoc.settle_all(request.app.state.sessionmaker, live):
        session.expire_all()


def authorize(request: Request, target: object) -> None:
    """Refuse unless the user may do this route's action on ``target`` (the policy decides)."""
    require(current_user(request), request.state.action, target)
    request.state.authorized = True


def view(
    action: str, *, lean: bool = False, slow: bool = False, reads: bool = False
) -> Callable[[Handler], Callable[[Request], Any]]:
    """Declare the route's action (``workflow.policy.POLICY``) and run it in a unit of work.

    The handler ``(request) -> Response`` runs in a worker thread with one database
    session, committed once before the response is sent and rolled back on any
    error. Visitors who are not signed in are sent to sign in when nobody signed
    out may do the action; the handler checks the action on the target it loads
    (:func:`authorize`, or a loader in ``proposals.web.targets`` that does).

    ``lean`` is for hot paths that ask the policy in SQL
    (:func:`proposals.web.targets.allowed_section`) and write only in transactions of
    their own (a save): the user's memberships are not loaded up front (only if the
    handler goes the full way), and the request's reads need no transaction.

    ``reads`` is for pages that only read and ask the policy in SQL
    (:func:`proposals.web.targets.glance`): the user's memberships are not loaded up
    front, and on PostgreSQL their statements go without BEGIN and COMMIT, two round
    trips fewer (each statement sees what was committed when it began, as in a READ
    COMMITTED transaction). Writing in such a route is a bug, refused at once.

    ``slow`` is for the routes that build or read whole documents (exports that may wait
    for LibreOffice, Word uploads): they take turns in threads of their own
    (``app.state.slow_threads``), so that they never hold the few that serve the pages
    and the saves.
    """
    rule(action)  # an action missing from the table fails at import, not at request time

    def decorate(handler: Handler) -> Callable[[Request], Any]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            if "\x00" in request.url.path:
                raise HTTPException(status_code=404)  # no id contains NUL
            if "%00" in request.url.query:
                raise HTTPException(status_code=400)  # nor does any filter
            request.state.form = (
                _without_nul(await request.form(max_fields=2000, max_part_size=10 * 1024 * 1024))
                if request.method in ("POST", "PUT", "PATCH", "DELETE")
                else FormData()
            )
            try:
                response = await to_thread.run_sync(
                    _run,
                    handler,
                    action,
                    request,
                    lean,
                    reads,
                    limiter=request.app.state.slow_threads if slow else None,
                )
            finally:
                await request.state.form.close()
            _after_commit(request, response)
            return response

        endpoint.action = action  # type: ignore[attr-defined]
        return endpoint

    return decorate


def _after_commit(request: Request, response: Response) -> None:
    """Mail and notify only once the request committed: a rolled-back request tells nobody."""
    settings = request.app.state.settings
    tasks = BackgroundTasks()
    mail_ids = getattr(request.state, "mail", [])
    if mail_ids:
        tasks.add_task(mail.send, settings, request.app.state.sessionmaker, list(mail_ids))
    notified = getattr(request.state, "notified", [])
    if notified:
        tasks.add_task(
            deliver,
            settings,
            request.app.state.sessionmaker,
            request.app.state.templates.env,
            request.app.state.broker,
            notified,
        )
    if getattr(request.state, "access_changed", False) and response.status_code < 400:
        # Open live editors check their access again now (a removed writer is cut off).
        tasks.add_task(request.app.state.broker.publish, live.ACCESS_TOPIC, {"type": "access"})
    if tasks.tasks:
        response.background = tasks


def _without_nul(form: FormData) -> FormData:
    """NUL is never part of what someone meant to type, and PostgreSQL cannot store it."""
    if not any(isinstance(v, str) and "\x00" in v for v in form.values()):
        return form
    return FormData(
        [(k, v.replace("\x00", "") if isinstance(v, str) else v) for k, v in form.multi_items()]
    )


def _to_sign_in(request: Request) -> Response:
    """Send a visitor to sign in, and back here afterwards."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    flash(request, i18n.gettext("Please sign in to continue."), "info")
    return redirect(request, urls.path("signin") + "?" + urlencode({"next": target}))


def invitation_from_link(
    request: Request, purpose: str, model: type[Any]
) -> tuple[Any, str | None]:
    """The invitation an e-mailed link names, or None with the reason it cannot be used.

    ``model`` has ``public_id``, ``expires_at`` and ``used_at``; the token in the
    path is signed for ``purpose`` and expires with the invitation.
    """
    settings = request.app.state.settings
    invitation_id = request.app.state.tokens.read(
        purpose, request.path_params["token"], settings.invitation_days * 86400
    )
    invitation = (
        db(request).scalar(select(model).where(model.public_id == invitation_id))
        if isinstance(invitation_id, str)
        else None
    )
    if invitation is None or invitation.expires_at <= utcnow():
        return None, i18n.gettext(
            "This invitation link is not valid or has expired. Ask for a new one."
        )
    if invitation.used_at is not None:
        return None, i18n.gettext("This invitation has already been used.")
    return invitation, None


MAX_PAGE = 10_000


def page_number(request: Request) -> int:
    """The ``?page=`` asked for, as a page that exists in principle (1 to MAX_PAGE)."""
    raw = request.query_params.get("page", "1")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return MAX_PAGE if len(raw) > len(str(MAX_PAGE)) else min(MAX_PAGE, max(1, int(raw)))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only ever redirect to a path on this site: no open redirect, nothing that breaks a header."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in target):
        return default  # CR/LF, DEL, tabs...: never part of an address Engage links to
    return target


def route(
    name: str, endpoint: Callable[[Request], Any], methods: tuple[str, ...] = ("GET",)
) -> Route:
    """The route ``name`` (its path from ``proposals.urls.PATHS``) answered by ``endpoint``."""
    return Route(urls.PATHS[name], endpoint, methods=list(methods), name=name)
