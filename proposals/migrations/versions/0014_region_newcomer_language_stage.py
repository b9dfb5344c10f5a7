"""What the calls' partnership and stage rules need to know of a consortium.

- ``organisation.region``: the NUTS region the organisation is in ("" when not said);
- ``partner.newcomer``: the partner is new to the call's programme (NULL: not said);
- ``proposal.language``: the language the application is written in (NULL: the call's first);
- ``proposal.stage``: the call's stage the proposal is at, for calls in stages (NULL: the first).

Plain added columns: a batch rebuild of ``organisation`` or ``proposal`` on SQLite would
drop the search triggers of 0013.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "organisation", sa.Column("region", sa.String(5), nullable=False, server_default="")
    )
    op.add_column("partner", sa.Column("newcomer", sa.Boolean(), nullable=True))
    op.add_column("proposal", sa.Column("language", sa.String(2), nullable=True))
    op.add_column("proposal", sa.Column("stage", sa.String(40), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+) keeps the search triggers.
    op.drop_column("proposal", "stage")
    op.drop_column("proposal", "language")
    op.drop_column("partner", "newcomer")
    op.drop_column("organisation", "region")
