"""The ``copilot`` command line. Commands parse arguments and delegate; they hold no logic of their own.

The embedded index belongs to one process. When a server runs on this data dir (``<data dir>/server.json``),
``ingest``, ``status`` and ``ask`` go through it; otherwise they open the index themselves.

Examples::

    copilot ingest src/copilot/demo/corpus
    copilot status
    COPILOT_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// copilot worker --name w1
    copilot ask "What is the PM interval for infusion pumps?" --groups nursing,biomed --json
    copilot serve --ingest src/copilot/demo/corpus
    copilot users add "Nina Okafor" --role staff --groups all_staff,nursing
    copilot eval retrieval --dataset demo --json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.config import Settings, get_settings
from copilot.errors import CopilotError, ValidationError

if TYPE_CHECKING:
    from copilot.governance.principal import Principal

DEMO_CORPUS = Path(__file__).parent / "demo" / "corpus"


def _print(obj: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(obj, indent=2, ensure_ascii=False, default=str))
    else:
        _print_human(obj)


def _print_human(obj: Any, indent: int = 0) -> None:
    pad = "  " * indent
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict | list) and v:
                print(f"{pad}{k}:")
                _print_human(v, indent + 1)
            else:
                print(f"{pad}{k}: {v}")
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict):
                print(f"{pad}- " + ", ".join(f"{k}={v}" for k, v in item.items()))
            else:
                print(f"{pad}- {item}")
    else:
        print(f"{pad}{obj}")


class _ServerClient:
    """Talks to the running server that owns the index (loopback, token from the lease file)."""

    def __init__(self, lease: dict[str, Any]) -> None:
        import httpx

        self._http = httpx.Client(base_url=f"http://{lease['host']}:{lease['port']}",
                                  headers={"Authorization": f"Bearer {lease['token']}"}, timeout=120)

    def get(self, path: str) -> Any:
        r = self._http.get(path)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = self._http.post(path, json=body)
        if r.status_code >= 400:
            raise CopilotError(f"server refused {path}: {r.status_code} {r.text[:300]}", code="server")
        return r.json()


def _server(settings: Settings) -> _ServerClient | None:
    from copilot.app import read_server_lease

    lease = read_server_lease(settings)
    return _ServerClient(lease) if lease else None


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.path).resolve()
    if not path.is_dir():
        raise CopilotError(f"{path} is not a folder", code="validation")
    server = _server(settings)
    if server is not None:
        server.post("/v1/ingest", {"path": str(path)})
        while (state := server.get("/v1/ingest"))["state"] in ("running", "started"):
            time.sleep(0.5)
        _print(state, args.json)
        return 0 if state["state"] == "done" else 1
    from copilot.app import build_copilot

    with build_copilot(settings) as cp:  # a side effect like any other: through the executor, audited
        res = cp.executor.execute(_operator(), "ingest_run", {"path": str(path), "wait": True})
    _print(res.raise_for_status().result["report"], args.json)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    server = _server(settings)
    if server is not None and not args.documents:  # the per-document list comes from the manifest itself
        _print(server.get("/v1/status"), args.json)
        return 0
    from copilot.app import build_copilot

    with build_copilot(settings) as cp:
        _print(cp.status(documents=args.documents), args.json)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """A scale-out ingestion worker (needs COPILOT_BROKER_URL and the shared manifest database)."""
    if not settings.broker_url:
        raise ValidationError("COPILOT_BROKER_URL is not set: there is no queue to work on")
    from copilot.app import build_copilot
    from copilot.ingest.queue import run_worker

    with build_copilot(settings) as cp:
        run_worker(settings, cp.document_worker, name=args.name, pool=args.pool, concurrency=args.concurrency,
                   loglevel=args.loglevel)
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    groups = [g.strip() for g in (args.groups or "").split(",") if g.strip()]
    server = _server(settings)
    if server is not None:
        out = server.post("/v1/ask", {"question": args.question, "groups": None if args.admin else groups})
    else:
        from copilot.api.app import acting_principal
        from copilot.app import build_copilot

        who = acting_principal(_operator(), None if args.admin else groups)
        with build_copilot(settings) as cp:
            result = cp.executor.execute(who, "knowledge_search", {"question": args.question})
            out = result.raise_for_status().result
    if args.json:
        _print(out, True)
    else:
        print(out["answer"])
        for c in out["citations"]:
            page = f", p. {c['page']}" if c.get("page") else ""
            print(f"  [{c['n']}] {c['title']} — {c['section']}{page} <{c['source']}>")
        if out["abstained"] and out["passages"]:
            print("Closest documents you can access:")
            for title in dict.fromkeys(p["title"] for p in out["passages"][:5]):
                print(f"  - {title}")
    return 0


def _operator() -> Principal:
    """The local operator: whoever can read the data dir administers it (the audit trail names the OS user)."""
    import getpass

    from copilot.governance.principal import Principal

    user = getpass.getuser()
    return Principal(id=f"cli:{user}", name=user, role="admin")


def _exit_after_shutdown(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import secrets
    import signal

    import uvicorn

    from copilot.api.app import build_app, usable_cores
    from copilot.api.settings import ServiceSettings
    from copilot.app import build_copilot, clear_server_lease, read_server_lease, write_server_lease
    if (lease := read_server_lease(settings)) is not None:
        raise CopilotError(f"a server (pid {lease['pid']}) already serves {settings.data_dir}", code="conflict")
    if args.demo and settings.environment != "development":
        raise CopilotError("--demo (demo users with known passwords) is refused outside development",
                           code="config")
    service = ServiceSettings.from_settings(settings, **({"password_login": True} if args.demo else {}))
    double = None
    if args.demo:
        from copilot.app import start_demo_odoo

        settings, double = start_demo_odoo(settings)
        print(f"Odoo protocol double serving the demo network at {settings.odoo_url}", flush=True)
    if settings.audit_redaction_workers is None and usable_cores() >= 2:
        # the audit trail's redaction runs beside the requests, not under their interpreter lock
        settings = settings.model_copy(update={"audit_redaction_workers": 1})
    cp = build_copilot(settings)
    cp.warm_up()
    if settings.audit_redaction_workers:
        _ = cp.audit_redactor  # its worker loads spaCy now, not inside the first request
    if args.demo:
        from copilot.api.demo import (
            ensure_demo_users,
            install_demo_governance,
            seed_pending_purchase,
            sync_groups_from_odoo,
        )
        from copilot.api.users import UserStore

        install_demo_governance(cp)
        store = UserStore(cp.engine)
        ensure_demo_users(store)
        sync_groups_from_odoo(store, cp)
        seed_pending_purchase(cp)
    token = secrets.token_urlsafe(32)
    app = build_app(cp, tokens={token: _operator()}, service=service)
    write_server_lease(settings, host=args.host, port=args.port, token=token)
    print(f"Copilot serving on http://{args.host}:{args.port} (admin token in {settings.data_dir}/server.json)",
          flush=True)
    if args.demo:
        print(f"Sign in at http://{args.host}:{args.port}/signin as a demo user (password: demo)", flush=True)
    if args.ingest:

        cp.executor.execute(_operator(), "ingest_run", {"path": str(Path(args.ingest).resolve())}
                            ).raise_for_status()
    elif settings.odoo_url and (args.demo or args.sync_odoo):
        cp.executor.execute(_operator(), "ingest_run", {"source": "odoo"}).raise_for_status()
    if args.demo:  # train on the demo helpdesk history (first start) and queue the open tickets
        app.state.ctx.extra["triage_jobs"].start(train_first=True)
    # uvicorn shuts down gracefully on SIGTERM and then re-raises it with the handler it found: with the
    # default one the process would die before the block below closes the index and clears the lease.
    signal.signal(signal.SIGTERM, _exit_after_shutdown)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        clear_server_lease(settings)
        cp.close()
        if double is not None:
            double.stop()
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """``copilot users add|list|revoke``: the database is shared with a running server, so no lease needed."""
    from copilot.api.users import UserStore
    from copilot.db import make_engine, migrate

    settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    store = UserStore(engine)
    if args.users_command == "add":
        user, key = store.add(args.name, role=args.role, groups=_csv(args.groups), sites=_csv(args.sites),
                              user_id=args.id)
        _print({"user": user.to_dict(), "api_key": key,
                "note": "the key is shown once and only its hash is stored"}, args.json)
    elif args.users_command == "list":
        _print([u.to_dict() for u in store.list(include_revoked=args.all)], args.json)
    elif args.users_command == "revoke":
        _print({"revoked": args.user_id, "keys_revoked": store.revoke(args.user_id)}, args.json)
    elif args.users_command == "key":
        _print({"user": args.user_id, "api_key": store.issue_key(args.user_id)}, args.json)
    return 0


def _csv(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def _add_users_commands(sub: Any) -> None:
    from copilot.api.users import ROLES

    p = sub.add_parser("users", help="service users and API keys (stored hashed)")
    us = p.add_subparsers(dest="users_command", required=True)
    a = us.add_parser("add", help="add a user; prints its API key once")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--groups", default="", help="comma-separated document ACL groups")
    a.add_argument("--sites", default="", help="comma-separated Odoo sites")
    a.add_argument("--id", default=None, help="user id (default: from the name)")
    ls = us.add_parser("list", help="list users")
    ls.add_argument("--all", action="store_true", help="include revoked users")
    r = us.add_parser("revoke", help="revoke a user and all its keys")
    r.add_argument("user_id")
    k = us.add_parser("key", help="issue another API key for a user (rotation)")
    k.add_argument("user_id")
    for sp in (a, ls, r, k):
        sp.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_users)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from copilot.evals import runner

    result = runner.run(args.kind, args, settings)
    _print(result, bool(args.json))
    return 0


def cmd_odoo_replay(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from copilot.odoo_double.replay import run

    folder = Path(args.dir)
    if not (folder / "exchanges.jsonl").exists():
        raise ValidationError(f"{folder}: no exchanges.jsonl (a folder of real-Odoo recordings is expected)")
    _print(run(folder), bool(args.json))
    return 0


LEAST_PRIVILEGE_LOGIN = "copilot-sync-lp"


def cmd_odoo_check(args: argparse.Namespace, settings: Settings) -> int:
    from copilot.odoo.check import check
    from copilot.odoo.client import OdooClient, OdooConfig

    if not args.demo:
        _print(check(OdooClient(settings.odoo_config()).connect()), bool(args.json))
        return 0
    if settings.environment != "development":
        raise CopilotError("--demo is refused outside development", code="forbidden")
    import tempfile

    from copilot.demo.network import BOT_KEY, BOT_LOGIN, build_demo_network
    from copilot.odoo_double import Database, OdooDouble

    db = Database(version=args.odoo_version, path=str(Path(tempfile.mkdtemp()) / "odoo.sqlite"))
    build_demo_network(db, tickets=50)
    # a sync account with no Settings or Access Rights: an internal user who sees every document and device
    docs_admin = "documents.group_documents_system" if db.major >= 18 else "documents.group_documents_manager"
    lp = db.add_user(LEAST_PRIVILEGE_LOGIN, "", groups=["base.group_user", docs_admin,
                     "maintenance.group_equipment_manager"], name="Copilot Sync (LP)")
    db.add_api_key(lp, "demo-key-lp")
    db.commit()
    out: dict[str, Any] = {}
    with OdooDouble(db) as double:
        for login, key in ((BOT_LOGIN, BOT_KEY), (LEAST_PRIVILEGE_LOGIN, "demo-key-lp")):
            cfg = OdooConfig(url=double.url, db=db.name, login=login, api_key=key, transport="auto")
            out[login] = check(OdooClient(cfg).connect())
    _print(out, bool(args.json))
    return 0


def cmd_triage(args: argparse.Namespace, settings: Settings) -> int:
    """``copilot triage train|sync|suggest|card``: the server need not run (the queue lives in the database)."""
    from copilot.app import build_copilot

    double = None
    if getattr(args, "demo", False):
        if settings.environment != "development":
            raise CopilotError("--demo is refused outside development", code="forbidden")
        from copilot.app import start_demo_odoo

        settings, double = start_demo_odoo(settings)
    try:
        with build_copilot(settings) as cp:
            svc = cp.triage
            if args.triage_cmd == "train":
                if args.csv:
                    labels = dict(kv.split("=", 1) for kv in _csv(args.labels)) if args.labels else {}
                    if not labels:
                        raise ValidationError("--csv needs --labels target=column[,target=column]")
                    card = svc.train_from_csv(Path(args.csv), labels)
                else:
                    card = svc.train_from_odoo(since=args.since, until=args.until)
                out: Any = {k: card[k] for k in ("version", "tickets", "window", "source", "seconds")} | {
                    "targets": {n: {"chosen": t["chosen"], "cv": t["cv"], "ece_after": t["ece_after"],
                                    "classes": len(t["classes"]),
                                    "auto_apply_classes": sum(x["threshold"] is not None for x in t["thresholds"])}
                                for n, t in card["targets"].items()},
                    "derived": {k: {"from": v["from"], "purity": v["purity"]} for k, v in card["derived"].items()},
                    "card": str(svc.models.models_dir / card["version"] / "card.md"),
                }
            elif args.triage_cmd == "sync":
                from copilot.triage.sync import run_sync

                out = run_sync(svc, cp.executor, backlog=args.backlog)
            elif args.triage_cmd == "suggest":
                out = svc.suggest([(args.subject, args.body)])[0]
            else:
                out = svc.models.load()[1].card
            _print(out, bool(args.json))
    finally:
        if double is not None:
            double.stop()
    return 0


def cmd_redact(args: argparse.Namespace, settings: Settings) -> int:
    from copilot.ingest.redaction import build_redactor, redact_jsonl

    redactor = build_redactor(settings)
    redactor.warm_up()
    # Bytes in: a line that is not UTF-8 gets its own typed error instead of ending the run.
    src = sys.stdin.buffer if args.jsonl == "-" else open(args.jsonl, "rb")  # noqa: SIM115
    try:
        redact_jsonl(src, sys.stdout, redactor, profile=args.profile)
    finally:
        if src is not sys.stdin.buffer:
            src.close()
        close = getattr(redactor, "close", None)
        if callable(close):
            close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="copilot", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="ingest a folder of documents")
    s.add_argument("path")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("status", help="document and chunk counts, failures with reasons, progress per worker")
    s.add_argument("--json", action="store_true")
    s.add_argument("--documents", action="store_true", help="every document's state, worker and reason")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("worker", help="scale-out ingestion worker: one task per document from COPILOT_BROKER_URL")
    s.add_argument("--name", default=None, help="worker name shown in `copilot status` (default: copilot-…@host)")
    s.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"])
    s.add_argument("--concurrency", type=int, default=1, help="tasks at once (each loads the models once)")
    s.add_argument("--loglevel", default="INFO")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("ask", help="ask a question; answers cite their sources")
    s.add_argument("question")
    s.add_argument("--groups", default="", help="comma-separated document groups of the asker")
    s.add_argument("--admin", action="store_true", help="ask as an administrator (sees every document)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("serve", help="serve the API (owns the index; runs ingestion jobs)")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    s.add_argument("--ingest", default=None, help="ingest this folder in the background after start-up")
    s.add_argument("--demo", action="store_true",
                   help="serve the demo hospital network from the Odoo protocol double and sync from it")
    s.add_argument("--sync-odoo", action="store_true", help="sync from COPILOT_ODOO_URL after start-up")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("eval", help="evaluations: retrieval, fusion, answers, redaction, PDF tables, triage, "
                       "multi-part splitting")
    s.add_argument("kind", choices=["retrieval", "fusion", "answers", "redaction", "tables", "triage", "summaries",
                                    "grounding", "agent", "parts"])
    s.add_argument("--dataset", default="demo")
    s.add_argument("--file", default=None,
                   help="retrieval: a SQuAD-format file; answers: a gold JSONL file (demo_qa.jsonl format)")
    s.add_argument("--corpus", default=None, help="answers --file: the folder its 'doc' paths are relative to "
                   "(ingested for the run; the demo corpus by default)")
    s.add_argument("--limit", type=int, default=None, help="at most this many questions")
    s.add_argument("--train", default=None, help="triage: a training CSV (title, body, label columns)")
    s.add_argument("--test", default=None, help="triage: a test CSV in the same layout")
    s.add_argument("--targets", default=None, help="triage: comma-separated label columns (default: all known)")
    s.add_argument("--seed", type=int, default=None, help="summaries: one seed (default: the test seeds 101-105)")
    s.add_argument("--dev", action="store_true", help="summaries: the development seeds 1-3")
    s.add_argument("--prompt-version", default=None,
                   help="answers (a model configured): the prompts/answer version to score, e.g. v1")
    s.add_argument("--compare", default=None, help="answers: a second prompts/answer version, side by side")
    s.add_argument("--split", choices=["train", "test", "dev", "dev-b", "holdout"], default=None,
                   help="answers --dataset demo-staff: ask only this split (develop on 'train'); "
                   "--dataset demo-staff2: dev or test; "
                   "parts: dev (the default, misses listed) or test; redaction --dataset physionet-dev: score "
                   "only this part (dev, dev-b or holdout; default: all three, holdout first)")
    s.add_argument("--leave-out", action="store_true",
                   help="agent --file: refit the router's classifier without that file's lines first "
                        "(a retired set scored leave-one-set-out)")
    s.add_argument("--calibrate", action="store_true",
                   help="answers: refit the abstention calibration on the training questions (never 'test')")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("odoo", help="Odoo tools: replay real-Odoo recordings against the protocol double")
    osub = s.add_subparsers(dest="odoo_cmd", required=True)
    r = osub.add_parser("replay", help="replay DIR/exchanges.jsonl against a double seeded from DIR; "
                        "prints passed/total per group")
    r.add_argument("dir", help="a recordings folder, e.g. ../shared/odoo_recordings/odoo19")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_odoo_replay)
    c = osub.add_parser("check", help="what the configured Odoo account can and cannot read, per source, "
                        "with the groups that would close each gap")
    c.add_argument("--demo", action="store_true",
                   help="check the demo network's sync bot and a least-privilege account (development only)")
    c.add_argument("--version", dest="odoo_version", default="19.0", help="--demo: the Odoo version served")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_odoo_check)

    s = sub.add_parser("redact", help="redact JSON lines {\"text\": ...} from FILE (or - for stdin)")
    s.add_argument("--jsonl", required=True)
    s.add_argument(
        "--profile",
        choices=["auto", "clinical", "operational"],
        default=None,
        help="clinical narrative, operational documents, or auto (each text decides; the default)",
    )
    s.set_defaults(func=cmd_redact)

    s = sub.add_parser("triage", help="helpdesk triage: train from Odoo history or a CSV, sync, suggest")
    tsub = s.add_subparsers(dest="triage_cmd", required=True)
    t = tsub.add_parser("train", help="train and version a model (closed tickets in a window, or a CSV)")
    t.add_argument("--since", default=None, help="created on or after this date (YYYY-MM-DD)")
    t.add_argument("--until", default=None, help="created before this date")
    t.add_argument("--csv", default=None, help="train from a CSV with title, body and label columns instead")
    t.add_argument("--labels", default=None, help="--csv: target=column pairs, e.g. category=category")
    y = tsub.add_parser("sync", help="suggest for new and changed open tickets; apply or queue per the policy")
    y.add_argument("--backlog", action="store_true", help="every open ticket, not only those changed since")
    g = tsub.add_parser("suggest", help="a suggestion for one ticket's text")
    g.add_argument("--subject", default="")
    g.add_argument("--body", default="")
    c = tsub.add_parser("card", help="the current model's card")
    for sp in (t, y, g, c):
        sp.add_argument("--json", action="store_true")
        sp.add_argument("--demo", action="store_true", help="against the demo network's Odoo double")
    s.set_defaults(func=cmd_triage)

    _add_users_commands(sub)

    from copilot.governance.cli import add_approvals_commands, add_audit_commands

    add_approvals_commands(sub)
    add_audit_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    # Before torch loads: spinning OpenMP threads steal the core the ingest prepare thread needs (35% CPU/page
    # measured by bench/ingest.py); offline model loading only.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    if getattr(args, "host", "unset") is None:
        args.host = settings.host
    if getattr(args, "port", "unset") is None:
        args.port = settings.port
    try:
        if hasattr(args, "handler"):  # governance commands: they need the executor, audit log and approvals
            from copilot.app import build_copilot

            with build_copilot(settings) as cp:
                return int(args.handler(args, cp) or 0)
        return int(args.func(args, settings) or 0)
    except CopilotError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
