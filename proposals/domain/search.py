"""Search over what a person may see, with the database's own full-text engine.

SQLite: FTS5 tables (``search_<table>``) kept in step with their tables by
triggers, tokenised with ``unicode61 remove_diacritics 2``. PostgreSQL:
``to_tsvector('simple', ...)`` over the text with its diacritics folded by
``translate()``, with GIN indexes on the same expressions. Both are created by
the migration ``0011_i17_home``; either way "Gdansk" finds "Gdańsk".

What is searched: proposals (title, acronym), sections (title, text),
comments, ideas (title, summary) and organisations (name, city, description).
Proposals, their sections and comments only where the person may open the
proposal (``policy.visible_proposals``); ideas when open or the person's own;
organisations are public to every signed-in person. The matching words are
shown in an excerpt (:func:`excerpt`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select, text
from sqlalchemy.orm import Session

from proposals import urls
from proposals.models import Comment, Idea, Organisation, Proposal, Section, User
from proposals.policy import organisation_ids, visible_proposals

#: Letters folded to ASCII in PostgreSQL (``translate``): Polish, Nordic, Baltic, German.
FOLD_FROM = (
    "ąćęłńóśźżåäæøöüõšžčėįųūēīķļņģéèêëáàâãíìîïñçúùûýÿ"
    "ĄĆĘŁŃÓŚŹŻÅÄÆØÖÜÕŠŽČĖĮŲŪĒĪĶĻŅĢÉÈÊËÁÀÂÃÍÌÎÏÑÇÚÙÛÝŸ"
)
FOLD_TO = "acelnoszzaaaoouoszceiuueiklngeeeeaaaaiiiincuuuyy" * 2
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)

#: What each searchable table offers: its columns (the FTS5 table has the same).
COLUMNS: dict[str, tuple[str, ...]] = {
    "proposal": ("title", "acronym"),
    "section": ("title", "text"),
    "comment": ("body",),
    "idea": ("title", "summary"),
    "organisation": ("name", "city", "description"),
}
#: Results per kind, and the most terms a query may have.
PER_KIND = 20
MAX_TERMS = 8
MAX_QUERY = 200
EXCERPT_CHARS = 160

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(value: str) -> str:
    """Lower case without diacritics: "Gdańsk" -> "gdansk", "Łódź" -> "lodz"."""
    value = value.translate(_FOLD).lower()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms_of(query: str) -> list[str]:
    """The words of a query (at most MAX_TERMS, each at most 40 characters), lower case."""
    words = [w[:40].lower() for w in _WORD.findall(query[:MAX_QUERY]) if w.strip("_")]
    unique: list[str] = []
    for word in words:
        if word not in unique:
            unique.append(word)
    return unique[:MAX_TERMS]


def _pg_document(table: str) -> str:
    columns = " || ' ' || ".join(f"coalesce({c}, '')" for c in COLUMNS[table])
    return f"to_tsvector('simple', translate({columns}, '{FOLD_FROM}', '{FOLD_TO}'))"


def pg_index_sql(table: str) -> str:
    """The GIN index the PostgreSQL search of ``table`` uses (the migration creates it)."""
    return f"CREATE INDEX ix_search_{table} ON {table} USING gin (({_pg_document(table)}))"


def _matching_ids(session: Session, table: str, terms: list[str]) -> list[int]:
    """Ids of ``table`` rows whose text holds every term (as a word or a word's start)."""
    if table not in COLUMNS:  # names below come from COLUMNS only, never from input
        raise ValueError(table)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # The document folds only FOLD_FROM (translate), so the query folds the same.
        query = " & ".join(f"{t.translate(_FOLD).lower()}:*" for t in terms)
        rows = session.execute(
            text(
                f"SELECT id FROM {table} WHERE {_pg_document(table)} @@ to_tsquery('simple', :q) "  # noqa: S608
                f"ORDER BY ts_rank({_pg_document(table)}, to_tsquery('simple', :q)) DESC, id DESC "
                "LIMIT 500"
            ),
            {"q": query},
        )
    else:
        # The tokenizer strips diacritics; the letters it keeps were folded by the triggers.
        query = " AND ".join(f'"{fold(t)}"*' for t in terms)
        rows = session.execute(
            text(
                f"SELECT rowid FROM search_{table} WHERE search_{table} MATCH :q "  # noqa: S608
                "ORDER BY rank LIMIT 500"
            ),
            {"q": query},
        )
    return [int(r[0]) for r in rows]


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    url: str
    context: str  # the proposal or organisation it belongs to
    excerpt: list[tuple[str, bool]]  # (text, is a matching word)


def excerpt(value: str, terms: list[str], width: int = EXCERPT_CHARS) -> list[tuple[str, bool]]:
    """A window of ``value`` around the first match, the matching words marked.

    Matching ignores case and diacritics, as the search does; each character is
    folded on its own so that positions in the folded text are those of ``value``.
    """
    folded_terms = [fold(t) for t in terms if t]
    folded = [fold(c) for c in value]
    flat = "".join(folded)
    starts = []  # position in value of each character of flat
    for index, piece in enumerate(folded):
        starts.extend([index] * len(piece))
    spans: list[tuple[int, int]] = []
    for term in folded_terms:
        for match in re.finditer(r"\b" + re.escape(term) + r"\w*", flat):
            begin = starts[match.start()]
            end = starts[match.end() - 1] + 1
            spans.append((begin, end))
    spans.sort()
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    space = value.rfind(" ", 0, start)
    if start > 0 and space >= 0 and start - space <= 20:
        start = space + 1  # begin the excerpt at a word
    stop = min(len(value), start + width)
    pieces: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    cursor = start
    for begin, end in spans:
        if end <= cursor or begin >= stop:
            continue
        begin = max(begin, cursor)
        if begin > cursor:
            pieces.append((value[cursor:begin], False))
        pieces.append((value[begin : min(end, stop)], True))
        cursor = min(end, stop)
    if cursor < stop:
        pieces.append((value[cursor:stop], False))
    if stop < len(value):
        pieces.append(("…", False))
    return pieces


def _load(session: Session, query: Select[Any], ids: list[int], model: Any) -> list[Any]:
    if not ids:
        return []
    found = {r.id: r for r in session.scalars(query.where(model.id.in_(ids)))}
    return [found[i] for i in ids if i in found][:PER_KIND]


def search(session: Session, user: User, query: str) -> dict[str, list[Hit]]:
    """Hits per kind (only kinds with hits), each kind's best first."""
    terms = terms_of(query)
    if not terms:
        return {}
    visible = visible_proposals(user).with_only_columns(Proposal.id)
    mine = organisation_ids(user) or {-1}
    out: dict[str, list[Hit]] = {}

    proposals = _load(
        session,
        select(Proposal).where(Proposal.id.in_(visible)),
        _matching_ids(session, "proposal", terms),
        Proposal,
    )
    out["proposal"] = [
        Hit(
            "proposal",
            f"{p.acronym} – {p.title}" if p.acronym else p.title,
            urls.link(p),
            "",
            excerpt(f"{p.acronym} {p.title}".strip(), terms),
        )
        for p in proposals
    ]
    sections = _load(
        session,
        select(Section).where(Section.proposal_id.in_(visible)),
        _matching_ids(session, "section", terms),
        Section,
    )
    out["section"] = [
        Hit(
            "section",
            s.title,
            urls.link(s),
            s.proposal.acronym or s.proposal.title,
            excerpt(s.text or s.title, terms),
        )
        for s in sections
    ]
    comments = _load(
        session,
        select(Comment)
        .join(Section, Section.id == Comment.section_id)
        .where(Section.proposal_id.in_(visible)),
        _matching_ids(session, "comment", terms),
        Comment,
    )
    out["comment"] = [
        Hit(
            "comment",
            c.section.title,
            urls.link(c),
            c.section.proposal.acronym or c.section.proposal.title,
            excerpt(c.body, terms),
        )
        for c in comments
    ]
    ideas = _load(
        session,
        select(Idea).where(or_(Idea.status == "open", Idea.organisation_id.in_(mine))),
        _matching_ids(session, "idea", terms),
        Idea,
    )
    out["idea"] = [
        Hit("idea", i.title, urls.link(i), i.organisation.name, excerpt(i.summary, terms))
        for i in ideas
    ]
    organisations = _load(
        session, select(Organisation), _matching_ids(session, "organisation", terms), Organisation
    )
    out["organisation"] = [
        Hit(
            "organisation",
            o.name,
            urls.link(o),
            o.city,
            excerpt(f"{o.name}, {o.city}. {o.description}", terms),
        )
        for o in organisations
    ]
    return {kind: hits for kind, hits in out.items() if hits}
