"""Helpdesk triage: the queue of suggestions (one row per ticket version) and the sync cursor.

``triage_items`` holds only redacted text. A row is keyed by (model, ticket id, the ticket's ``write_date``), so
re-syncing an unchanged ticket is a no-op and a ticket edited in Odoo gets a new row (the old one is
``superseded``). ``final_json`` is the agents' feedback (accepted, changed or rejected labels) that the next
training reads; ``previous_json`` the values Copilot overwrote, for undo.

Revision ID: 0004_triage
Revises: 0003_users
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_triage"
down_revision = "0003_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("odoo_model", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("ticket_write_date", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("current_json", sa.Text, nullable=False),
        sa.Column("suggestion_json", sa.Text, nullable=False),
        sa.Column("model_version", sa.String(64)),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("approval_id", sa.String(36)),
        sa.Column("audit_id", sa.String(64)),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", sa.String(32)),
        sa.Column("final_json", sa.Text),
        sa.Column("previous_json", sa.Text),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("odoo_model", "ticket_id", "ticket_write_date", name="uq_triage_ticket_version"),
    )
    op.create_index("ix_triage_status", "triage_items", ["status"])
    op.create_index("ix_triage_ticket", "triage_items", ["odoo_model", "ticket_id"])
    op.create_table(
        "triage_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("triage_state")
    op.drop_index("ix_triage_ticket", "triage_items")
    op.drop_index("ix_triage_status", "triage_items")
    op.drop_table("triage_items")
