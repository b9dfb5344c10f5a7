"""Milestones planned back from the call's deadline; the secret of a person's calendar feed.

Revision ID: 0011_i17_home
Revises: 0010
Create Date: 2026-12-04 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_i17_home"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
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
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("uq_user_account_calendar_token"), type_="unique")
        batch.drop_column("calendar_token")
    op.drop_index(op.f("ix_milestone_proposal_id"), table_name="milestone")
    op.drop_table("milestone")
