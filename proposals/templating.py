"""The Jinja2 environment shared by pages and e-mails: templates, filters, translations."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from proposals import i18n, regions, urls


def templates_dir() -> Path:
    """The templates folder: top level in a checkout, inside the package in a built wheel."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"


def make_environment(extra_globals: Mapping[str, Any] | None = None) -> jinja2.Environment:
    """The environment every template is rendered in (autoescaped, strict, translated)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        time=i18n.format_time,
        number=i18n.format_number,
        country=i18n.country_name,
        language=i18n.language_name,
        region=lambda code: f"{code} – {regions.region_name(code)}" if code else "",
    )
    env.globals.update(
        LOCALES=i18n.LOCALES,
        locale_display_name=i18n.locale_display_name,
        get_locale=i18n.get_locale,
        static=lambda path: f"/static/{path}",
        url=urls.path,
        link=urls.link,
    )
    env.globals.update(extra_globals or {})
    return env


# --- fragments rendered once for what goes into them -------------------------------

_PLAIN = (str, int, float, bool, type(None), date, datetime, Decimal)
_PLAIN_TYPES = frozenset(_PLAIN) | {Markup}


def frozen(value: Any) -> Any:
    """``value`` as a hashable key that is equal only for equal contents.

    Plain values, mappings, sequences (database rows too) and frozen dataclasses (value
    objects: equal and hashed by their fields); anything else (an ORM object, whose
    contents could change under one identity) is refused, so that a fragment can only
    be keyed on what it actually shows.
    """
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, tuple) and _PLAIN_TYPES.issuperset(map(type, value)):
        return value  # a row of plain values, the common case: as it is
    if isinstance(value, Mapping):
        return tuple((frozen(k), frozen(v)) for k, v in value.items())
    if isinstance(value, Sequence):
        return tuple(frozen(v) for v in value)
    if dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen:  # type: ignore[union-attr]
        return value
    raise TypeError(f"a fragment cannot be keyed on a {type(value).__name__}")


class Kept(Markup):
    """A kept fragment's HTML, with the same as UTF-8 (:attr:`encoded`, encoded once): a
    page puts those bytes in its body as they are (``proposals.web.plumbing.html_page``)."""

    encoded: bytes


def _kept(html: str) -> Kept:
    kept = Kept(html)  # rendered by an autoescaping template
    kept.encoded = html.encode("utf-8")
    return kept


class Fragments:
    """Rendered template fragments, kept by everything that goes into them.

    The key is the template, the interface language, the time zone and the whole
    context (:func:`frozen`): the same inputs give the same HTML, so a hit is never
    stale and nothing needs to be told when data changes; changed data is a new key.
    The oldest fragments are dropped beyond ``max_bytes`` (per process).
    """

    def __init__(self, env: jinja2.Environment, max_bytes: int = 8 * 1024 * 1024) -> None:
        self.env = env
        self.max_bytes = max_bytes
        self._kept: OrderedDict[Any, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def render(
        self,
        name: str,
        context: Mapping[str, Any],
        derived: Callable[[], Mapping[str, Any]] | None = None,
    ) -> Kept:
        """The fragment ``name`` rendered with ``context`` (and, only when it is not kept,
        what ``derived`` computes from that context and from nothing else)."""
        key = (name, i18n.get_locale(), str(i18n.get_timezone()), frozen(context))
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        full = {**context, **derived()} if derived is not None else context
        html = _kept(self.env.get_template(name).render(full))
        size = len(html) + len(html.encoded)  # characters and bytes, roughly what it holds
        with self._lock:
            if key not in self._kept and size <= self.max_bytes:
                self._kept[key] = html
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, dropped = self._kept.popitem(last=False)
                    self._bytes -= len(dropped) + len(dropped.encoded)
        return html
