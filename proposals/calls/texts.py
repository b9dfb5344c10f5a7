"""Texts a profile gives in several languages: picking the one a reader should see."""

from __future__ import annotations

from collections.abc import Mapping


def text_for(texts: str | Mapping[str, str], locale: str, fallback: str = "en") -> str:
    """The text in ``locale``, else in ``fallback``, else in the first language given.

    ``locale`` may carry a territory ("nb_NO", "pl-PL"): its language is used.
    A plain string is the same text for everyone.
    """
    if isinstance(texts, str):
        return texts
    language = locale.replace("-", "_").split("_")[0].lower()
    # Norwegian Bokmål (the app's "nb") reads texts given as Norwegian ("no").
    wanted = (locale, language, "no" if language == "nb" else language, fallback)
    for key in wanted:
        if texts.get(key):
            return texts[key]
    return next((value for value in texts.values() if value), "")
