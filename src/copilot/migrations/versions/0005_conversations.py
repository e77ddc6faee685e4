"""Conversations: the router's (and the LLM agent's) per-user session memory.

``conversations`` holds one row per session: its owner (a user resumes only their own session), the pending
clarifying question and the slots gathered so far (``state_json``), so the next turn — after a restart too —
answers it. ``conversation_turns`` keeps each turn's redacted text, intent and request id (joined to the audit
trail by request id).

Revision ID: 0005_conversations
Revises: 0004_triage
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_conversations"
down_revision = "0004_triage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("principal_id", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("state_json", sa.Text, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_conversations_principal", "conversations", ["principal_id"])
    op.create_table(
        "conversation_turns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("intent", sa.String(64)),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_conversation_turns_conversation", "conversation_turns", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_turns_conversation", "conversation_turns")
    op.drop_table("conversation_turns")
    op.drop_index("ix_conversations_principal", "conversations")
    op.drop_table("conversations")
