"""A tamper-evident, append-only audit log in SQLite.

Each event is a row of table ``audit``, numbered ``seq`` from 1 without gaps. An event
carries ``prev``, the hash of the event before it (64 zeros for the first), and ``hash``,
the SHA-256 (hex) of ``prev`` followed by the canonical JSON of every other field (sorted
keys, no spaces, UTF-8). Editing an event breaks its hash; deleting, inserting or
reordering events breaks the ``seq`` numbering or a ``prev`` link.

A chain alone cannot show that events were cut off its end, so the log also keeps a head
anchor, ``(events, hash)`` of the last event, in two places: table ``audit_head``, updated
in the same transaction as the event, and a sidecar file ``<path>.head``, replaced
atomically while that transaction still holds the write lock. Someone who truncates the
table and rewrites ``audit_head`` still leaves the sidecar behind. For protection against
someone who controls the whole host, copy the sidecar or an :meth:`AuditLog.export`
elsewhere: an exported file carries ``seq``/``prev``/``hash`` and re-verifies with
:func:`verify_export`.

Appends take ``BEGIN IMMEDIATE``, so writers in several threads (one connection per
thread) or processes are serialised by SQLite itself (WAL mode, 10 s busy timeout).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recoupe.errors import ConfigError

GENESIS = "0" * 64
DDL = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, origin TEXT NOT NULL,
    action TEXT NOT NULL, entities TEXT NOT NULL, datasets TEXT NOT NULL, query TEXT,
    results INTEGER, justification TEXT, status INTEGER, prev TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (events INTEGER NOT NULL, hash TEXT NOT NULL);
"""


@dataclass(frozen=True)
class AuditEvent:
    """One audited action; ``hash`` seals every other field and the previous event."""

    seq: int
    at: str
    actor: str
    origin: str
    action: str
    entities: tuple[str, ...]
    datasets: tuple[str, ...]
    query: str | None
    results: int | None
    justification: str | None
    status: int | None
    prev: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["entities"] = list(self.entities)
        data["datasets"] = list(self.datasets)
        return data

    def digest(self) -> str:
        """The hash this event should carry, recomputed from its other fields."""
        body = {key: value for key, value in self.to_dict().items() if key != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256((self.prev + text).encode("utf-8")).hexdigest()


FIELDS = ", ".join(field.name for field in fields(AuditEvent))


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification: ``first_bad`` is the seq of the first bad event."""

    ok: bool
    events: int
    first_bad: int | None
    reason: str


def _row_event(row: tuple[Any, ...]) -> AuditEvent:
    seq, at, actor, origin, action, entities, datasets, *rest = row
    query, results, justification, status, prev, digest = rest
    return AuditEvent(
        seq, at, actor, origin, action, tuple(json.loads(entities)), tuple(json.loads(datasets)),
        query, results, justification, status, prev, digest,
    )  # fmt: skip


def _check_chain(events: Iterator[AuditEvent]) -> tuple[Verdict | None, int, str]:
    """Check numbering, links and hashes; return (failure or None, count, last hash)."""
    count, last = 0, GENESIS
    for event in events:
        expected = count + 1
        if event.seq < expected:
            why = f"event {event.seq} is out of sequence (inserted or duplicated)"
            return Verdict(False, count, event.seq, why), 0, ""
        if event.seq > expected:
            return Verdict(False, count, expected, f"event {expected} is missing (deleted)"), 0, ""
        if event.prev != last:
            before = f"event {count}" if count else "the genesis value"
            why = f"event {expected}: prev does not match {before} (reordered or replaced)"
            return Verdict(False, count, expected, why), 0, ""
        if event.digest() != event.hash:
            why = f"event {expected}: its hash does not match its contents (edited)"
            return Verdict(False, count, expected, why), 0, ""
        count, last = expected, event.hash
    return None, count, last


def _check_head(count: int, last: str, head: tuple[int, str], where: str) -> Verdict | None:
    events, digest = head
    if events > count:
        why = f"the log ends at event {count} but {where} records {events} events"
        return Verdict(False, count, count + 1, why + " (events deleted from the end)")
    if events < count:
        why = f"the log holds {count} events but {where} records only {events}"
        return Verdict(False, count, events + 1, why + " (head rolled back or events added)")
    if digest != last:
        why = f"event {count}: its hash does not match {where} (last event replaced)"
        return Verdict(False, count, count or None, why)
    return None


class AuditLog:
    """An append-only, hash-chained audit log in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.head_path = path.with_name(path.name + ".head")
        self._cons: dict[int, sqlite3.Connection] = {}
        self._lock = threading.Lock()
        self._con().executescript(DDL)
        with self._tx() as con:
            if con.execute("SELECT count(*) FROM audit_head").fetchone()[0] == 0:
                con.execute("INSERT INTO audit_head VALUES (0, ?)", (GENESIS,))
            events, digest = con.execute("SELECT events, hash FROM audit_head").fetchone()
            if events == 0 and not self.head_path.exists():
                self._write_head(0, digest)

    def _con(self) -> sqlite3.Connection:
        ident = threading.get_ident()
        with self._lock:
            con = self._cons.get(ident)
            if con is None:
                con = sqlite3.connect(
                    self.path, timeout=10, isolation_level=None, check_same_thread=False
                )
                con.execute("PRAGMA busy_timeout=10000")
                con.execute("PRAGMA journal_mode=WAL")
                self._cons[ident] = con
        return con

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        if con.in_transaction:
            con.execute("COMMIT")

    def _write_head(self, events: int, digest: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=self.head_path.name + ".", dir=self.head_path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"events": events, "hash": digest}, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.head_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def append(
        self,
        *,
        actor: str,
        origin: str,
        action: str,
        entities: Sequence[str] = (),
        datasets: Sequence[str] = (),
        query: str | None = None,
        results: int | None = None,
        justification: str | None = None,
        status: int | None = None,
    ) -> AuditEvent:
        """Record one event and return it, sealed."""
        with self._tx() as con:
            row = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
            at = datetime.now(UTC).isoformat(timespec="microseconds")
            draft = AuditEvent(
                seq, at, actor, origin, action, tuple(entities), tuple(datasets),
                query, results, justification, status, prev, "",
            )  # fmt: skip
            event = replace(draft, hash=draft.digest())
            values = event.to_dict()
            values["entities"] = json.dumps(values["entities"], ensure_ascii=False)
            values["datasets"] = json.dumps(values["datasets"], ensure_ascii=False)
            marks = ", ".join("?" * len(values))
            con.execute(f"INSERT INTO audit ({FIELDS}) VALUES ({marks})", tuple(values.values()))
            con.execute("UPDATE audit_head SET events = ?, hash = ?", (seq, event.hash))
            self._write_head(seq, event.hash)
            try:
                con.execute("COMMIT")
            except BaseException:
                self._write_head(seq - 1, prev)  # the event is not in the log: undo its anchor
                raise
        return event

    def events(self, *, since: int = 0, limit: int | None = None) -> list[AuditEvent]:
        """Events with ``seq > since``, oldest first, at most ``limit`` of them."""
        sql = f"SELECT {FIELDS} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?"
        rows = self._con().execute(sql, (since, -1 if limit is None else limit))
        return [_row_event(row) for row in rows]

    def recent(
        self, *, limit: int = 100, before: int | None = None, actor: str | None = None
    ) -> list[AuditEvent]:
        """The newest events first (of ``actor`` only, when given), with ``seq < before``."""
        where, args = ["seq < ?"], [before if before is not None else 2**62]
        if actor is not None:
            where.append("actor = ?")
            args.append(actor)  # type: ignore[arg-type]
        sql = f"SELECT {FIELDS} FROM audit WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?"
        rows = self._con().execute(sql, (*args, limit))
        return [_row_event(row) for row in rows]

    def verify(self) -> Verdict:
        """Check the whole chain, then the head table and the sidecar file."""
        with self._tx() as con:  # the write lock: no append runs halfway through
            rows = con.execute(f"SELECT {FIELDS} FROM audit ORDER BY seq")
            failure, count, last = _check_chain(_row_event(row) for row in rows)
            if failure is not None:
                return failure
            heads = con.execute("SELECT events, hash FROM audit_head").fetchall()
            if len(heads) != 1:
                return Verdict(False, count, None, f"audit_head holds {len(heads)} rows, not 1")
            failure = _check_head(count, last, tuple(heads[0]), "its head")
            if failure is not None:
                return failure
            try:
                side = json.loads(self.head_path.read_text(encoding="utf-8"))
                anchor = (int(side["events"]), str(side["hash"]))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                why = f"head file {self.head_path} is missing or unreadable ({exc})"
                return Verdict(False, count, None, why)
            failure = _check_head(count, last, anchor, f"its head file {self.head_path}")
            if failure is not None:
                return failure
        return Verdict(True, count, None, f"{count} events; chain and head intact")

    def export(self, out: Path) -> int:
        """Write every event as one JSON line to ``out``; return how many were written."""
        count = 0
        con = self._con()
        con.execute("BEGIN")  # one snapshot for the whole export
        try:
            with out.open("w", encoding="utf-8") as sink:
                for row in con.execute(f"SELECT {FIELDS} FROM audit ORDER BY seq"):
                    sink.write(json.dumps(_row_event(row).to_dict(), ensure_ascii=False) + "\n")
                    count += 1
        finally:
            con.execute("COMMIT")
        return count

    def close(self) -> None:
        """Close the connections of every thread; the file stays as it is."""
        with self._lock:
            for con in self._cons.values():
                con.close()
            self._cons.clear()


def _load_line(path: Path, number: int, line: str) -> AuditEvent:
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        data["entities"] = tuple(data["entities"])
        data["datasets"] = tuple(data["datasets"])
        return AuditEvent(**data)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path}, line {number}: not an audit event ({exc})") from exc


def verify_export(path: Path) -> Verdict:
    """Re-verify the chain of a file written by :meth:`AuditLog.export`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the audit export ({exc})") from exc
    events = (_load_line(path, n, line) for n, line in enumerate(lines, 1) if line.strip())
    failure, count, _ = _check_chain(events)
    if failure is not None:
        return failure
    return Verdict(True, count, None, f"{count} events; chain intact")
