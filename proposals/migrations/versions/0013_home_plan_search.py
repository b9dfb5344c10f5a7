"""Milestones back from the call's deadline; the calendar feed's secret; full-text search.

Search uses the database's own engine: on SQLite an FTS5 table per searched
table (external content, kept in step by triggers, diacritics removed by the
tokenizer); on PostgreSQL GIN indexes over ``to_tsvector('simple', ...)`` of
the text with its diacritics folded by ``translate()``, the very expression
``proposals.domain.search`` queries.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: The searched tables and their columns (as in proposals.domain.search.COLUMNS).
SEARCHED = {
    "proposal": ("title", "acronym"),
    "section": ("title", "text"),
    "comment": ("body",),
    "idea": ("title", "summary"),
    "organisation": ("name", "city", "description"),
}
FOLD_FROM = (
    "ąćęłńóśźżåäæøöüõšžčėįųūēīķļņģéèêëáàâãíìîïñçúùûýÿ"
    "ĄĆĘŁŃÓŚŹŻÅÄÆØÖÜÕŠŽČĖĮŲŪĒĪĶĻŅĢÉÈÊËÁÀÂÃÍÌÎÏÑÇÚÙÛÝŸ"
)
FOLD_TO = "acelnoszzaaaoouoszceiuueiklngeeeeaaaaiiiincuuuyy" * 2


def _create_search() -> None:
    bind = op.get_bind()
    for table, columns in SEARCHED.items():
        names = ", ".join(columns)
        if bind.dialect.name == "postgresql":
            document = " || ' ' || ".join(f"coalesce({c}, '')" for c in columns)
            op.execute(
                f"CREATE INDEX ix_search_{table} ON {table} USING gin "
                f"((to_tsvector('simple', translate({document}, '{FOLD_FROM}', '{FOLD_TO}'))))"
            )
            continue
        fts = f"search_{table}"
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608 (constants)
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {_folded('new', columns)}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
            f"DELETE FROM {fts} WHERE rowid = old.id; END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {table} BEGIN "  # noqa: S608
            f"DELETE FROM {fts} WHERE rowid = old.id; "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {_folded('new', columns)}); END"
        )
        op.execute(
            f"INSERT INTO {fts}(rowid, {names}) "  # noqa: S608
            f"SELECT id, {_folded(table, columns)} FROM {table}"
        )


#: Letters the FTS5 tokenizer keeps (they do not decompose into a letter and a diacritic).
SQLITE_FOLD = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "a", "Æ": "A"}


def _folded(row: str, columns: tuple[str, ...]) -> str:
    """The columns of ``row`` with SQLITE_FOLD applied, as SQL expressions."""
    out = []
    for column in columns:
        expression = f"coalesce({row}.{column}, '')"
        for letter, plain in SQLITE_FOLD.items():
            expression = f"replace({expression}, '{letter}', '{plain}')"
        out.append(expression)
    return ", ".join(out)


def _drop_search() -> None:
    bind = op.get_bind()
    for table in SEARCHED:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS ix_search_{table}")
            continue
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS search_{table}")


def upgrade() -> None:
    _create_search()
    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_milestone_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone")),
        sa.UniqueConstraint("proposal_id", "key", name=op.f("uq_milestone_proposal_id")),
    )
    op.create_index(op.f("ix_milestone_proposal_id"), "milestone", ["proposal_id"], unique=False)
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("calendar_token", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_user_account_calendar_token"), ["calendar_token"])


def downgrade() -> None:
    _drop_search()
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("uq_user_account_calendar_token"), type_="unique")
        batch.drop_column("calendar_token")
    op.drop_index(op.f("ix_milestone_proposal_id"), table_name="milestone")
    op.drop_table("milestone")
