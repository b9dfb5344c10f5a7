"""Compact history: revision texts packed against keyframes, live updates compressed.

Existing revisions are packed section by section in number order, exactly as the
saves pack new ones (``proposals.packing``); their ``text`` column is emptied.
The downgrade writes every text back whole and drops the new columns.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 02:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from proposals import packing

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREVIEW_CHARS = 200
_revision = sa.table(
    "revision",
    sa.column("id", sa.Integer),
    sa.column("section_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("text", sa.Text),
    sa.column("packed", sa.LargeBinary),
    sa.column("basis", sa.Integer),
    sa.column("depth", sa.Integer),
    sa.column("preview", sa.String),
)
_live = sa.table("live_update", sa.column("id", sa.Integer), sa.column("data", sa.LargeBinary))


def upgrade() -> None:
    # Plain add_column: batch mode would rebuild the table (and is not needed).
    op.add_column("revision", sa.Column("packed", sa.LargeBinary(), nullable=True))
    op.add_column("revision", sa.Column("basis", sa.Integer(), nullable=True))
    op.add_column("revision", sa.Column("depth", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("revision", sa.Column("preview", sa.String(length=PREVIEW_CHARS), nullable=True))
    op.add_column("section", sa.Column("chars", sa.Integer(), nullable=True))  # counted on read
    bind = op.get_bind()
    sections = bind.execute(sa.select(_revision.c.section_id).distinct()).scalars().all()
    for section_id in sections:
        # Each packed against the one before it (new saves use the current text).
        previous: tuple[int, str, int] | None = None  # number, text, depth
        rows = bind.execute(
            sa.select(_revision.c.id, _revision.c.number, _revision.c.text)
            .where(_revision.c.section_id == section_id)
            .order_by(_revision.c.number)
        ).all()
        for row_id, number, text in rows:
            text = text or ""
            packed, whole = packing.pack_against(
                text, previous[1] if previous else None, previous[2] if previous else 0
            )
            depth = 0 if whole or previous is None else previous[2] + 1
            bind.execute(
                _revision.update()
                .where(_revision.c.id == row_id)
                .values(
                    packed=packed,
                    basis=None if whole or previous is None else previous[0],
                    depth=depth,
                    preview=text[:PREVIEW_CHARS],
                    text="",
                )
            )
            previous = (number, text, depth)
    for row_id, data in bind.execute(sa.select(_live.c.id, _live.c.data)).all():
        stored = packing.pack_update(bytes(data))
        if stored != bytes(data):
            bind.execute(_live.update().where(_live.c.id == row_id).values(data=stored))


def downgrade() -> None:
    bind = op.get_bind()
    texts: dict[tuple[int, int], str] = {}
    rows = bind.execute(
        sa.select(
            _revision.c.id,
            _revision.c.section_id,
            _revision.c.number,
            _revision.c.text,
            _revision.c.packed,
            _revision.c.basis,
        ).order_by(_revision.c.section_id, _revision.c.number)
    ).all()
    for row_id, section_id, number, plain, packed, basis in rows:
        if packed is None:
            texts[(section_id, number)] = plain
            continue
        basis_text = texts[(section_id, basis)] if basis is not None else None
        text = packing.unpack(bytes(packed), basis_text)
        texts[(section_id, number)] = text
        bind.execute(_revision.update().where(_revision.c.id == row_id).values(text=text))
    for row_id, data in bind.execute(sa.select(_live.c.id, _live.c.data)).all():
        plain = packing.unpack_update(bytes(data))
        if plain != bytes(data):
            bind.execute(_live.update().where(_live.c.id == row_id).values(data=plain))
    op.drop_column("section", "chars")  # a plain drop: a batch would lose 0013's triggers
    with op.batch_alter_table("revision") as batch:
        batch.drop_column("preview")
        batch.drop_column("depth")
        batch.drop_column("basis")
        batch.drop_column("packed")
