"""The Markdown subset of user text, configured once for the pages and the Word export.

The subset is paragraphs, bullet and numbered lists, bold, italic and links.
HTML in user text is never rendered: markdown-it runs with ``html=False``,
so ``<script>`` arrives as text. ``proposals/text.py`` renders pages with this
parser; ``exports/`` writes Word runs from its tokens.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

_ENABLED = ["paragraph", "list", "emphasis", "link", "newline", "text", "escape", "backticks"]
SAFE_SCHEMES = ("http://", "https://", "mailto:")


@cache
def parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    md.enable(_ENABLED)
    md.validateLink = lambda url: url.lower().startswith(SAFE_SCHEMES)
    return md


def tokens(markdown: str) -> list[Token]:
    return parser().parse(markdown)
