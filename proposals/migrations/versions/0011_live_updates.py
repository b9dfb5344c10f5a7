"""Live co-editing: every change to a section's shared document (live_update).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["section.id"],
            name=op.f("fk_live_update_section_id_section"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_live_update_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_update")),
    )
    with op.batch_alter_table("live_update", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_update_section_id"), ["section_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("live_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_update_section_id"))
    op.drop_table("live_update")
