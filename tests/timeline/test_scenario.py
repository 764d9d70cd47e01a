"""Against the scenario's source files: a subscriber's timeline shows every call of their lines."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from recoupe.ontology import entity_id
from recoupe.scenario import generate
from recoupe.security.reader import Reader
from recoupe.services.ingest import ingest_mapping
from recoupe.services.timeline import entity_timeline, events_histogram
from recoupe.store import DuckDBStore
from recoupe.store.timeline import timeline
from tests.places.crafted import Denying


def test_subscriber_timeline_matches_the_call_records(
    store: DuckDBStore, reader: Reader, tmp_path: Path
) -> None:
    summary = generate(tmp_path / "sc", scale=2000)
    for path in summary.mappings:
        ingest_mapping(store, path)
    truth = json.loads(summary.truth.read_text(encoding="utf-8"))
    member = next(p for p in truth["people"] if p["person"] == truth["cell"]["members"][0])
    subscriber = next(r["entity_id"] for r in member["records"] if r["dataset"] == "telecom")
    lines = {
        row[0]
        for row in store.con.execute(
            "SELECT s.value FROM statements o JOIN statements s ON s.entity_id = o.entity_id "
            "WHERE o.prop = 'owner' AND o.value = ? AND s.prop = 'number'",
            [subscriber],
        ).fetchall()
    }
    assert lines
    msisdns = {n.lstrip("+") for n in lines}
    with (tmp_path / "sc" / "telecom" / "calls.csv").open(encoding="utf-8") as f:
        calls = {
            r["call_id"]: r["start_time"]
            for r in csv.DictReader(f)
            if r["caller_msisdn"] in msisdns or r["callee_msisdn"] in msisdns
        }
    assert calls

    total, items = timeline(store, reader, subscriber, limit=10_000)
    assert total == len(items)
    found = [i for i in items if i.schema == "PhoneCall"]
    assert sorted(i.date for i in found) == sorted(calls.values())
    assert {i.event_id for i in found} == {entity_id("call", [c]) for c in calls}
    assert {i.subject for i in found} <= {entity_id("phone", [m]) for m in msisdns}
    assert [i.date for i in items] == sorted(i.date for i in items)

    months = Counter(d[:7] for d in calls.values())
    hist = events_histogram(store, reader, [subscriber], "month", by_schema=True)
    got = {b["start"][:7]: b["count"] for b in hist.buckets if b["schema"] == "PhoneCall"}
    assert got == dict(months)

    page = entity_timeline(store, reader, subscriber, since="2024-01", until="2024-06", limit=5)
    assert page.total == sum(n for m, n in months.items() if "2024-01" <= m <= "2024-06")
    assert all("2024-01" <= i["date"][:7] <= "2024-06" for i in page.items)
    # a reader without the telecom dataset sees none of it
    assert timeline(store, Denying.without("telecom"), subscriber) == (0, [])
