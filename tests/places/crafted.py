"""A small hand-made store whose places, sightings and timelines are known exactly.

Five datasets: ``towers`` (cell towers, some with bad coordinates), ``registry`` (a person
at a geocoded address), ``companies`` (a company at that same address), ``calls`` (phone
lines and calls) and ``travel`` (two journeys of the registry's person).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recoupe.security.reader import Decision, Reader
from recoupe.services.ingest import import_ftm
from recoupe.store import DuckDBStore

Entity = tuple[str, str, dict[str, Any]]


def _e(entity_id: str, schema: str, **props: Any) -> Entity:
    return entity_id, schema, {k: v if isinstance(v, list) else [v] for k, v in props.items()}


PARIS_T1 = (48.8566, 2.3522)
PARIS_T2 = (48.8570, 2.3530)  # about 70 m from T1
LYON_T3 = (45.7640, 4.8357)
A1 = (48.8600, 2.3400)  # about 1 km from T1
A2 = (45.7641, 4.8358)  # about 14 m from T3


def _tower(entity_id: str, lat: object, lon: object | None = None) -> Entity:
    props: dict[str, Any] = {"cellId": entity_id, "latitude": str(lat)}
    if lon is not None:
        props["longitude"] = str(lon)
    return _e(entity_id, "CellTower", **props)


def _call(call_id: str, date: str, caller: tuple[str, Any], receiver: tuple[str, str]) -> Entity:
    return _e(
        call_id,
        "PhoneCall",
        callerPhone=caller[0],
        callerCell=caller[1],
        receiverPhone=receiver[0],
        receiverCell=receiver[1],
        date=date,
    )


DATASETS: dict[str, list[Entity]] = {
    "towers": [
        _tower("T1", *PARIS_T1),
        _tower("T2", *PARIS_T2),
        _tower("T3", *LYON_T3),
        _tower("TF", 64.0, 179.9),
        _tower("TW", 64.0, -179.9),
        _tower("TX", 95.5, 2.0),  # latitude out of range
        _tower("TY", "abc", 2.0),  # not a number
        _tower("TZ", 0, 0),  # the (0, 0) placeholder
        _tower("TH", 10.0),  # no longitude
    ],
    "registry": [
        _e("A1", "Address", full="1 rue A, Paris", latitude=str(A1[0]), longitude=str(A1[1])),
        _e("P1", "Person", name="Ana Alves", birthDate="1980-05-01", addressEntity="A1"),
    ],
    "companies": [
        _e("CO1", "Company", name="Alves SARL", addressEntity="A1"),
    ],
    "calls": [
        _e("PH1", "Phone", number="+33600000001", owner="P1"),
        _e("PH2", "Phone", number="+33600000002", owner="P2"),
        _e("PH3", "Phone", number="+33600000003"),
        _e("P2", "Person", name="Bruno Bento"),
        _call("C1", "2024-03-01T10:00:00", ("PH1", "T1"), ("PH3", "T3")),
        _call("C2", "2024-03-01T10:20:00", ("PH2", "T2"), ("PH3", "T3")),
        _call("C3", "2024-03-01T12:00:00", ("PH2", "T1"), ("PH3", "T3")),
        _call("C4", "2024-03-02", ("PH3", "T1"), ("PH2", "T2")),  # no time of day
        _call("C5", "2024-03-05T08:00:00", ("PH2", ["T1", "T3"]), ("PH3", "T3")),
        _call("C6", "2024-03-01T10:05:00", ("PH1", "TX"), ("PH3", "T3")),  # TX: no place
        # PH9 has no statements of its own: only this call names it
        _call("C7", "2024-03-06T09:00:00", ("PH9", "T2"), ("PH2", "T2")),
    ],
    "travel": [
        _e("A2", "Address", full="Lyon Part-Dieu", latitude=str(A2[0]), longitude=str(A2[1])),
        _e(
            "TR1",
            "Travel",
            traveller="P1",
            departurePlace="A1",
            arrivalPlace="A2",
            startDate="2024-03-01T09:50:00",
            endDate="2024-03-01T12:00:00",
        ),
        _e(  # no arrival time: the traveller is placed at the departure only
            "TR2",
            "Travel",
            traveller="P1",
            departurePlace="A2",
            arrivalPlace="A1",
            startDate="2024-03-03T10:00:00",
        ),
    ],
}


def load(store: DuckDBStore, folder: Path, only: tuple[str, ...] | None = None) -> DuckDBStore:
    """Import the datasets (``only`` some of them) into ``store``, one run each."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, entities in DATASETS.items():
        if only is not None and name not in only:
            continue
        path = folder / f"{name}.ftm.json"
        lines = [json.dumps({"id": i, "schema": s, "properties": p}) for i, s, p in entities]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_ftm(store, path, name)
    return store


@dataclass(frozen=True)
class Denying(Reader):
    """A reader who may not see some datasets."""

    denied: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def without(cls, *datasets: str) -> Denying:
        return cls(name="limited", denied=frozenset(datasets))

    def can_see(self, dataset: str, marking: str | None) -> Decision:
        if dataset in self.denied:
            return Decision(False, f"{self.name} may not see {dataset}")
        return Decision(True, f"{self.name} may see {dataset}")
