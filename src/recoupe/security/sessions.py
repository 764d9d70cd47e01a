"""Browser login sessions, kept server side in ``WORKSPACE/security.db``.

- A session id is 32 random bytes, sent in an HttpOnly, Secure, SameSite=Strict cookie.
  Only its HMAC under the server secret is stored: a copy of the database opens nothing.
- Every login makes a new id and ends the session the browser came with, so an id planted
  before login (session fixation) never becomes a logged-in session.
- The CSRF token is an HMAC of the session id under the secret, sent in a cookie that pages
  can read; requests that change something echo it in ``X-CSRF-Token``. A site that cannot
  read the cookie cannot forge the header, and a token is worthless with another session.
- Sessions end after :data:`IDLE` without use, after :data:`LIFETIME` in any case, at
  logout, and when the account is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from recoupe.security.sqlite import SQLiteFile

DDL = """
CREATE TABLE IF NOT EXISTS sessions (
    session_mac TEXT PRIMARY KEY, login TEXT NOT NULL, origin TEXT, created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL, expires_at TEXT NOT NULL, ended_at TEXT
);
"""
IDLE = timedelta(hours=2)
LIFETIME = timedelta(hours=12)
SESSION_COOKIE = "recoupe_session"
CSRF_COOKIE = "recoupe_csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    session_id: str
    login: str
    csrf: str


class Sessions(SQLiteFile):
    """The login sessions of one workspace, keyed by the server secret."""

    def __init__(self, path: Path, secret: bytes) -> None:
        super().__init__(path, DDL)
        self._secret = secret

    def _mac(self, purpose: str, session_id: str) -> str:
        message = f"{purpose}:{session_id}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def csrf_token(self, session_id: str) -> str:
        return self._mac("csrf", session_id)

    def check_csrf(self, session_id: str, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(self.csrf_token(session_id), sent)

    def start(self, login: str, origin: str, replacing: str | None = None) -> Session:
        """A new session for ``login``; the one in ``replacing`` (if any) ends."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._tx() as con:
            if replacing:
                con.execute(
                    "UPDATE sessions SET ended_at = ? WHERE session_mac = ?",
                    [now.isoformat(), self._mac("session", replacing)],
                )
            con.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [
                    self._mac("session", session_id),
                    login,
                    origin,
                    now.isoformat(),
                    now.isoformat(),
                    (now + LIFETIME).isoformat(),
                ],
            )
        return Session(session_id, login, self.csrf_token(session_id))

    def login_of(self, session_id: str) -> str | None:
        """The login of a live session (and its idle clock restarts), or None."""
        now = datetime.now(UTC)
        with self._tx() as con:
            row = con.execute(
                "SELECT login, last_seen_at, expires_at, ended_at FROM sessions "
                "WHERE session_mac = ?",
                [self._mac("session", session_id)],
            ).fetchone()
            if row is None or row[3] is not None:
                return None
            if (
                datetime.fromisoformat(row[2]) <= now
                or datetime.fromisoformat(row[1]) + IDLE <= now
            ):
                return None
            con.execute(
                "UPDATE sessions SET last_seen_at = ? WHERE session_mac = ?",
                [now.isoformat(), self._mac("session", session_id)],
            )
        login: str = row[0]
        return login

    def end(self, session_id: str) -> None:
        with self._tx() as con:
            con.execute(
                "UPDATE sessions SET ended_at = ? WHERE session_mac = ? AND ended_at IS NULL",
                [datetime.now(UTC).isoformat(), self._mac("session", session_id)],
            )

    def end_all(self, login: str) -> int:
        """End every session of ``login`` (account disabled, password changed)."""
        with self._tx() as con:
            return con.execute(
                "UPDATE sessions SET ended_at = ? WHERE login = ? AND ended_at IS NULL",
                [datetime.now(UTC).isoformat(), login],
            ).rowcount


class Throttle:
    """At most ``limit`` failed logins per client address in any ``window`` seconds.

    In memory, per server process: it slows guessing from one address; the account
    lock-out in :class:`~recoupe.security.identity.Identities` stops guessing one account
    from many addresses.
    """

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int:
        """Seconds until ``address`` may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(address)
            if failures is None:
                return 0
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) < self.limit:
                return 0
            return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, address: str) -> None:
        with self._lock:
            self._failures.setdefault(address, deque()).append(time.monotonic())
            if len(self._failures) > 100_000:  # bounded memory under a spray of addresses
                self._failures.pop(next(iter(self._failures)))
