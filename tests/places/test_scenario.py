"""Against the scenario's ground truth: the cell's meetings under one cell site are found."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from recoupe.ontology import entity_id
from recoupe.scenario import generate
from recoupe.security.reader import Reader
from recoupe.services.ingest import ingest_mapping
from recoupe.services.places import colocated
from recoupe.store import DuckDBStore
from recoupe.store.places import near, refresh_places

METRES, MINUTES = 500, 30


def _person_of(truth: dict[str, Any]) -> dict[str, str]:
    """Entity id (a telecom subscriber or a phone line) -> person id of the population."""
    owner: dict[str, str] = {}
    for person in truth["people"]:
        for record in person["records"]:
            owner[record["entity_id"]] = person["person"]
        for msisdn in person["phones"]:
            owner[entity_id("phone", [msisdn]) or ""] = person["person"]
    return owner


def test_near_finds_the_cell_meetings(store: DuckDBStore, reader: Reader, tmp_path: Path) -> None:
    summary = generate(tmp_path / "sc", scale=5000)
    for path in summary.mappings:
        ingest_mapping(store, path)
    build = refresh_places(store)
    assert build.sightings >= 2 * 5000 * 0.99
    truth = json.loads(summary.truth.read_text(encoding="utf-8"))
    people = {p["person"]: p for p in truth["people"]}
    person_of = _person_of(truth)
    meetings = truth["cell"]["co_location"]
    assert len(meetings) >= 4

    member = meetings[0]["members"][0]
    # the line the members carry to meetings is their first one
    phone = entity_id("phone", [people[member]["phones"][0]]) or ""
    owner = store.con.execute(
        "SELECT value FROM statements WHERE entity_id = ? AND prop = 'owner'", [phone]
    ).fetchone()
    assert owner is not None and person_of[owner[0]] == member

    expected = found_30 = 0
    for meeting in meetings:
        if member not in meeting["members"]:
            continue
        day = date.fromisoformat(meeting["date"])
        since = datetime.combine(day, datetime.min.time())
        until = since + timedelta(days=1)
        others = set(meeting["members"]) - {member}
        found = near(store, reader, phone, METRES, MINUTES, limit=500, since=since, until=until)
        met = {person_of.get(n.entity_id) for n in found} & others
        # each member calls twice within 40 minutes either side of the meeting's hour: most
        # of them are within 30 minutes of one of our member's two calls ...
        assert len(met) >= 0.4 * len(others), (meeting["date"], sorted(met), sorted(others))
        expected, found_30 = expected + len(others), found_30 + len(met)
        for n in found:
            if person_of.get(n.entity_id) not in others:
                continue
            assert n.closest <= METRES
            for e in n.examples:
                assert e.ts.date() == day
                assert abs((e.other_ts - e.ts).total_seconds()) <= MINUTES * 60
                assert abs(e.lat - meeting["latitude"]) < 1e-5
                assert abs(e.lon - meeting["longitude"]) < 1e-5
        # ... and all of them within 80 minutes
        wide = near(store, reader, phone, METRES, 80, limit=500, since=since, until=until)
        assert others <= {person_of.get(n.entity_id) for n in wide}
    assert expected and found_30 >= 0.8 * expected

    # from the subscriber: the same people through the line they hold
    from_line = {n.entity_id for n in near(store, reader, phone, METRES, MINUTES, limit=500)}
    from_person = {n.entity_id for n in near(store, reader, owner[0], METRES, MINUTES, limit=500)}
    assert from_line - {owner[0]} <= from_person
    report = colocated(store, reader, owner[0], metres=METRES, minutes=MINUTES, limit=50)
    top = {person_of.get(n["entity_id"]) for n in report.neighbours[:10]}
    assert len(top & set(truth["cell"]["members"])) >= 5
