"""Comments anchored to a passage of the section's shared document (Yjs relative positions).

A plain added column: a batch rebuild of ``comment`` on SQLite would drop its search
triggers of 0013.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("comment", sa.Column("anchor_start", sa.Text(), nullable=True))
    op.add_column("comment", sa.Column("anchor_end", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("comment", "anchor_end")
    op.drop_column("comment", "anchor_start")
