"""qa_results: every call scored by its script's rubric when it ended; inspections: the
inspectors' queue

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("rubric", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_results")),
        sa.UniqueConstraint("call_id", "rubric", name=op.f("uq_qa_results_call_id")),
    )
    op.create_index(op.f("ix_qa_results_call_id"), "qa_results", ["call_id"])
    op.create_index(op.f("ix_qa_results_campaign_id"), "qa_results", ["campaign_id"])
    op.create_index(op.f("ix_qa_results_passed"), "qa_results", ["passed"])
    op.create_index(op.f("ix_qa_results_scored_at"), "qa_results", ["scored_at"])

    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspector", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disputed_by", sa.String(length=64), nullable=True),
        sa.Column("dispute", sa.Text(), nullable=False),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
        sa.UniqueConstraint("call_id", name=op.f("uq_inspections_call_id")),
    )
    op.create_index(op.f("ix_inspections_campaign_id"), "inspections", ["campaign_id"])
    op.create_index(op.f("ix_inspections_week"), "inspections", ["week"])
    op.create_index(op.f("ix_inspections_state"), "inspections", ["state"])


def downgrade() -> None:
    op.drop_table("inspections")
    op.drop_table("qa_results")
