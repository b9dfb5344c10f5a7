"""Routes for signing up, in and out, resetting a password, and choosing the language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from proposals import mail, urls
from proposals.domain import accounts, sessions
from proposals.forms import FormErrors
from proposals.i18n import LOCALES, ngettext, timezone_choices
from proposals.i18n import gettext as _
from proposals.models import User
from proposals.web.clients import client_address, known_device, remember_device
from proposals.web.plumbing import (
    LANGUAGE_COOKIE,
    current_user,
    db,
    flash,
    form,
    redirect,
    render,
    render_form,
    route,
    safe_next,
    submitted,
    view,
)


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user``: a new record on the server, its id in the cookie
    (a new id stops session fixation; the browser's previous session, if any, ends)."""
    sessions.end(db(request), request.session.get("sid"))
    keep = {k: request.session[k] for k in ("flash",) if k in request.session}
    request.session.clear()
    request.session.update(keep)
    record = sessions.start(
        db(request), user, client_address(request), request.headers.get("user-agent", "")
    )
    request.session["sid"] = record.token


@view("public")
def signup(request: Request) -> Response:
    if current_user(request) is not None and request.method == "GET":
        return redirect(request, urls.path("home"))
    initial = {"next": request.query_params.get("next", "")}
    values, errors, data = submitted(request, accounts.SignupForm, initial=initial)
    if data is not None:
        try:
            user = accounts.create_user(db(request), data, request.state.locale)
        except FormErrors as exc:
            errors = exc.errors
        else:
            sign_in(request, user)
            flash(request, _("Welcome to Engage, %(name)s.", name=user.name))
            return _known_from_now_on(request, user, safe_next(values.get("next")))
    return render_form(request, "auth/signup.html", values, errors)


@view("public")
def signin(request: Request) -> Response:
    initial = {"next": request.query_params.get("next", "")}
    if request.method == "GET" and current_user(request) is not None and initial["next"]:
        # A link from an e-mail: someone already signed in goes straight there.
        return redirect(request, safe_next(initial["next"]))
    values, errors, data = submitted(request, accounts.SigninForm, initial=initial)
    if data is not None:
        address = client_address(request)
        throttle = accounts.signin_throttle(
            db(request),
            request.app.state.settings,
            data.email,
            address,
            known_device=known_device(request, data.email),
        )
        user = (
            None
            if throttle.seconds
            else accounts.authenticate(db(request), data.email, data.password, address)
        )
        if throttle.seconds and throttle.by_address:
            errors["__all__"] = _(
                "Too many failed sign-ins. For your security, try again in %(minutes)s "
                "minutes, or reset your password.",
                minutes=throttle.minutes,
            )
        elif throttle.seconds:
            errors["__all__"] = ngettext(
                "Too many failed sign-ins for this account. Wait %(num)s second and try "
                "again, or reset your password.",
                "Too many failed sign-ins for this account. Wait %(num)s seconds and try "
                "again, or reset your password.",
                throttle.seconds,
            )
        elif user is None:
            errors["__all__"] = _("The e-mail or password is not right. Try again.")
        else:
            sign_in(request, user)
            return _known_from_now_on(request, user, safe_next(values.get("next")))
    return render_form(
        request, "auth/signin.html", values, errors, demo_accounts=request.app.state.demo_accounts
    )


def _known_from_now_on(request: Request, user: User, target: str) -> Response:
    """Redirect to ``target``, marking this browser as known to the account just proven."""
    response = redirect(request, target)
    remember_device(request, response, user.email)
    return response


@view("public")
def signout(request: Request) -> Response:
    # Ended on the server: a copy of the cookie (another device, a thief) is worth nothing.
    sessions.end(db(request), request.session.get("sid"))
    request.session.clear()
    flash(request, _("You are signed out."))
    return redirect(request, urls.path("home"))


@view("public")
def forgot_password(request: Request) -> Response:
    values, errors, data = submitted(request, accounts.ForgotForm)
    if data is not None:
        user = accounts.find_user(db(request), data.email)
        if user is not None:
            _send_reset_link(request, user)
        # The same answer whether or not the account exists: no probing for accounts.
        flash(
            request,
            _(
                "If an account exists for %(email)s, we have sent it a link to choose a new "
                "password. The link works for %(hours)s hours.",
                email=data.email,
                hours=request.app.state.settings.password_reset_hours,
            ),
            "info",
        )
        return redirect(request, urls.path("signin"))
    return render_form(request, "auth/forgot.html", values, errors)


def _send_reset_link(request: Request, user: User) -> None:
    token = request.app.state.tokens.make("reset", accounts.reset_payload(user))
    base = request.app.state.settings.base_url
    link = base + urls.path("reset_password", token=token)
    templates = request.app.state.templates
    body = templates.get_template("mail/reset_password.txt").render(
        user=user, link=link, hours=request.app.state.settings.password_reset_hours
    )
    subject = _("Choose a new password for Engage")
    mail.queue(db(request), user.email, subject, body, "reset", secret_links=[link])


@view("public")
def reset_password(request: Request) -> Response:
    settings = request.app.state.settings
    payload = request.app.state.tokens.read(
        "reset", request.path_params["token"], settings.password_reset_hours * 3600
    )
    user = accounts.user_for_reset(db(request), payload)
    if user is None:
        return render(request, "auth/reset_invalid.html", status_code=400)
    _values, errors, data = submitted(request, accounts.ResetForm)
    if data is not None:
        accounts.set_password(db(request), user, data.password)  # ends every session
        sign_in(request, user)
        flash(request, _("Your password is changed. You are signed in."))
        return _known_from_now_on(request, user, urls.path("home"))
    return render_form(request, "auth/reset.html", {}, errors, email=user.email)


@view("use_engage")
def account(request: Request) -> Response:
    user = current_user(request)
    assert user is not None
    initial = {
        "name": user.name,
        "locale": user.locale,
        "email_notifications": user.email_notifications,
        "timezone": user.timezone,
    }
    values, errors, data = submitted(request, accounts.AccountForm, initial=initial)
    if data is not None:
        user.name, user.locale = data.name, data.locale
        user.email_notifications = data.email_notifications
        user.timezone = data.timezone or user.timezone
        flash(request, _("Your account is saved."))
        response = redirect(request, urls.path("account"))
        response.set_cookie(LANGUAGE_COOKIE, data.locale, max_age=365 * 86400, samesite="lax")
        return response
    return render_form(
        request,
        "auth/account.html",
        values,
        errors,
        sessions=_signed_in_browsers(request, user),
        timezones=timezone_choices(),
    )


def _signed_in_browsers(request: Request, user: User) -> list[dict[str, object]]:
    this = request.session.get("sid")
    return [
        {
            "name": sessions.browser_name(record.agent),
            "address": record.address,
            "since": record.created_at,
            "this": record.token == this,
        }
        for record in sessions.active(db(request), user)
    ]


@view("use_engage")
def end_other_sessions(request: Request) -> Response:
    """Sign out everywhere else: every session of the user but this browser's ends."""
    user = current_user(request)
    assert user is not None
    ended = sessions.end_others(db(request), user, keep=request.session.get("sid"))
    flash(
        request,
        ngettext(
            "You are signed out everywhere else (%(num)s browser).",
            "You are signed out everywhere else (%(num)s browsers).",
            ended,
        ),
    )
    return redirect(request, urls.path("account"))


@view("public")
def set_language(request: Request) -> Response:
    chosen = form(request).get("locale")
    target = safe_next(str(form(request).get("next") or ""))
    if chosen not in LOCALES:
        return redirect(request, target)
    user = current_user(request)
    if user is not None:
        user.locale = str(chosen)
    response = redirect(request, target)
    response.set_cookie(
        LANGUAGE_COOKIE,
        str(chosen),
        max_age=365 * 86400,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
    return response


routes = [
    route("signup", signup, ("GET", "POST")),
    route("signin", signin, ("GET", "POST")),
    route("signout", signout, ("POST",)),
    route("forgot_password", forgot_password, ("GET", "POST")),
    route("reset_password", reset_password, ("GET", "POST")),
    route("account", account, ("GET", "POST")),
    route("end_other_sessions", end_other_sessions, ("POST",)),
    route("language", set_language, ("POST",)),
]
