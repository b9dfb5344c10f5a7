"""Which CLDR locale writes a language's dates and numbers.

English is written the European way (en-GB: "1 Dec 2026", 24-hour times,
"13,830.60"), never the US way ("12/1/26" reads as 12 January to a European);
Norwegian ("no") is written as Bokmål.
"""

from __future__ import annotations

FORMAT_LOCALES: dict[str, str] = {"en": "en_GB", "no": "nb"}


def format_locale(language: str) -> str:
    """The Babel locale that formats dates and numbers for ``language``."""
    return FORMAT_LOCALES.get(language, language)
