"""Service users and their API keys, stored hashed.

An API key is ``cpk_<key id>_<secret>``: the key id finds the row, the secret (256 random bits) is compared
by its sha256 — a fast hash is right for a random secret, and the key is printed once and never stored.
Demo users also get a scrypt password hash; the sign-in route refuses passwords outside development.

Usage::

    store = UserStore(engine)
    user, key = store.add("Nina Okafor", role="staff", groups=("all_staff", "nursing"))
    store.authenticate_key(key).principal()   # -> Principal(id=user.id, role="staff", ...)
    store.revoke(user.id)
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Engine, ForeignKey, Integer, MetaData, SmallInteger, String, Table, Text, select

from copilot.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from copilot.governance.principal import Principal

ROLES = ("staff", "helpdesk_agent", "biomed_engineer", "executive", "compliance", "admin")
KEY_PREFIX = "cpk_"
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

metadata = MetaData()
users = Table(
    "users", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("groups", Text, nullable=False, server_default=""),
    Column("sites", Text, nullable=False, server_default=""),
    Column("password_hash", String(256)),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
)
api_keys = Table(
    "api_keys", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
)
answer_feedback = Table(
    "answer_feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", String(32), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("principal_id", String(200), nullable=False),
    Column("rating", SmallInteger, nullable=False),
    Column("comment", Text),
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${dk.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt_hex, _ = stored.split("$", 2)
    return hmac.compare_digest(hash_password(password, salt=bytes.fromhex(salt_hex)), stored)


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    groups: tuple[str, ...]
    sites: tuple[str, ...]
    created_at: str
    revoked_at: str | None = None
    has_password: bool = False

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def principal(self) -> Principal:
        return Principal(id=self.id, name=self.name, role=self.role, groups=self.groups, sites=self.sites)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "role": self.role, "groups": list(self.groups),
                "sites": list(self.sites), "created_at": self.created_at, "revoked_at": self.revoked_at}


def _split(text: str) -> tuple[str, ...]:
    return tuple(x for x in text.split(",") if x)


def _user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(id=m["id"], name=m["name"], role=m["role"], groups=_split(m["groups"]), sites=_split(m["sites"]),
                created_at=m["created_at"], revoked_at=m["revoked_at"], has_password=bool(m["password_hash"]))


class UserStore:
    """Users and API keys in the Copilot database (tables from migration ``0003_users``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, *, role: str, groups: tuple[str, ...] = (), sites: tuple[str, ...] = (),
            user_id: str | None = None, password: str | None = None) -> tuple[User, str]:
        """Create a user and its first API key; the key is returned once and only its hash is kept."""
        if role not in ROLES:
            raise ValidationError(f"unknown role {role!r}; one of {', '.join(ROLES)}", code="bad_role")
        uid = user_id or re.sub(r"[^a-z0-9._-]+", ".", name.lower()).strip(".")[:64]
        if not _ID.match(uid):
            raise ValidationError("user id must be lowercase letters, digits, '.', '_' or '-'", code="bad_user")
        bad = [g for g in (*groups, *sites) if not _ID.match(g) and not (g == "*" and g in sites)]
        if bad:
            raise ValidationError("groups and sites must be lowercase identifiers", code="bad_group")
        user = User(id=uid, name=name, role=role, groups=tuple(groups), sites=tuple(sites), created_at=_now())
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.id == uid)).first() is not None:
                raise ConflictError(f"user {uid} exists", code="user_exists")
            conn.execute(users.insert().values(
                id=uid, name=name, role=role, groups=",".join(groups), sites=",".join(sites),
                password_hash=hash_password(password) if password else None, created_at=user.created_at))
            key = self._new_key(conn, uid)
        return user, key

    def _new_key(self, conn: object, user_id: str) -> str:
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        conn.execute(api_keys.insert().values(  # type: ignore[attr-defined]
            key_id=key_id, user_id=user_id, secret_sha256=_sha256(secret), created_at=_now()))
        return f"{KEY_PREFIX}{key_id}_{secret}"

    def issue_key(self, user_id: str) -> str:
        """Another key for an existing, active user (key rotation)."""
        self.get(user_id, active=True)
        with self.engine.begin() as conn:
            return self._new_key(conn, user_id)

    def get(self, user_id: str, *, active: bool = False) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None or (active and row._mapping["revoked_at"] is not None):
            raise NotFoundError("no such user", code="user_not_found")
        return _user(row)

    def list(self, *, include_revoked: bool = False) -> list[User]:
        q = select(users).order_by(users.c.id)
        if not include_revoked:
            q = q.where(users.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(q)]

    def revoke(self, user_id: str) -> int:
        """Revoke a user and every key it holds; returns the number of keys revoked."""
        now = _now()
        with self.engine.begin() as conn:
            n = conn.execute(users.update().where(users.c.id == user_id, users.c.revoked_at.is_(None))
                             .values(revoked_at=now)).rowcount
            if not n:
                raise NotFoundError("no such active user", code="user_not_found")
            return int(conn.execute(api_keys.update().where(api_keys.c.user_id == user_id,
                                                            api_keys.c.revoked_at.is_(None))
                                    .values(revoked_at=now)).rowcount)

    def set_groups(self, user_id: str, groups: tuple[str, ...]) -> None:
        """Replace a user's document ACL groups (e.g. resolved from Odoo for the same login)."""
        if any(not _ID.match(g) for g in groups):
            raise ValidationError("groups must be lowercase identifiers", code="bad_group")
        with self.engine.begin() as conn:
            if not conn.execute(users.update().where(users.c.id == user_id).values(groups=",".join(groups))).rowcount:
                raise NotFoundError("no such user", code="user_not_found")

    def authenticate_key(self, key: str) -> User:
        """The active user holding ``key``; :class:`AuthenticationError` for anything else."""
        if not key.startswith(KEY_PREFIX) or key.count("_") < 2:
            raise AuthenticationError("invalid API key")
        key_id, secret = key[len(KEY_PREFIX):].split("_", 1)
        q = (select(api_keys.c.secret_sha256, api_keys.c.revoked_at.label("key_revoked_at"), users)
             .join(users, users.c.id == api_keys.c.user_id).where(api_keys.c.key_id == key_id))
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None or not hmac.compare_digest(row._mapping["secret_sha256"], _sha256(secret)):
            raise AuthenticationError("invalid API key")
        if row._mapping["key_revoked_at"] is not None:
            raise AuthenticationError("API key revoked")
        user = _user(row)
        if not user.active:
            raise AuthenticationError("user revoked")
        return user

    def authenticate_password(self, user_id: str, password: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None or not check_password(password, row._mapping["password_hash"]):
            raise AuthenticationError("wrong user or password")
        user = _user(row)
        if not user.active:
            raise AuthenticationError("user revoked")
        return user

    def add_feedback(self, request_id: str, principal_id: str, rating: int, comment: str | None) -> int:
        with self.engine.begin() as conn:
            res = conn.execute(answer_feedback.insert().values(
                ts=_now(), request_id=request_id, principal_id=principal_id, rating=rating, comment=comment))
            return int(res.inserted_primary_key[0])  # type: ignore[index]

    def feedback(self, limit: int = 1000) -> builtins.list[dict[str, object]]:
        q = select(answer_feedback).order_by(answer_feedback.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]
