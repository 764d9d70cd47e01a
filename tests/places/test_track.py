"""An entity's track on the hand-made store: order, lines held, dates, who sees what."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoupe.api.app import create_app
from recoupe.config import Settings
from recoupe.errors import ConfigError, NotFound, StoreError
from recoupe.security.reader import Reader
from recoupe.security.secret import ensure_secret
from recoupe.services import places as service
from recoupe.store import DuckDBStore, open_store
from recoupe.store.places import fixed_places, refresh_places, track
from tests.places import crafted
from tests.places.crafted import Denying


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    """The crafted store with places built, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("crafted")
    with open_store(root / "ws", create=True, memory_limit="1GB", threads=2) as store:
        crafted.load(store, root / "src")
        refresh_places(store)
        yield store


def _steps(points: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(p["ts"], p["event_id"], p["role"], p["place_id"], p["subject"]) for p in points]


#: Ana's day: she leaves her address, calls from T1 on her line PH1, arrives in Lyon; and
#: leaves Lyon two days later (C6, from tower TX without coordinates, places nobody)
ANA = [
    ("2024-03-01T09:50:00", "TR1", "departurePlace", "A1", "P1"),
    ("2024-03-01T10:00:00", "C1", "callerCell", "T1", "PH1"),
    ("2024-03-01T12:00:00", "TR1", "arrivalPlace", "A2", "P1"),
    ("2024-03-03T10:00:00", "TR2", "departurePlace", "A2", "P1"),
]


def test_a_person_is_followed_through_the_lines_they_hold(
    built: DuckDBStore, reader: Reader
) -> None:
    report = service.entity_track(built, reader, "P1")
    data = report.to_dict()
    json.dumps(data)
    assert (data["entity_id"], data["schema"], data["caption"]) == ("P1", "Person", "Ana Alves")
    assert (data["total"], data["stale"]) == (4, False)
    assert _steps(data["points"]) == ANA
    call = data["points"][1]
    assert (call["lat"], call["lon"]) == crafted.PARIS_T1
    assert (call["schema"], call["place_caption"], call["subject_caption"]) == (
        "PhoneCall",
        "T1",
        "+33600000001",
    )
    assert call["datasets"] == ["calls", "towers"]
    assert data["points"][0]["datasets"] == ["registry", "travel"]
    # her address is a fixed point, undated, apart from the sightings
    assert data["fixed"] == [
        {
            "place_id": "A1",
            "place_caption": "1 rue A, Paris",
            "lat": crafted.A1[0],
            "lon": crafted.A1[1],
            "datasets": ["registry"],
        }
    ]


def test_a_line_has_only_its_own_sightings_in_time_order(
    built: DuckDBStore, reader: Reader
) -> None:
    total, seen = track(built, reader, "PH2")
    assert total == 5
    assert [(s.ts.strftime("%d %H:%M"), s.event_id, s.role, s.place_id) for s in seen] == [
        ("01 10:20", "C2", "callerCell", "T2"),
        ("01 12:00", "C3", "callerCell", "T1"),
        # one call under two caller cells: both, in the order of the places
        ("05 08:00", "C5", "callerCell", "T1"),
        ("05 08:00", "C5", "callerCell", "T3"),
        ("06 09:00", "C7", "receiverCell", "T2"),
    ]
    assert {s.subject for s in seen} == {"PH2"}
    # its holder Bruno is seen through it; a tower has a fixed point and no sightings
    assert [s.event_id for s in track(built, reader, "P2")[1]] == ["C2", "C3", "C5", "C5", "C7"]
    tower = service.entity_track(built, reader, "T1")
    assert (tower.total, tower.points) == (0, [])
    assert [(f["place_id"], f["datasets"]) for f in tower.fixed] == [("T1", ["towers"])]
    # a line named only by a call
    assert [s.event_id for s in track(built, reader, "PH9")[1]] == ["C7"]


def test_limit_keeps_the_earliest_and_counts_them_all(built: DuckDBStore, reader: Reader) -> None:
    report = service.entity_track(built, reader, "P1", limit=2)
    assert report.total == 4
    assert _steps(report.points) == ANA[:2]


def test_since_and_until_are_inclusive_dates(built: DuckDBStore, reader: Reader) -> None:
    def steps(since: str | None, until: str | None) -> list[tuple[object, ...]]:
        found = service.entity_track(built, reader, "P1", since=since, until=until)
        assert found.total == len(found.points)
        assert len(found.fixed) == 1  # the address, whatever the dates
        return _steps(found.points)

    assert steps("2024-03-01", "2024-03-01") == ANA[:3]
    assert steps("2024-03-02", None) == ANA[3:]
    assert steps(None, "2024-03-01T10:00") == ANA[:2]  # the whole minute
    assert steps("2024-03-01T10:01", "2024-03-01T12") == ANA[2:3]
    assert steps("2024-04", None) == []


def test_a_reader_sees_only_sightings_of_datasets_they_may_all_see(built: DuckDBStore) -> None:
    # without the towers, calls place nobody; Ana's journeys still do
    no_towers = service.entity_track(built, Denying.without("towers"), "P1")
    assert _steps(no_towers.points) == [ANA[0], ANA[2], ANA[3]]
    assert all("towers" not in p["datasets"] for p in no_towers.points)
    # without the calls, Ana holds no line
    no_calls = service.entity_track(built, Denying.without("calls"), "P1")
    assert _steps(no_calls.points) == [ANA[0], ANA[2], ANA[3]]
    # without the journeys, only her call; her address stays
    no_travel = service.entity_track(built, Denying.without("travel"), "P1")
    assert _steps(no_travel.points) == [ANA[1]]
    assert [f["place_id"] for f in no_travel.fixed] == ["A1"]
    # without the registry, Ana is unknown; her line's track still shows the call
    with pytest.raises(NotFound, match="'P1'"):
        service.entity_track(built, Denying.without("registry"), "P1")
    assert [s.event_id for s in track(built, Denying.without("registry"), "PH1")[1]] == ["C1"]
    # the company located at Ana's address loses it with the registry (the coordinates')
    assert fixed_places(built, Denying.without("registry"), "CO1") == []
    assert track(built, Denying.without(*crafted.DATASETS), "P1") == (0, [])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": service.MAX_TRACK + 1}, "limit"),
        ({"since": "yesterday"}, "since 'yesterday'"),
        ({"until": "2024-13"}, "until '2024-13'"),
        ({"since": "2024-03-02", "until": "2024-03-01"}, "after until"),
    ],
)
def test_parameters_are_checked(
    built: DuckDBStore, reader: Reader, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        service.entity_track(built, reader, "P1", **kwargs)


def test_unknown_entity_and_unbuilt_places(
    store: DuckDBStore, reader: Reader, built: DuckDBStore, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="no entity 'NOPE'"):
        service.entity_track(built, reader, "NOPE")
    crafted.load(store, tmp_path / "src", only=("towers",))
    with pytest.raises(StoreError, match="not built"):
        service.entity_track(store, reader, "T1")


def test_route(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    with open_store(workspace, create=True, memory_limit="1GB", threads=2) as store:
        crafted.load(store, tmp_path / "src")
        refresh_places(store)
    ensure_secret(workspace)
    app = create_app(Settings(workspace=workspace, memory_limit="1GB", threads=2))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {app.state.operator_token}"
        answer = client.get("/api/entities/P1/track", params={"since": "2024-03-01"})
        assert answer.status_code == 200
        data = answer.json()
        assert _steps(data["points"]) == ANA
        assert [f["place_id"] for f in data["fixed"]] == ["A1"]
        assert client.get("/api/entities/NOPE/track").status_code == 404
        bad = client.get("/api/entities/P1/track", params={"since": "soon"})
        assert bad.status_code == 400 and "since 'soon'" in bad.text
        assert client.get("/api/entities/P1/track", params={"limit": 0}).status_code == 422


def test_a_map_may_ask_for_a_viewport_of_places(built: DuckDBStore, reader: Reader) -> None:
    # the map view asks for 2000 places at once: more than a timeline page
    page = service.places_in_box(built, reader, -90, -180, 90, 180, limit=2000)
    assert (page.total, page.limit) == (9, 2000)
    with pytest.raises(ConfigError, match=f"limit must be between 1 and {service.MAX_PLACES}"):
        service.places_in_radius(built, reader, 0, 0, 10, limit=service.MAX_PLACES + 1)
