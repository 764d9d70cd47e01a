"""Timelines and histograms on the hand-made store of tests.places.crafted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from recoupe.errors import ConfigError, NotFound
from recoupe.security.reader import Reader
from recoupe.services.timeline import entity_timeline, events_histogram
from recoupe.store import DuckDBStore, open_store
from recoupe.store.timeline import TimelineItem, captions, histogram, timeline
from tests.places import crafted
from tests.places.crafted import Denying


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    root = tmp_path_factory.mktemp("crafted")
    with open_store(root / "ws", create=True, memory_limit="1GB", threads=2) as store:
        crafted.load(store, root / "src")
        yield store


def _short(items: list[TimelineItem]) -> list[tuple[str | None, ...]]:
    return [
        (i.date, i.kind, i.schema, i.prop, i.subject, i.direction, i.other, i.event_id)
        for i in items
    ]


def test_a_persons_timeline_shows_the_calls_of_their_line(
    loaded: DuckDBStore, reader: Reader
) -> None:
    total, items = timeline(loaded, reader, "P1")
    assert total == len(items) == 5
    assert _short(items) == [
        ("1980-05-01", "statement", "Person", "birthDate", "P1", None, None, "P1"),
        ("2024-03-01T09:50:00", "property", "Travel", "traveller", "P1", "in", "TR1", "TR1"),
        ("2024-03-01T10:00:00", "edge", "PhoneCall", None, "PH1", "out", "PH3", "C1"),
        ("2024-03-01T10:05:00", "edge", "PhoneCall", None, "PH1", "out", "PH3", "C6"),
        ("2024-03-03T10:00:00", "property", "Travel", "traveller", "P1", "in", "TR2", "TR2"),
    ]
    assert [i.dataset for i in items] == ["registry", "travel", "calls", "calls", "travel"]
    # the address link carries the person's birth date: it is not an event, left out
    assert "addressEntity" not in {i.prop for i in items}
    # without following holdings, only the person's own items
    _, own = timeline(loaded, reader, "P1", expand=False)
    assert [i.event_id for i in own] == ["P1", "TR1", "TR2"]


def test_a_lines_timeline_and_a_towers(loaded: DuckDBStore, reader: Reader) -> None:
    _, items = timeline(loaded, reader, "PH3")
    assert [(i.event_id, i.direction, i.other) for i in items] == [
        ("C1", "in", "PH1"),
        ("C6", "in", "PH1"),
        ("C2", "in", "PH2"),
        ("C3", "in", "PH2"),
        ("C4", "out", "PH2"),
        ("C5", "in", "PH2"),
    ]
    _, tower = timeline(loaded, reader, "T1")
    assert [(i.event_id, i.prop) for i in tower] == [
        ("C1", "callerCell"),
        ("C3", "callerCell"),
        ("C4", "callerCell"),
        ("C5", "callerCell"),
    ]


def test_paging_and_date_range(loaded: DuckDBStore, reader: Reader) -> None:
    _, whole = timeline(loaded, reader, "PH3")
    pages = [timeline(loaded, reader, "PH3", limit=4, offset=o) for o in (0, 4, 8)]
    assert [t for t, _ in pages] == [6, 6, 6]
    assert [i for _, page in pages for i in page] == whole
    total, day = timeline(loaded, reader, "PH3", since="2024-03-01", until="2024-03-01")
    assert total == 4 and [i.event_id for i in day] == ["C1", "C6", "C2", "C3"]
    total, later = timeline(loaded, reader, "PH3", since="2024-03-01T10:10")
    assert [i.event_id for i in later] == ["C2", "C3", "C4", "C5"]
    assert timeline(loaded, reader, "PH3", since="2025") == (0, [])


def test_histogram_counts_each_event_once(loaded: DuckDBStore, reader: Reader) -> None:
    def counts(ids: list[str], interval: str, **kw: Any) -> list[tuple[str, str | None, int]]:
        buckets = histogram(loaded, reader, ids, interval, **kw)
        return [(b.start.strftime("%Y-%m-%d"), b.schema, b.count) for b in buckets]

    assert counts(["PH2"], "month") == [("2024-03-01", None, 5)]
    assert counts(["PH2"], "day") == [
        ("2024-03-01", None, 2),
        ("2024-03-02", None, 1),
        ("2024-03-05", None, 1),
        ("2024-03-06", None, 1),
    ]
    # weeks start on Monday: Friday 1 and Saturday 2 March, then Tuesday 5 and Wednesday 6
    assert counts(["PH2"], "week") == [("2024-02-26", None, 3), ("2024-03-04", None, 2)]
    # C1 involves both lines: counted once
    assert counts(["PH1", "PH3"], "year") == [("2024-01-01", None, 6)]
    assert counts(["P1"], "year", by_schema=True) == [
        ("1980-01-01", "Person", 1),
        ("2024-01-01", "PhoneCall", 2),
        ("2024-01-01", "Travel", 2),
    ]
    assert counts(["P1"], "year", since="2024-03-02") == [("2024-01-01", None, 1)]
    with pytest.raises(ConfigError, match="interval"):
        histogram(loaded, reader, ["P1"], "fortnight")


def test_reader_scope_is_respected(loaded: DuckDBStore) -> None:
    no_travel = Denying.without("travel")
    total, items = timeline(loaded, no_travel, "P1")
    assert total == 3 and "travel" not in {i.dataset for i in items}
    no_calls = Denying.without("calls")
    _, items = timeline(loaded, no_calls, "P1")
    assert [i.event_id for i in items] == ["P1", "TR1", "TR2"]
    assert timeline(loaded, Denying.without(*crafted.DATASETS), "P1") == (0, [])
    assert histogram(loaded, no_calls, ["PH2"], "year") == []
    assert captions(loaded, no_calls, ["PH2", "P1"]) == {"P1": "Ana Alves"}
    with pytest.raises(NotFound):
        entity_timeline(loaded, Denying.without("registry"), "P1")


def test_services(loaded: DuckDBStore, reader: Reader) -> None:
    page = entity_timeline(loaded, reader, "P1", limit=3, offset=1)
    data = page.to_dict()
    json.dumps(data)
    assert (data["schema"], data["caption"], data["total"]) == ("Person", "Ana Alves", 5)
    assert [i["event_id"] for i in data["items"]] == ["TR1", "C1", "C6"]
    call = data["items"][1]
    assert (call["subject_caption"], call["other_caption"]) == ("+33600000001", "+33600000003")
    hist = events_histogram(loaded, reader, ["PH2", "PH2"], "day", since="2024-03-02")
    assert hist.to_dict()["buckets"] == [
        {"start": datetime(2024, 3, 2).isoformat(), "schema": None, "count": 1},
        {"start": datetime(2024, 3, 5).isoformat(), "schema": None, "count": 1},
        {"start": datetime(2024, 3, 6).isoformat(), "schema": None, "count": 1},
    ]
    with pytest.raises(NotFound):
        entity_timeline(loaded, reader, "nobody")
    bad: dict[str, Any]
    for bad in ({"limit": 0}, {"offset": -1}, {"since": "yesterday"}, {"until": "2024-13"}):
        with pytest.raises(ConfigError):
            entity_timeline(loaded, reader, "P1", **bad)
    with pytest.raises(ConfigError, match="after"):
        entity_timeline(loaded, reader, "P1", since="2024-03-02", until="2024-03-01")
    with pytest.raises(ConfigError, match="at least one"):
        events_histogram(loaded, reader, [])
