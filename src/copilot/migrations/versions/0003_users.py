"""Service users, their API keys (stored hashed) and answer feedback.

``api_keys.secret_sha256`` holds the sha256 of a random 256-bit secret: the key itself is printed once and
never stored. ``users.password_hash`` is set only for demo users (scrypt), refused outside development.
``answer_feedback`` keeps thumbs up/down per answer (its audit ``request_id``) for the answer evals.

Revision ID: 0003_users
Revises: 0002_governance
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_users"
down_revision = "0002_governance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("groups", sa.Text, nullable=False, server_default=""),
        sa.Column("sites", sa.Text, nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("principal_id", sa.String(200), nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("answer_feedback")
    op.drop_table("api_keys")
    op.drop_table("users")
