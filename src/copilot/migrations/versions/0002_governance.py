"""Governance: hash-chained audit log, chain head, checkpoints, approvals.

On PostgreSQL (and SQLite) ``audit_records`` and ``audit_checkpoints`` are append-only at the database level:
triggers refuse UPDATE and DELETE (PostgreSQL also refuses TRUNCATE). ``audit_chain_head`` is the single row
appenders lock to serialise the chain.

Revision ID: 0002_governance
Revises: 0001_manifest
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_governance"
down_revision = "0001_manifest"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION copilot_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'copilot audit tables are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
_APPEND_ONLY = ("audit_records", "audit_checkpoints")


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False
        ),
        sa.Column("record_id", sa.String(36), nullable=False, unique=True),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("principal_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("role", sa.String(64), nullable=False, server_default=""),
        sa.Column("tool", sa.String(128), nullable=False, server_default=""),
        sa.Column("args_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("decision", sa.String(32), nullable=False, server_default=""),
        sa.Column("rule_id", sa.String(128), nullable=True),
        sa.Column("approver_id", sa.String(128), nullable=True),
        sa.Column("approval_id", sa.String(36), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False, server_default=""),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("latency_us", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("doc_ids_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("chunk_ids_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("prompt_version", sa.String(64), nullable=True),
        sa.Column("flags_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_ts", "audit_records", ["ts"])
    op.create_index("ix_audit_principal", "audit_records", ["principal_id"])
    op.create_index("ix_audit_tool", "audit_records", ["tool"])
    op.create_index("ix_audit_request", "audit_records", ["request_id"])

    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("archive_path", sa.Text, nullable=True),
        sa.Column("archive_sha256", sa.String(64), nullable=True),
    )

    op.create_table(
        "approvals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tool", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("requester_id", sa.String(128), nullable=False),
        sa.Column("requester_role", sa.String(64), nullable=False),
        sa.Column("requester_json", sa.Text, nullable=False),
        sa.Column("args_raw", sa.Text, nullable=True),
        sa.Column("args_redacted", sa.Text, nullable=False),
        sa.Column("rule_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("approving_roles", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_role", sa.String(64), nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("executed_at", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
    )
    op.create_index("ix_approvals_status", "approvals", ["status", "created_at"])

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_FUNCTION)
        for table in _APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION copilot_audit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION copilot_audit_append_only()"
            )
    elif dialect == "sqlite":
        for table in _APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'copilot audit tables are append-only'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS copilot_audit_append_only()")
    elif dialect == "sqlite":
        for table in _APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    op.drop_index("ix_approvals_status", "approvals")
    op.drop_table("approvals")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_chain_head")
    for ix in ("ix_audit_request", "ix_audit_tool", "ix_audit_principal", "ix_audit_ts"):
        op.drop_index(ix, "audit_records")
    op.drop_table("audit_records")
