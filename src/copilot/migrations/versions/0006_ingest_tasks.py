"""Scale-out ingestion: who holds each document's task, how often it was tried, and the vectors awaiting the owner.

``manifest_documents`` gains the task that owns the row (``task_id``: any other delivery of a message for the
document is a no-op), the worker that last ran it, the number of deliveries (``attempts``: a document that kills
or fails its worker every time is parked after N), and when it was queued and started. ``ingest_staged_chunks``
holds the chunks and vectors a worker computed for the embedded Edge shard, which only the serving process may
write; the owner applies them and deletes the rows.

Revision ID: 0006_ingest_tasks
Revises: 0005_conversations
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_ingest_tasks"
down_revision = "0005_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("manifest_documents") as batch:
        batch.add_column(sa.Column("task_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("worker", sa.String(255), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_manifest_worker", "manifest_documents", ["worker"])
    op.create_table(
        "ingest_staged_chunks",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("doc_id", sa.String(512), primary_key=True),
        sa.Column("ordinal", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("dense", sa.LargeBinary, nullable=False),
        sa.Column("sparse", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingest_staged_chunks")
    op.drop_index("ix_manifest_worker", "manifest_documents")
    with op.batch_alter_table("manifest_documents") as batch:
        for name in ("started_at", "queued_at", "attempts", "worker", "task_id"):
            batch.drop_column(name)
