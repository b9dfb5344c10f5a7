"""The Jinja2 environment shared by pages and e-mails: templates, filters, translations."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

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
