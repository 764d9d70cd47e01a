"""The audit log: a hash chain plus a head anchor catch edits, deletions and reordering."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from recoupe.errors import ConfigError
from recoupe.security.audit import GENESIS, AuditLog, verify_export

COLUMNS = (
    "at, actor, origin, action, entities, datasets, query, results, justification, status, "
    "prev, hash"
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def log(path: Path) -> Iterator[AuditLog]:
    found = AuditLog(path)
    for n in range(1, 21):
        found.append(
            actor="alice" if n % 2 else "zoé",
            origin="10.0.0.7" if n % 3 else "local",
            action="search" if n % 4 else "entity.read",
            entities=[f"person-{n}"] if n % 4 == 0 else [],
            datasets=["sirene", "bodacc"],
            query=f"dupont {n}" if n % 4 else None,
            results=n,
            justification="enquête 2024-17" if n % 5 == 0 else None,
            status=200,
        )
    yield found
    found.close()


def tamper(path: Path, sql: str, *params: object) -> None:
    with closing(sqlite3.connect(path)) as con, con:
        con.execute(sql, params)


def test_an_intact_log_verifies(log: AuditLog, path: Path) -> None:
    verdict = log.verify()
    assert verdict.ok, verdict.reason
    assert (verdict.events, verdict.first_bad) == (20, None)
    events = log.events()
    assert [event.seq for event in events] == list(range(1, 21))
    assert events[0].prev == GENESIS
    assert all(later.prev == earlier.hash for earlier, later in pairwise(events))
    assert all(event.hash == event.digest() for event in events)
    assert events[3].entities == ("person-4",) and events[3].query is None
    assert events[1].actor == "zoé" and events[4].justification == "enquête 2024-17"
    assert events[2].origin == "local" and events[0].datasets == ("sirene", "bodacc")
    assert [event.seq for event in log.events(since=5, limit=3)] == [6, 7, 8]
    assert json.loads(path.with_name("audit.db.head").read_text()) == {
        "events": 20,
        "hash": events[-1].hash,
    }


def test_the_log_survives_reopening(log: AuditLog, path: Path) -> None:
    log.close()
    again = AuditLog(path)
    try:
        event = again.append(actor="bob", origin="local", action="export")
        assert event.seq == 21
        assert event.prev == again.events(since=19)[0].hash
        assert again.verify().ok
    finally:
        again.close()


def test_an_edited_event_is_named(log: AuditLog, path: Path) -> None:
    tamper(path, "UPDATE audit SET actor = 'mallory' WHERE seq = 7")
    verdict = log.verify()
    assert not verdict.ok
    assert verdict.first_bad == 7
    assert verdict.reason == "event 7: its hash does not match its contents (edited)"


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(log: AuditLog, path: Path) -> None:
    forged = replace(log.events(since=6, limit=1)[0], actor="mallory")
    tamper(path, "UPDATE audit SET actor = ?, hash = ? WHERE seq = 7", "mallory", forged.digest())
    verdict = log.verify()
    assert not verdict.ok
    assert verdict.first_bad == 8
    assert verdict.reason == "event 8: prev does not match event 7 (reordered or replaced)"


def test_a_deleted_event_is_named(log: AuditLog, path: Path) -> None:
    tamper(path, "DELETE FROM audit WHERE seq = 5")
    verdict = log.verify()
    assert not verdict.ok
    assert (verdict.first_bad, verdict.events) == (5, 4)
    assert verdict.reason == "event 5 is missing (deleted)"


def test_swapped_events_are_named(log: AuditLog, path: Path) -> None:
    with closing(sqlite3.connect(path)) as con, con:
        nine, ten = (
            con.execute(f"SELECT {COLUMNS} FROM audit WHERE seq = ?", (seq,)).fetchone()
            for seq in (9, 10)
        )
        assign = ", ".join(f"{column.strip()} = ?" for column in COLUMNS.split(","))
        con.execute(f"UPDATE audit SET {assign} WHERE seq = 9", ten)
        con.execute(f"UPDATE audit SET {assign} WHERE seq = 10", nine)
    verdict = log.verify()
    assert not verdict.ok
    assert verdict.first_bad == 9
    assert verdict.reason == "event 9: prev does not match event 8 (reordered or replaced)"


def test_a_cut_tail_is_caught_by_the_head_table(log: AuditLog, path: Path) -> None:
    tamper(path, "DELETE FROM audit WHERE seq > 17")
    verdict = log.verify()
    assert not verdict.ok
    assert (verdict.events, verdict.first_bad) == (17, 18)
    assert verdict.reason == (
        "the log ends at event 17 but its head records 20 events (events deleted from the end)"
    )


def test_a_cut_tail_with_a_rewritten_head_is_caught_by_the_sidecar(
    log: AuditLog, path: Path
) -> None:
    last = log.events(since=16, limit=1)[0]
    tamper(path, "DELETE FROM audit WHERE seq > 17")
    tamper(path, "UPDATE audit_head SET events = 17, hash = ?", last.hash)
    verdict = log.verify()
    assert not verdict.ok
    assert (verdict.events, verdict.first_bad) == (17, 18)
    assert "audit.db.head records 20 events (events deleted from the end)" in verdict.reason


def test_a_missing_sidecar_fails(log: AuditLog, path: Path) -> None:
    path.with_name("audit.db.head").unlink()
    verdict = log.verify()
    assert not verdict.ok
    assert "audit.db.head is missing or unreadable" in verdict.reason


def test_concurrent_appends_stay_contiguous(path: Path) -> None:
    logs = [AuditLog(path), AuditLog(path)]  # two instances stand for two processes
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(50):
                logs[worker % 2].append(actor=f"user{worker}", origin="local", action=f"a{n}")
        except BaseException as exc:  # reported below, threads would swallow it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        events = logs[0].events()
        assert [event.seq for event in events] == list(range(1, 201))
        assert Counter(event.actor for event in events) == {f"user{w}": 50 for w in range(4)}
        verdict = logs[1].verify()
        assert verdict.ok, verdict.reason
        assert verdict.events == 200
    finally:
        for found in logs:
            found.close()


def test_an_export_reverifies(log: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    assert log.export(out) == 20
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20
    assert json.loads(lines[0])["prev"] == GENESIS
    verdict = verify_export(out)
    assert verdict.ok, verdict.reason
    assert verdict.events == 20

    record = json.loads(lines[3])
    record["results"] = 0
    lines[3] = json.dumps(record, ensure_ascii=False)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    verdict = verify_export(out)
    assert not verdict.ok
    assert verdict.first_bad == 4
    assert verdict.reason == "event 4: its hash does not match its contents (edited)"


def test_a_malformed_export_names_the_line(log: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    log.export(out)
    lines = out.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:-5]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"audit\.jsonl, line 3: not valid JSON"):
        verify_export(out)
