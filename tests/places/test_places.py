"""Places and sightings on a hand-made store: what is built, what is skipped, who sees what."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from recoupe.errors import ConfigError, NotFound, StoreError
from recoupe.security.reader import Reader
from recoupe.services import places as service
from recoupe.store import DuckDBStore, open_store
from recoupe.store.places import (
    in_box,
    in_radius,
    near,
    places_build,
    places_stale,
    radius_box,
    refresh_places,
)
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


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def test_refresh_builds_places_and_reports_what_it_skipped(
    store: DuckDBStore, tmp_path: Path
) -> None:
    crafted.load(store, tmp_path / "src")
    assert places_build(store) is None and places_stale(store)
    build = refresh_places(store)
    assert build.generation == store.generation()
    assert (build.places, build.sightings) == (9, 15)
    assert build.invalid_coordinates == 2  # latitude 95.5, latitude "abc"
    assert build.unplaced == 4  # TX, TY, TZ at (0, 0), TH without longitude
    assert build.unlocated == 1  # C6's caller, under tower TX
    assert build.undated == 3  # C4 (a date without time, two lines), TR2's arrival
    assert places_build(store) == build
    assert not places_stale(store)
    rows = store.con.execute(
        "SELECT entity_id, place_id, lat, lon FROM places ORDER BY entity_id"
    ).fetchall()
    assert rows == [
        ("A1", "A1", *crafted.A1),
        ("A2", "A2", *crafted.A2),
        ("CO1", "A1", *crafted.A1),  # a company at an address of another dataset
        ("P1", "A1", *crafted.A1),
        ("T1", "T1", *crafted.PARIS_T1),
        ("T2", "T2", *crafted.PARIS_T2),
        ("T3", "T3", *crafted.LYON_T3),
        ("TF", "TF", 64.0, 179.9),
        ("TW", "TW", 64.0, -179.9),
    ]


def test_sightings_are_participations_in_time_order(built: DuckDBStore) -> None:
    stored = [r[0] for r in built.con.execute("SELECT ts FROM sightings").fetchall()]
    assert stored == sorted(stored)
    rows = built.con.execute(
        "SELECT subject, event_id, role, strftime(ts, '%d %H:%M'), place_id FROM sightings_named "
        "ORDER BY ts, subject, place_id"
    ).fetchall()
    assert rows[:4] == [
        ("P1", "TR1", "departurePlace", "01 09:50", "A1"),
        ("PH1", "C1", "callerCell", "01 10:00", "T1"),
        ("PH3", "C1", "receiverCell", "01 10:00", "T3"),
        ("PH3", "C6", "receiverCell", "01 10:05", "T3"),
    ]
    # a journey with an arrival time places its traveller at both ends; without, at one
    travels = [(r[1], r[2]) for r in rows if r[0] == "P1"]
    assert travels == [
        ("TR1", "departurePlace"),
        ("TR1", "arrivalPlace"),
        ("TR2", "departurePlace"),
    ]
    # a call naming two caller cells gives one sighting under each
    c5 = sorted((r[0], r[4]) for r in rows if r[1] == "C5")
    assert c5 == [("PH2", "T1"), ("PH2", "T3"), ("PH3", "T3")]
    assert not [r for r in rows if r[1] in ("C4", "TX")]


def test_new_import_makes_places_stale(store: DuckDBStore, tmp_path: Path) -> None:
    crafted.load(store, tmp_path / "src", only=("towers",))
    refresh_places(store)
    assert not places_stale(store)
    crafted.load(store, tmp_path / "src", only=("calls",))
    assert places_stale(store)
    assert service.status(store)["stale"] is True
    refresh_places(store)
    assert service.status(store)["stale"] is False


def test_queries_need_a_refresh_first(store: DuckDBStore, reader: Reader, tmp_path: Path) -> None:
    crafted.load(store, tmp_path / "src", only=("towers",))
    with pytest.raises(StoreError, match="not built"):
        in_box(store, reader, 0, 0, 1, 1)
    with pytest.raises(StoreError, match="not built"):
        near(store, reader, "T1", 100, 10)
    assert service.status(store) == {"built": False, "stale": True, "generation": 1}


def test_bounding_box(built: DuckDBStore, reader: Reader) -> None:
    total, page = in_box(built, reader, 48.8, 2.3, 48.9, 2.4)
    assert total == 5
    assert {p.entity_id for p in page} == {"T1", "T2", "A1", "CO1", "P1"}
    person = next(p for p in page if p.entity_id == "P1")
    assert (person.place_id, person.datasets) == ("A1", ("registry",))
    total, towers = in_box(built, reader, 48.8, 2.3, 48.9, 2.4, schemata=["CellTower"])
    assert (total, [p.entity_id for p in towers]) == (2, ["T1", "T2"])
    # paging: the pages make up the whole, in a stable order
    pages = [in_box(built, reader, 48.8, 2.3, 48.9, 2.4, limit=2, offset=o) for o in (0, 2, 4)]
    assert [t for t, _ in pages] == [5, 5, 5]
    assert [p.entity_id for _, ps in pages for p in ps] == [p.entity_id for p in page]
    assert in_box(built, reader, 48.8, 2.3, 48.9, 2.4, offset=10) == (5, [])
    # a box across the 180th meridian
    total, far = in_box(built, reader, 60, 179, 70, -179)
    assert {p.entity_id for p in far} == {"TF", "TW"}


def test_radius_is_exact_and_nearest_first(built: DuckDBStore, reader: Reader) -> None:
    total, page = in_radius(built, reader, *crafted.PARIS_T1, 100)
    assert total == 2 and [p.entity_id for p in page] == ["T1", "T2"]
    assert page[0].distance == pytest.approx(0.0, abs=1e-6)
    assert page[1].distance == pytest.approx(_haversine(crafted.PARIS_T1, crafted.PARIS_T2))
    # A1 is about a kilometre away: the exact distance decides, not the box around the circle
    gap = _haversine(crafted.PARIS_T1, crafted.A1)
    assert 900 < gap < 1100
    _, inside = in_radius(built, reader, *crafted.PARIS_T1, gap + 1)
    _, outside = in_radius(built, reader, *crafted.PARIS_T1, gap - 1)
    assert {"A1", "P1", "CO1"} <= {p.entity_id for p in inside}
    assert not {"A1", "P1", "CO1"} & {p.entity_id for p in outside}
    # across the 180th meridian: TF and TW are about 9.8 km apart
    _, far = in_radius(built, reader, 64.0, 179.9, 10_000)
    assert [p.entity_id for p in far] == ["TF", "TW"]


def test_radius_box_covers_the_circle() -> None:
    south, west, north, east = radius_box(48.0, 2.0, 1000)
    assert _haversine((48.0, 2.0), (north, 2.0)) == pytest.approx(1000, rel=1e-6)
    assert _haversine((48.0, 2.0), (south, 2.0)) == pytest.approx(1000, rel=1e-6)
    assert _haversine((48.0, 2.0), (48.0, east)) >= 1000
    assert _haversine((48.0, 2.0), (48.0, west)) >= 1000
    assert radius_box(89.999, 0, 1000)[1:4:2] == (-180.0, 180.0)
    assert radius_box(0, 179.999, 1000)[1] > radius_box(0, 179.999, 1000)[3]


def test_near_finds_lines_and_travellers_close_in_time(built: DuckDBStore, reader: Reader) -> None:
    # Ana (P1) holds PH1 and travels: PH3 was under T3 when she arrived at A2 (14 m, same
    # minute); Bruno's PH2 called from T2, 70 m and 20 minutes from her call under T1
    found = near(built, reader, "P1", 500, 30)
    assert [(n.entity_id, n.subjects, n.encounters) for n in found] == [
        ("PH3", ("PH3",), 1),
        ("P2", ("PH2",), 1),
    ]
    bruno = found[1]
    example = bruno.examples[0]
    assert (example.subject, example.other, example.event_id, example.other_event_id) == (
        "PH1",
        "PH2",
        "C1",
        "C2",
    )
    assert (example.place_id, example.other_place_id) == ("T1", "T2")
    assert bruno.closest == pytest.approx(_haversine(crafted.PARIS_T1, crafted.PARIS_T2))
    # the window and the distance are bounds
    assert [n.entity_id for n in near(built, reader, "P1", 500, 15)] == ["PH3"]
    assert [n.entity_id for n in near(built, reader, "P1", 50, 30)] == ["PH3"]
    # from a line: only that line's sightings, the other side grouped to its holder
    assert [n.entity_id for n in near(built, reader, "PH2", 500, 30)] == ["PH3", "PH9", "P1"]


def test_reader_scope_is_respected(built: DuckDBStore) -> None:
    # without the towers, calls place nobody; Ana's travels still do
    no_towers = Denying.without("towers")
    assert built.con.execute("SELECT count(*) FROM sightings").fetchone() == (15,)
    assert near(built, no_towers, "P1", 500, 30) == []
    total, page = in_box(built, no_towers, -90, -180, 90, 180)
    assert total == 4 and {p.entity_id for p in page} == {"A1", "A2", "P1", "CO1"}
    # without the registry: its address, its person and the company located through it go
    no_registry = Denying.without("registry")
    _, page = in_box(built, no_registry, -90, -180, 90, 180)
    assert not {"A1", "P1", "CO1"} & {p.entity_id for p in page}
    assert "TR1" not in {e.event_id for n in near(built, no_registry, "PH3", 500, 30)
                         for e in n.examples}  # fmt: skip
    # without the calls: Ana holds no line, and no line is near her
    no_calls = Denying.without("calls")
    assert near(built, no_calls, "P1", 500, 30) == []
    assert near(built, Denying.without(*crafted.DATASETS), "P1", 500, 30) == []
    with pytest.raises(NotFound):
        service.colocated(built, no_registry, "P1")


def test_services_return_json_ready_results(built: DuckDBStore, reader: Reader) -> None:
    import json

    report = service.colocated(built, reader, "P1", metres=500, minutes=30)
    data = report.to_dict()
    json.dumps(data)
    assert data["caption"] == "Ana Alves" and data["stale"] is False
    bruno = data["neighbours"][1]
    assert (bruno["entity_id"], bruno["caption"]) == ("P2", "Bruno Bento")
    assert bruno["subjects"] == [{"id": "PH2", "caption": "+33600000002"}]
    assert bruno["examples"][0]["ts"] == "2024-03-01T10:00:00"
    assert bruno["examples"][0]["place_caption"] == "T1"
    page = service.places_in_radius(built, reader, *crafted.A1, 10, limit=10)
    json.dumps(page.to_dict())
    assert {(p["entity_id"], p["caption"]) for p in page.places} == {
        ("A1", "1 rue A, Paris"),
        ("P1", "Ana Alves"),
        ("CO1", "Alves SARL"),
    }
    same_day = service.colocated(built, reader, "P1", since="2024-03-01", until="2024-03-01")
    assert [n["entity_id"] for n in same_day.neighbours] == ["PH3", "P2"]
    assert service.colocated(built, reader, "P1", since="2024-03-02").neighbours == []
    box = service.places_in_box(built, reader, 60, 179, 70, -179)
    assert box.total == 2
    refreshed = service.refresh(built)
    json.dumps(refreshed)
    assert refreshed["sightings"] == 15


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, r: service.places_in_radius(s, r, 91, 0, 10), "latitude"),
        (lambda s, r: service.places_in_radius(s, r, 0, 0, 0), "distance"),
        (lambda s, r: service.places_in_box(s, r, 10, 0, 0, 1), "south"),
        (lambda s, r: service.places_in_box(s, r, 0, 0, 1, 1, limit=0), "limit"),
        (lambda s, r: service.places_in_box(s, r, 0, 0, 1, 1, schemata=["Tower"]), "schema"),
        (lambda s, r: service.colocated(s, r, "P1", minutes=0), "minutes"),
        (lambda s, r: service.colocated(s, r, "P1", limit=0), "limit"),
    ],
)
def test_services_check_their_parameters(
    built: DuckDBStore, reader: Reader, call: object, message: str
) -> None:
    assert callable(call)
    with pytest.raises(ConfigError, match=message):
        call(built, reader)
