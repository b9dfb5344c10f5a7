"""User text: the Markdown subset Engage accepts, and counting characters as funders do.

The subset and its parser are configured once, in ``exports/markup.py`` (the
Word export reads the same tokens). HTML in user text is never rendered.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from exports.markup import parser, tokens

__all__ = ["count_characters", "plain_text", "render_html", "tokens"]


def render_html(markdown: str) -> str:
    """HTML for a preview or a page (user HTML escaped, only safe link schemes)."""
    return parser().render(markdown)


def plain_text(markdown: str) -> str:
    """The text a funder's form would hold: markup removed, one line per paragraph or item."""
    # Pages show many sections' counts at once and texts change far less often than
    # they are shown: remember recent ones (up to a size, so memory stays bounded).
    if len(markdown) <= _REMEMBERED_LENGTH:
        return _remembered_plain_text(markdown)
    return _plain_text(markdown)


_REMEMBERED_LENGTH = 20_000


def _plain_text(markdown: str) -> str:
    blocks: list[str] = []
    for token in tokens(markdown):
        if token.type != "inline":
            continue
        parts: list[str] = []
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append("\n")
        blocks.append("".join(parts))
    return "\n".join(blocks)


_remembered_plain_text = lru_cache(maxsize=512)(_plain_text)


def count_characters(markdown: str, *, spaces: bool = True) -> int:
    """Characters as the funder's form counts them: including spaces, unless told otherwise.

    Counted on the plain text in Unicode NFC, so "ą" typed as a + combining
    ogonek counts once, as it does in the funder's form.
    """
    text = unicodedata.normalize("NFC", plain_text(markdown))
    if not spaces:
        text = "".join(ch for ch in text if not ch.isspace())
    return len(text)
