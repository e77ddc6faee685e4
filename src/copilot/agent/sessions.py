"""Conversation memory per user session, in the database (``0005_conversations``), so a clarifying question is
answered by the next turn even after a restart, and a user can only resume their own session.

Turn text is stored redacted (the caller passes the executor's redactor); the state holds the pending question,
the intent it belongs to and the slots gathered so far — never a tool result.

Usage::

    store = ConversationStore(engine)
    conv = store.open("s-1", alice.id, agent="router")    # NotFoundError if s-1 belongs to someone else
    conv.state["pending"] = {...}
    store.save(conv, request_id="r-1", user_text="order gloves", reply_text="For which site?", intent="...")
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, text

from copilot.errors import NotFoundError, ValidationError

MAX_SESSION_ID = 64


@dataclass
class Conversation:
    id: str
    principal_id: str
    agent: str
    state: dict[str, Any] = field(default_factory=dict)
    turns: int = 0
    new: bool = True


class SessionStore(Protocol):
    def open(self, session_id: str, principal_id: str, *, agent: str) -> Conversation: ...

    def save(self, conv: Conversation, *, request_id: str, user_text: str, reply_text: str,
             intent: str | None) -> None: ...


def _check_id(session_id: str) -> None:
    if not session_id or len(session_id) > MAX_SESSION_ID or not all(c.isalnum() or c in "-_" for c in session_id):
        raise ValidationError("session_id: 1-64 letters, digits, '-' or '_'", code="invalid_session")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ConversationStore:
    """SQL-backed :class:`SessionStore` (SQLite or PostgreSQL, the app's engine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(self, session_id: str, principal_id: str, *, agent: str) -> Conversation:
        _check_id(session_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                text("SELECT principal_id, agent, state_json, turns FROM conversations WHERE id = :id"),
                {"id": session_id},
            ).first()
        if row is None:
            return Conversation(session_id, principal_id, agent)
        if row[0] != principal_id:
            # the same answer as for a session that does not exist: no probing other users' session ids
            raise NotFoundError("no such conversation", code="session_not_found")
        return Conversation(session_id, principal_id, str(row[1]), json.loads(row[2] or "{}"), int(row[3]), False)

    def save(self, conv: Conversation, *, request_id: str, user_text: str, reply_text: str,
             intent: str | None) -> None:
        now = _now()
        state = json.dumps(conv.state, ensure_ascii=False, default=str)
        with self.engine.begin() as conn:
            if conv.new:
                conn.execute(
                    text("INSERT INTO conversations (id, principal_id, agent, state_json, turns, created_at, "
                         "updated_at) VALUES (:id, :p, :a, :s, 1, :now, :now)"),
                    {"id": conv.id, "p": conv.principal_id, "a": conv.agent, "s": state, "now": now},
                )
            else:
                updated = conn.execute(
                    text("UPDATE conversations SET state_json = :s, turns = turns + 1, updated_at = :now "
                         "WHERE id = :id AND principal_id = :p"),
                    {"id": conv.id, "p": conv.principal_id, "s": state, "now": now},
                ).rowcount
                if updated != 1:
                    raise NotFoundError("no such conversation", code="session_not_found")
            for role, body, it in (("user", user_text, intent), ("assistant", reply_text, None)):
                conn.execute(
                    text("INSERT INTO conversation_turns (conversation_id, request_id, role, text, intent, "
                         "created_at) VALUES (:c, :r, :role, :t, :i, :now)"),
                    {"c": conv.id, "r": request_id, "role": role, "t": body, "i": it, "now": now},
                )
        conv.new = False
        conv.turns += 1

    def turns(self, session_id: str, principal_id: str) -> list[dict[str, Any]]:
        """A session's turns, oldest first (only its owner's)."""
        self.open(session_id, principal_id, agent="")
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT t.request_id, t.role, t.text, t.intent, t.created_at FROM conversation_turns t "
                     "JOIN conversations c ON c.id = t.conversation_id WHERE c.id = :id AND c.principal_id = :p "
                     "ORDER BY t.id"),
                {"id": session_id, "p": principal_id},
            ).all()
        return [dict(zip(("request_id", "role", "text", "intent", "created_at"), r, strict=True)) for r in rows]


class MemorySessionStore:
    """In-process :class:`SessionStore` for tests and the bench (same ownership rule)."""

    def __init__(self) -> None:
        self._rows: dict[str, Conversation] = {}
        self._lock = threading.Lock()
        self.log: list[tuple[str, str, str]] = []

    def open(self, session_id: str, principal_id: str, *, agent: str) -> Conversation:
        _check_id(session_id)
        with self._lock:
            conv = self._rows.get(session_id)
            if conv is None:
                return Conversation(session_id, principal_id, agent)
            if conv.principal_id != principal_id:
                raise NotFoundError("no such conversation", code="session_not_found")
            return Conversation(conv.id, conv.principal_id, conv.agent, json.loads(json.dumps(conv.state)),
                                conv.turns, False)

    def save(self, conv: Conversation, *, request_id: str, user_text: str, reply_text: str,
             intent: str | None) -> None:
        with self._lock:
            conv.new = False
            conv.turns += 1
            self._rows[conv.id] = Conversation(conv.id, conv.principal_id, conv.agent,
                                               json.loads(json.dumps(conv.state, default=str)), conv.turns, False)
            self.log.append((conv.id, user_text, reply_text))
