"""CLI commands for approvals and the audit log, as argparse sub-parser builders (no framework).

The lead mounts them on the main parser::

    sub = parser.add_subparsers(dest="command")
    add_approvals_commands(sub)     # copilot approvals list|approve|reject
    add_audit_commands(sub)         # copilot audit verify|export|search|checkpoint|archive
    args = parser.parse_args()
    return args.handler(args, services)   # services: .executor, .audit, .approvals, .settings

Handlers parse, authorise and delegate (STYLE.md §1); they print JSON and return an exit code.

Who decides on the CLI: ``services.principal`` when the app authenticated the operator, else ``--as ID --role
ROLE``. The local CLI already has the database in reach, so the flags add no power an operator lacks — but
the decision still passes segregation of duties and lands on the audit chain under that identity.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from copilot.errors import CopilotError
from copilot.governance.approvals import ApprovalStatus
from copilot.governance.principal import Principal

Handler = Any  # (args: argparse.Namespace, services: Any) -> int


def _print(obj: Any, out: TextIO | None = None) -> None:
    (out or sys.stdout).write(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def _actor(args: argparse.Namespace, services: Any) -> Principal:
    principal = getattr(services, "principal", None)
    if isinstance(principal, Principal):
        return principal
    if not args.actor or not args.role:
        raise CopilotError("--as and --role are required to decide", code="unauthenticated")
    return Principal(id=args.actor, name=args.actor, role=args.role)


def _fail(exc: CopilotError) -> int:
    _print({"error": exc.code, "message": exc.message}, sys.stderr)
    return 2


# --- approvals ----------------------------------------------------------------------------------------------


def approvals_list(args: argparse.Namespace, services: Any) -> int:
    status = None if args.status == "all" else ApprovalStatus(args.status)
    reqs = services.approvals.find(status=status, tool=args.tool, approver_role=args.role, limit=args.limit)
    _print([r.to_dict() for r in reqs])
    return 0


def approvals_approve(args: argparse.Namespace, services: Any) -> int:
    try:
        res = services.executor.approve(_actor(args, services), args.approval_id, reason=args.reason or "")
    except CopilotError as exc:
        return _fail(exc)
    _print(
        {
            "approval_id": res.approval_id,
            "status": res.status,
            "audit_id": res.audit_id,
            "error": res.error_code,
        }
    )
    return 0 if res.ok else 1


def approvals_reject(args: argparse.Namespace, services: Any) -> int:
    try:
        req = services.executor.reject(_actor(args, services), args.approval_id, reason=args.reason or "")
    except CopilotError as exc:
        return _fail(exc)
    _print(req.to_dict())
    return 0


def approvals_expire(args: argparse.Namespace, services: Any) -> int:
    _print({"expired": services.executor.expire_due()})
    return 0


def add_approvals_commands(subparsers: Any) -> argparse.ArgumentParser:
    """``copilot approvals list|approve|reject|expire``."""
    p = subparsers.add_parser("approvals", help="list and decide calls waiting for approval")
    sub = p.add_subparsers(dest="approvals_command", required=True)

    ls = sub.add_parser("list", help="list approval requests (pending by default)")
    ls.add_argument("--status", default="pending", choices=[*(s.value for s in ApprovalStatus), "all"])
    ls.add_argument("--tool")
    ls.add_argument("--role", help="only requests this role may decide")
    ls.add_argument("--limit", type=int, default=100)
    ls.set_defaults(handler=approvals_list)

    for name, fn, help_ in (
        ("approve", approvals_approve, "approve a pending call; it runs once, as its requester"),
        ("reject", approvals_reject, "reject a pending call"),
    ):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("approval_id")
        sp.add_argument("--reason", default="")
        sp.add_argument(
            "--as", dest="actor", help="approver id (when the CLI has no authenticated principal)"
        )
        sp.add_argument("--role", help="approver role (with --as)")
        sp.set_defaults(handler=fn)

    ex = sub.add_parser("expire", help="expire pending requests past their deadline")
    ex.set_defaults(handler=approvals_expire)
    return p


# --- audit --------------------------------------------------------------------------------------------------


def _reader() -> Principal:
    """Who reads the audit trail from the shell: the OS user, as compliance (the read itself is audited)."""
    import getpass

    return Principal(id=f"cli:{getpass.getuser()}", name=getpass.getuser(), role="compliance")


def _read(services: Any, tool: str, args: dict[str, Any]) -> Any:
    res = services.executor.execute(_reader(), tool, {k: v for k, v in args.items() if v is not None})
    return res.raise_for_status().result


def audit_verify(args: argparse.Namespace, services: Any) -> int:
    try:
        report = _read(services, "audit_verify", {"from_checkpoint": args.from_checkpoint})
    except CopilotError as exc:
        return _fail(exc)
    _print(report)
    return 0 if report["ok"] else 1


def audit_export(args: argparse.Namespace, services: Any) -> int:
    filters = {"since": args.since, "until": args.until, "principal": args.principal, "tool": args.tool}
    try:
        out = _read(services, "audit_export", {"format": args.format, **filters})
    except CopilotError as exc:
        return _fail(exc)
    if args.output and args.output != "-":
        Path(args.output).write_text(out["content"], encoding="utf-8", newline="")
        _print({"exported": out["count"], "path": args.output}, sys.stderr)
    else:
        sys.stdout.write(out["content"])
    return 0


def audit_search(args: argparse.Namespace, services: Any) -> int:
    try:
        out = _read(services, "audit_search", {
            "text": args.text, "principal": args.principal, "tool": args.tool, "kind": args.kind,
            "outcome": args.outcome, "request_id": args.request_id, "approval_id": args.approval_id,
            "since": args.since, "until": args.until, "limit": args.limit})
    except CopilotError as exc:
        return _fail(exc)
    _print(out["records"])
    return 0


def audit_checkpoint(args: argparse.Namespace, services: Any) -> int:
    _print(services.audit.checkpoint("manual").__dict__)
    return 0


def audit_archive(args: argparse.Namespace, services: Any) -> int:
    cp = services.audit.archive(args.before, Path(args.output))
    _print(cp.__dict__ if cp else {"archived": 0})
    return 0


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", help="ISO timestamp (UTC), inclusive")
    p.add_argument("--until", help="ISO timestamp (UTC), exclusive")
    p.add_argument("--principal")
    p.add_argument("--tool")


def add_audit_commands(subparsers: Any) -> argparse.ArgumentParser:
    """``copilot audit verify|export|search|checkpoint|archive``."""
    p = subparsers.add_parser("audit", help="verify, export and search the tamper-evident audit log")
    sub = p.add_subparsers(dest="audit_command", required=True)

    v = sub.add_parser("verify", help="verify the hash chain; exit 1 and name the first bad record")
    v.add_argument("--from-checkpoint", help="checkpoint id, 'latest' or 'retention' (default: genesis)")
    v.set_defaults(handler=audit_verify)

    e = sub.add_parser("export", help="export records verbatim (hashes included)")
    _filters(e)
    e.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    e.add_argument("--output", "-o", help="file (default: stdout)")
    e.set_defaults(handler=audit_export)

    s = sub.add_parser("search", help="search records (arguments are stored redacted)")
    _filters(s)
    s.add_argument("text", nargs="?", help="substring of arguments, tool, rule or error")
    s.add_argument("--kind")
    s.add_argument("--outcome")
    s.add_argument("--request-id")
    s.add_argument("--approval-id")
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(handler=audit_search)

    c = sub.add_parser("checkpoint", help="write a checkpoint of the chain head now")
    c.set_defaults(handler=audit_checkpoint)

    a = sub.add_parser("archive", help="retention: export old records to a file + checkpoint (no deletion)")
    a.add_argument("--before", required=True, help="ISO timestamp (UTC)")
    a.add_argument("--output", "-o", required=True)
    a.set_defaults(handler=audit_archive)
    return p
