"""User text: the Markdown subset Engage accepts, and counting characters as funders do.

The subset and its parser are configured once, in ``exports/markup.py`` (the
Word export reads the same tokens). HTML in user text is never rendered.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from diff_match_patch import diff_match_patch

from exports.markup import parser, tokens

__all__ = ["count_characters", "plain_text", "render_html", "tokens", "word_diff"]

_WORDS = re.compile(r"\s+|\w+|[^\w\s]")
#: Past this many seconds the diff stops looking for the smallest set of changes and
#: shows what remains as replaced: still exact, only coarser (diff-match-patch's deadline).
DIFF_SECONDS = 0.5
_OPS = {0: " ", -1: "-", 1: "+"}


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


class _BoundedDiff(diff_match_patch):  # type: ignore[misc]
    """diff-match-patch without its "half match" speed-up, which is not bound by the deadline.

    On long repetitive texts the half match searches quadratically before the
    deadline is ever looked at; without it only Myers' bisection runs, and that
    stops at the deadline.
    """

    def diff_halfMatch(self, text1: str, text2: str) -> None:  # the library's own name
        return None


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The differences between two texts, word by word: (op, text) with op in ' ', '-', '+'.

    Joining the ' ' and '-' parts gives ``old`` back, the ' ' and '+' parts ``new``.
    Each distinct word (or run of spaces, or sign) becomes one character, so that
    diff-match-patch (Myers' algorithm with a deadline) compares words; its running
    time is bounded on any input, also on long, repetitive texts.
    """
    vocabulary: dict[str, str] = {}
    words: list[str] = []

    def encode(text: str) -> str:
        out = []
        for word in _WORDS.findall(text):
            code = vocabulary.get(word)
            if code is None:
                code = vocabulary[word] = chr(len(words))
                words.append(word)
            out.append(code)
        return "".join(out)

    differ = _BoundedDiff()
    differ.Diff_Timeout = DIFF_SECONDS
    found = differ.diff_main(encode(old), encode(new), checklines=False)
    out: list[tuple[str, str]] = []
    for op, codes in found:
        text = "".join(words[ord(c)] for c in codes)
        if out and out[-1][0] == _OPS[op]:
            out[-1] = (_OPS[op], out[-1][1] + text)
        else:
            out.append((_OPS[op], text))
    return out
