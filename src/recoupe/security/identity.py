"""Local accounts and API tokens, in ``WORKSPACE/security.db`` (SQLite).

- Passwords are kept as argon2id hashes (argon2-cffi's defaults, RFC 9106's second
  recommended profile); a login that fails too often in a row is locked for a while.
- API tokens read ``rcp_<id>_<secret>``. Only the SHA-256 of the secret is stored: the
  secret is 32 random bytes, so a fast hash is enough and a stolen database yields no
  usable token. Tokens expire, can be revoked, and carry scopes narrower than the role.

SQLite, not the DuckDB store, holds identities so that administrators can manage accounts
while a server holds the store, and so that several processes may use it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from recoupe.errors import ConfigError, NotFound
from recoupe.security.markings import Scale, compartment
from recoupe.security.reader import ROLES, Reader
from recoupe.security.sqlite import SQLiteFile

if TYPE_CHECKING:
    from recoupe.security.directory import Directory

DDL = """
CREATE TABLE IF NOT EXISTS users (
    login TEXT PRIMARY KEY, display_name TEXT, password_hash TEXT, roles TEXT NOT NULL,
    clearance TEXT NOT NULL, compartments TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0, locked_until TEXT, created_at TEXT NOT NULL,
    auth TEXT NOT NULL DEFAULT 'local'
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY, login TEXT NOT NULL REFERENCES users(login),
    secret_sha256 TEXT NOT NULL, scopes TEXT NOT NULL, label TEXT, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, revoked_at TEXT, last_used_at TEXT
);
"""
SCOPES = ("read", "write", "admin", "audit")
_ROLE_SCOPES = {
    "viewer": {"read"},
    "analyst": {"read", "write"},
    "auditor": {"audit"},
    "admin": {"read", "write", "admin", "audit"},
}
MAX_FAILURES = 5
LOCK_MINUTES = 15
_LOGIN_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")


@dataclass(frozen=True)
class User:
    login: str
    display_name: str | None
    roles: frozenset[str]
    clearance: str
    compartments: frozenset[str]
    disabled: bool
    auth: str = "local"

    def to_dict(self) -> dict[str, object]:
        return {
            "login": self.login,
            "display_name": self.display_name,
            "roles": sorted(self.roles),
            "clearance": self.clearance,
            "compartments": sorted(self.compartments),
            "disabled": self.disabled,
            "auth": self.auth,
        }


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the user, the scopes of the credential, its reader."""

    user: User
    scopes: frozenset[str]
    reader: Reader
    token_id: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _login(login: str) -> str:
    if not login or len(login) > 64 or not set(login) <= _LOGIN_CHARS:
        raise ConfigError(
            f"login {login!r}: use lower-case letters, digits, '.', '_', '-' or '@' (up to 64)"
        )
    return login


class Identities(SQLiteFile):
    """Accounts and tokens of one workspace.

    ``directory`` checks the passwords of accounts made with ``directory=True`` (LDAP).
    """

    def __init__(self, path: Path, scale: Scale, directory: Directory | None = None) -> None:
        super().__init__(path, DDL)
        self.scale = scale
        self.directory = directory
        self._hasher = PasswordHasher()
        columns = {r[1] for r in self._tx_open().execute("PRAGMA table_info(users)")}
        if "auth" not in columns:  # security.db files made before directory login
            self._tx_open().execute(
                "ALTER TABLE users ADD COLUMN auth TEXT NOT NULL DEFAULT 'local'"
            )

    # -- accounts -------------------------------------------------------------------------
    def add_user(
        self,
        login: str,
        *,
        roles: Sequence[str],
        clearance: str,
        compartments: Sequence[str] = (),
        password: str | None = None,
        display_name: str | None = None,
        directory: bool = False,
    ) -> User:
        """A new account; ``directory=True`` has its password checked by the directory."""
        login = _login(login)
        if directory and password is not None:
            raise ConfigError(f"user {login!r}: a directory account has no local password")
        for role in roles:
            if role not in ROLES:
                raise ConfigError(f"--role {role!r}: choose among {', '.join(ROLES)}")
        if not roles:
            raise ConfigError("--role: give at least one role")
        level = self.scale.level(clearance).code
        comps = sorted({compartment(c) for c in compartments})
        hashed = self._hash(password) if password is not None else None
        with self._tx() as con:
            if con.execute("SELECT 1 FROM users WHERE login = ?", [login]).fetchone():
                raise ConfigError(f"user {login!r} exists already")
            con.execute(
                "INSERT INTO users (login, display_name, password_hash, roles, clearance, "
                "compartments, created_at, auth) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    login,
                    display_name,
                    hashed,
                    json.dumps(sorted(set(roles))),
                    level,
                    json.dumps(comps),
                    _now().isoformat(),
                    "directory" if directory else "local",
                ],
            )
        return self.user(login)

    def _hash(self, password: str) -> str:
        if len(password) < 12:
            raise ConfigError("password: use at least 12 characters")
        return self._hasher.hash(password)

    def set_password(self, login: str, password: str) -> None:
        hashed = self._hash(password)
        with self._tx() as con:
            self._require(con, login)
            con.execute("UPDATE users SET password_hash = ? WHERE login = ?", [hashed, login])

    def disable(self, login: str) -> None:
        """Disable an account and revoke every token of it."""
        with self._tx() as con:
            self._require(con, login)
            con.execute("UPDATE users SET disabled = 1 WHERE login = ?", [login])
            con.execute(
                "UPDATE tokens SET revoked_at = ? WHERE login = ? AND revoked_at IS NULL",
                [_now().isoformat(), login],
            )

    def _require(self, con: sqlite3.Connection, login: str) -> None:
        if con.execute("SELECT 1 FROM users WHERE login = ?", [login]).fetchone() is None:
            raise NotFound(f"no user {login!r}")

    _USER_COLUMNS = "login, display_name, roles, clearance, compartments, disabled, auth"

    def _users(self, where: str = "", params: Sequence[str] = ()) -> list[User]:
        """Accounts as records, read without taking the write lock."""
        rows = (
            self._tx_open()
            .execute(f"SELECT {self._USER_COLUMNS} FROM users {where} ORDER BY login", list(params))
            .fetchall()
        )
        return [
            User(
                r[0],
                r[1],
                frozenset(json.loads(r[2])),
                r[3],
                frozenset(json.loads(r[4])),
                bool(r[5]),
                r[6],
            )
            for r in rows
        ]

    def user(self, login: str) -> User:
        found = self._users("WHERE login = ?", [login])
        if not found:
            raise NotFound(f"no user {login!r}")
        return found[0]

    def users(self) -> list[User]:
        return self._users()

    def reader(self, user: User) -> Reader:
        return Reader(
            name=user.login,
            roles=user.roles,
            clearance=self.scale.level(user.clearance).rank,
            compartments=user.compartments,
            scale=self.scale,
        )

    def principal_of(self, login: str) -> Principal | None:
        """The principal of a logged-in account with every scope of its roles (None when
        the account is gone or disabled)."""
        found = self._users("WHERE login = ? AND disabled = 0", [login])
        return self._principal(found[0], frozenset(SCOPES), None) if found else None

    def _principal(self, user: User, scopes: frozenset[str], token: str | None) -> Principal:
        allowed = set().union(*(_ROLE_SCOPES[r] for r in user.roles))
        return Principal(user, scopes & frozenset(allowed), self.reader(user), token)

    # -- passwords ------------------------------------------------------------------------
    def check_password(self, login: str, password: str) -> Principal | None:
        """The principal when the password is right; counts failures and locks the account
        after :data:`MAX_FAILURES` in a row. The answer never says which part was wrong."""
        now = _now()
        row = (
            self._tx_open()
            .execute(
                "SELECT password_hash, disabled, locked_until, auth FROM users WHERE login = ?",
                [login],
            )
            .fetchone()
        )
        by_directory = row is not None and row[3] == "directory"
        if row is None or row[1] or (row[0] is None and not by_directory):
            self._hasher.hash("equal time for unknown accounts")
            return None
        if row[2] is not None and datetime.fromisoformat(row[2]) > now:
            return None
        # The check runs outside the write lock: a slow directory must not stall others.
        right = self._verify(login, row[0], password, by_directory)
        with self._tx() as con:
            if not right:
                failures = con.execute(
                    "UPDATE users SET failed_logins = failed_logins + 1 WHERE login = ? "
                    "RETURNING failed_logins",
                    [login],
                ).fetchone()
                if failures is not None and failures[0] >= MAX_FAILURES:
                    until = now + timedelta(minutes=LOCK_MINUTES)
                    con.execute(
                        "UPDATE users SET locked_until = ?, failed_logins = 0 WHERE login = ?",
                        [until.isoformat(), login],
                    )
                return None
            con.execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE login = ?",
                [login],
            )
        user = self.user(login)
        return self._principal(user, frozenset(SCOPES), None)

    def _verify(self, login: str, hashed: str | None, password: str, by_directory: bool) -> bool:
        if by_directory:
            if self.directory is None:
                raise ConfigError(
                    f"user {login!r} logs in through the directory: set RECOUPE_LDAP_URL"
                )
            return self.directory.verify(login, password)
        try:
            return hashed is not None and self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    # -- tokens ---------------------------------------------------------------------------
    def issue_token(
        self,
        login: str,
        *,
        days: int = 90,
        scopes: Sequence[str] | None = None,
        label: str | None = None,
    ) -> str:
        """A new token for ``login`` (shown once; only its hash is kept)."""
        user = self.user(login)
        if user.disabled:
            raise ConfigError(f"user {login!r} is disabled")
        if not 1 <= days <= 366:
            raise ConfigError(f"--days {days}: a token lives from 1 to 366 days")
        wanted = set(scopes) if scopes else set(SCOPES)
        unknown = sorted(wanted - set(SCOPES))
        if unknown:
            raise ConfigError(f"--scope {unknown[0]!r}: choose among {', '.join(SCOPES)}")
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        now = _now()
        with self._tx() as con:
            con.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                [
                    token_id,
                    login,
                    hashlib.sha256(secret.encode()).hexdigest(),
                    json.dumps(sorted(wanted)),
                    label,
                    now.isoformat(),
                    (now + timedelta(days=days)).isoformat(),
                ],
            )
        return f"rcp_{token_id}_{secret}"

    def revoke_token(self, token_id: str) -> None:
        with self._tx() as con:
            done = con.execute(
                "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                [_now().isoformat(), token_id],
            ).rowcount
        if not done:
            raise NotFound(f"no live token {token_id!r}")

    def tokens(self, login: str | None = None) -> list[dict[str, object]]:
        where, params = ("WHERE login = ?", [login]) if login is not None else ("", [])
        rows = (
            self._tx_open()
            .execute(
                "SELECT token_id, login, scopes, label, created_at, expires_at, revoked_at, "
                f"last_used_at FROM tokens {where} ORDER BY created_at",
                params,
            )
            .fetchall()
        )
        keys = ("token_id", "login", "scopes", "label", "created", "expires", "revoked", "used")
        return [dict(zip(keys, (*r[:2], json.loads(r[2]), *r[3:]), strict=True)) for r in rows]

    def authenticate_token(self, token: str) -> Principal | None:
        """The principal of a live token, or None (unknown, expired, revoked, disabled)."""
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "rcp":
            return None
        token_id, secret = parts[1], "_".join(parts[2:])
        now = _now()
        with self._tx() as con:
            row = con.execute(
                "SELECT t.secret_sha256, t.scopes, t.expires_at, t.revoked_at, t.login, "
                "u.disabled FROM tokens t JOIN users u USING (login) WHERE token_id = ?",
                [token_id],
            ).fetchone()
            if row is None:
                return None
            digest = hashlib.sha256(secret.encode()).hexdigest()
            if not hmac.compare_digest(digest, row[0]):
                return None
            if row[3] is not None or row[5] or datetime.fromisoformat(row[2]) <= now:
                return None
            con.execute(
                "UPDATE tokens SET last_used_at = ? WHERE token_id = ?", [now.isoformat(), token_id]
            )
        return self._principal(self.user(row[4]), frozenset(json.loads(row[1])), token_id)
