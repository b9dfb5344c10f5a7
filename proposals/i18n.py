"""Languages: gettext catalogues (Babel), the request's locale, and locale-aware formatting.

The catalogues are read from the ``.po`` files at start-up, so that what is
committed is what runs (no stale compiled ``.mo`` files).
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import pycountry
from babel import Locale, dates, numbers
from babel.core import get_global
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

from exports.locales import format_locale as _format_locale

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DEFAULT_LOCALE = "en"
#: The interface languages, in the order the switcher offers them.
LOCALES: tuple[str, ...] = ("en", "pl", "nb", "lt")
#: Tags that mean an interface language: Norwegian ("no") and Nynorsk readers get Bokmål.
ALIASES: dict[str, str] = {"no": "nb", "nn": "nb"}
DEFAULT_TIMEZONE = "Europe/Warsaw"

_locale: ContextVar[str] = ContextVar("engage_locale", default=DEFAULT_LOCALE)
_timezone: ContextVar[str] = ContextVar("engage_timezone", default=DEFAULT_TIMEZONE)


@cache
def translations(locale: str) -> NullTranslations:
    """The catalogue for ``locale``, compiled in memory from its ``.po`` file."""
    locale = ALIASES.get(locale, locale)
    po = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


def interface_locale(locale: str) -> str:
    """The interface language for a language tag: itself, its alias (no -> nb), or English."""
    locale = ALIASES.get(locale, locale)
    return locale if locale in LOCALES else DEFAULT_LOCALE


def set_locale(locale: str, timezone: str | None = None) -> None:
    _locale.set(interface_locale(locale))
    if timezone:
        _timezone.set(timezone)


@contextmanager
def using(locale: str, timezone: str | None = None) -> Iterator[None]:
    """Speak ``locale`` (and show times in ``timezone``) inside the block, e.g. for an e-mail."""
    locale_token = _locale.set(interface_locale(locale))
    timezone_token = _timezone.set(timezone or _timezone.get())
    try:
        yield
    finally:
        _locale.reset(locale_token)
        _timezone.reset(timezone_token)


def get_locale() -> str:
    return _locale.get()


def format_locale() -> str:
    """The Babel locale for dates and numbers: the interface language, English as en-GB."""
    return _format_locale(get_locale())


@cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


def _formats() -> Locale:
    """The parsed Babel locale of :func:`format_locale` (parsed once per language, not
    once per number: a page of 200 rows formats hundreds)."""
    return _babel_locale(format_locale())


def get_timezone() -> ZoneInfo:
    try:
        return ZoneInfo(_timezone.get())
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def gettext(message: str, **variables: object) -> str:
    text = translations(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def lazy_gettext(message: str, **variables: object) -> LazyProxy:
    """A string translated when it is used, for module-level labels."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext


def negotiate(accept_language: str) -> str:
    """Pick the best interface language from an Accept-Language header."""
    wanted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _sep, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        wanted.append((quality, tag.strip().lower()))
    for _quality, tag in sorted(wanted, key=lambda item: -item[0]):
        base = tag.split("-")[0]
        base = ALIASES.get(base, base)
        if base in LOCALES:
            return base
    return DEFAULT_LOCALE


# --- formatting -----------------------------------------------------------------


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return dates.format_datetime(value, format=format, tzinfo=get_timezone(), locale=_formats())


def format_time(value: datetime | None, format: str = "short") -> str:
    """A moment's time of day in the reader's zone: "14:05"."""
    if value is None:
        return ""
    return dates.format_time(value, format=format, tzinfo=get_timezone(), locale=_formats())


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(get_timezone()).date()
    return dates.format_date(value, format=format, locale=_formats())


def format_number(value: int | Decimal | float) -> str:
    return numbers.format_decimal(value, locale=_formats())


def format_money(value: Decimal, currency: str) -> str:
    return numbers.format_currency(value, currency, locale=_formats())


def format_percent(value: Decimal) -> str:
    """A share such as 0.6975 as "69.75%" (en) or "69,75 %" (pl): always two decimals."""
    locale = _formats()
    pattern = copy.copy(locale.percent_formats[None])
    pattern.frac_prec = (2, 2)
    return pattern.apply(value, locale)


# --- countries and languages ---------------------------------------------------------


@cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes."""
    return tuple(sorted(c.alpha_2 for c in pycountry.countries))


def country_name(code: str) -> str:
    names = Locale.parse(get_locale()).territories
    if code in names:
        return names[code]
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def country_choices() -> list[tuple[str, str]]:
    """(code, localised name) for every country, sorted by name in the user's language."""
    return sorted(((c, country_name(c)) for c in country_codes()), key=lambda p: p[1].casefold())


#: Working languages offered on organisation profiles (ISO 639-1), the region's first.
WORKING_LANGUAGES: tuple[str, ...] = (
    "en",
    "pl",
    "no",
    "lt",
    "lv",
    "et",
    "da",
    "sv",
    "fi",
    "is",
    "de",
    "ru",
    "uk",
    "fr",
    "es",
)


def language_name(code: str, capital: bool = True) -> str:
    """The language's name in the reader's language; ``capital=False`` inside a sentence."""
    name = Locale.parse(get_locale()).languages.get(code, code)
    return name[:1].upper() + name[1:] if capital else name


def language_choices(codes: Iterable[str] = WORKING_LANGUAGES) -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in codes]


@cache  # a handful of codes, asked on every page: parsed once
def locale_display_name(code: str) -> str:
    """The name of an interface language in that language itself (for the switcher)."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


# --- time zones ----------------------------------------------------------------------

#: The region's time zones, offered first.
REGION_TIMEZONES: tuple[str, ...] = (
    "Europe/Warsaw",
    "Europe/Oslo",
    "Europe/Vilnius",
    "Europe/Riga",
    "Europe/Tallinn",
    "Europe/Stockholm",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "Atlantic/Reykjavik",
    "Europe/Berlin",
    "Europe/London",
)


@cache
def timezone_names() -> frozenset[str]:
    """Every IANA zone a person may choose ("Area/City"; no Etc/GMT+3 or legacy aliases)."""
    return frozenset(
        z
        for z in available_timezones()
        if "/" in z and z.split("/")[0] not in {"Etc", "SystemV", "US", "Canada", "Brazil"}
    )


def timezone_choices() -> list[tuple[str, str]]:
    """(zone, label): the region's zones first, then every other zone by name."""
    label = lambda zone: zone.replace("_", " ")  # noqa: E731
    others = sorted(timezone_names() - set(REGION_TIMEZONES))
    return [(z, label(z)) for z in (*REGION_TIMEZONES, *others)]


def country_timezone(code: str) -> str:
    """The time zone of a country's capital region (Oslo for NO), or the default."""
    zones = get_global("territory_zones").get(code.upper(), [])
    return zones[0] if zones and zones[0] in timezone_names() else DEFAULT_TIMEZONE
