"""Compact storage for what only grows: revision texts and the live documents' update log.

A revision's text is stored as zlib-compressed UTF-8. Most revisions are a few
words away from the one before, so a revision is compressed with the text of a
the revision it follows (the section's current text when it was saved) as zlib's
preset dictionary: what the two share costs a few bytes of back-references, so a
10,000-character text that changed by a sentence takes about a hundred bytes.
Every :data:`KEYFRAME_EVERY` steps a revision is stored whole (a keyframe), so
reading any revision unpacks a short chain.

Pure functions, no database: the models and the migration use them alike.
"""

from __future__ import annotations

import zlib

#: The longest chain of deltas before a revision is stored whole again.
KEYFRAME_EVERY = 32
#: zlib's window: a dictionary (and back-references) reach this far, no further.
WINDOW = 32 * 1024
_LEVEL = 6


def pack(text: str, basis: str | None = None) -> bytes:
    """``text`` compressed, with ``basis`` (a keyframe's text) as the dictionary if given."""
    data = text.encode("utf-8")
    if basis is None:
        return zlib.compress(data, _LEVEL)
    compressor = zlib.compressobj(
        _LEVEL, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=_dictionary(basis)
    )
    return compressor.compress(data) + compressor.flush()


def unpack(packed: bytes, basis: str | None = None) -> str:
    """The text :func:`pack` stored (with the same ``basis``)."""
    if basis is None:
        return zlib.decompress(packed).decode("utf-8")
    decompressor = zlib.decompressobj(zdict=_dictionary(basis))
    return (decompressor.decompress(packed) + decompressor.flush()).decode("utf-8")


def _dictionary(basis: str) -> bytes:
    return basis.encode("utf-8")[-WINDOW:] or b"\x00"


def pack_against(text: str, basis: str | None, depth: int) -> tuple[bytes, bool]:
    """Pack a revision against ``basis`` (the text it follows), or whole: (bytes, whole?).

    ``depth`` is how many deltas the basis itself stands on; past
    :data:`KEYFRAME_EVERY` (or when the delta does not pay) the revision is stored whole,
    so that reading any revision unpacks a bounded chain.
    """
    if basis is not None and depth < KEYFRAME_EVERY:
        delta = pack(text, basis)
        if len(delta) * 4 < max(len(text), 256):
            return delta, False
    return pack(text), True


# --- the live documents' update log ---------------------------------------------------

#: Marks a compressed update. ``\x00\x00`` alone is a whole (empty) Yjs update, so no
#: stored update ever starts with these bytes and goes on.
_MAGIC = b"\x00\x00zl"
_WORTH_IT = 96  # bytes: smaller updates (a keystroke) are kept as they are


def pack_update(data: bytes) -> bytes:
    """A Yjs update (or snapshot) as stored: compressed when that makes it smaller."""
    if len(data) < _WORTH_IT:
        return data
    packed = _MAGIC + zlib.compress(data, _LEVEL)
    return packed if len(packed) < len(data) else data


def unpack_update(stored: bytes) -> bytes:
    if stored.startswith(_MAGIC):
        return zlib.decompress(stored[len(_MAGIC) :])
    return stored
