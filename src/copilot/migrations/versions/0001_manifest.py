"""Ingestion manifest: one row per source document.

Revision ID: 0001_manifest
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_manifest"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manifest_documents",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("doc_id", sa.String(512), primary_key=True),
        sa.Column("title", sa.String(512), nullable=False, server_default=""),
        sa.Column("uri", sa.Text, nullable=False, server_default=""),
        sa.Column("checksum", sa.String(128), nullable=False, server_default=""),
        sa.Column("acl_groups", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("page_count", sa.Integer, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("redactions", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_manifest_status", "manifest_documents", ["status"])


def downgrade() -> None:
    op.drop_index("ix_manifest_status", "manifest_documents")
    op.drop_table("manifest_documents")
