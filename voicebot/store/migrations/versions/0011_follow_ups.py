"""follow-ups of failed inspections; the agents' part of calls scored; calls indexed for reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", TZ, nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_follow_ups_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
    )
    for column in ("inspection_id", "call_id", "assignee", "state"):
        op.create_index(op.f(f"ix_follow_ups_{column}"), "follow_ups", [column])
    op.create_index("ix_calls_campaign_created", "calls", ["campaign_id", "created_at"])
    with op.batch_alter_table("qa_results") as batch:
        batch.add_column(sa.Column("part", sa.String(length=8), server_default="robot", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("qa_results") as batch:
        batch.drop_column("part")
    op.drop_index("ix_calls_campaign_created", table_name="calls")
    op.drop_table("follow_ups")
