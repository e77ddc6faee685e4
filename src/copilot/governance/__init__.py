"""Governance: every tool call passes one executor that checks role and approval policy and writes a
hash-chained audit record.

Modules: ``principal`` (who calls), ``policy`` (roles, scopes, approval rules as YAML data), ``executor`` (the
one governed path), ``approvals`` (pending → approved/rejected/expired), ``audit`` (tamper-evident log),
``redact_args`` (PII out of structured arguments), ``factory`` (wiring), ``cli`` (argparse builders),
``testing`` (test-double tools and a ledger of their side effects).
"""
