"""Reading user input through pydantic, with messages in the user's language.

A route builds a dict from the form, calls :func:`validate`, and on
:class:`FormErrors` renders the form again with the messages next to the
fields and the user's text kept.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from proposals.i18n import gettext as _

Model = TypeVar("Model", bound=BaseModel)

# Control characters other than tab and newlines never belong in user text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Whatever breaks a line (or a mail header) in a one-line field: it becomes one space.
_LINE_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


class FormErrors(Exception):
    """Field name -> message; the key ``__all__`` holds a message for the whole form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


def clean_text(value: object) -> object:
    """Normalise Unicode and drop control characters (NUL breaks PostgreSQL and Word).

    Runs before the length limits, so that what is checked is what is stored.
    """
    if not isinstance(value, str):
        return value  # pydantic then says what type it wanted
    return _CONTROL.sub("", unicodedata.normalize("NFC", value))


def clean_line(value: object) -> object:
    """:func:`clean_text` for one-line fields (names, titles): line breaks become a space.

    Names end up in e-mail subjects and file names, where a line break would
    break the header.
    """
    if not isinstance(value, str):
        return value
    return clean_text(_LINE_BREAKS.sub(" ", value))


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(_("Enter an e-mail address like name@example.org.")) from exc


Email = Annotated[str, AfterValidator(_email)]
CleanText = Annotated[str, BeforeValidator(clean_text)]
CleanLine = Annotated[str, BeforeValidator(clean_line)]


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


#: An optional number field: left empty, it is None (not "Enter a number.").
OptionalInt = Annotated[int | None, BeforeValidator(_blank_is_none)]


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return _("This field is required.")
    if kind == "string_too_long":
        return _(
            "Use at most %(max)s characters (this has %(count)s).",
            max=ctx.get("max_length"),
            count=len(value) if isinstance(value, str) else "?",
        )
    if kind == "string_too_short":
        return _("Use at least %(min)s characters.", min=ctx.get("min_length"))
    if kind in ("too_long",):
        return _("Choose at most %(max)s.", max=ctx.get("max_length"))
    if kind == "value_error":
        return str(ctx.get("error", "")) or _("This value is not valid.")
    if kind in ("literal_error", "enum"):
        return _("Choose one of the options.")
    if kind.startswith(("int_", "decimal_", "float_")):
        return _("Enter a number.")
    if kind.startswith("date"):
        return _("Enter a date as YYYY-MM-DD.")
    return _("This value is not valid.")


def messages(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc") or ("__all__",)
        field = str(loc[0])
        errors.setdefault(field, _message(dict(error)))
    return errors


def validate(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate ``data`` into ``model`` or raise :class:`FormErrors` with translated messages."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FormErrors(messages(exc)) from None


def form_id(raw: object) -> int | None:
    """A row id or version number sent in a form ("12"), or None for anything else.

    "²" passes ``str.isdigit`` but not ``int``, and 10**30 fits no database integer.
    """
    text = raw if isinstance(raw, str) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
