"""Where things are and who was where when: a small table over the schemata.

Four kinds of declaration, all data, checked against the model by :func:`check`:

- :data:`COORDINATES`: schemata whose entities carry a latitude and a longitude
  (a cell tower, a geocoded address);
- :data:`ADDRESSES`: entity properties that place their holder at an entity with
  coordinates (a person's ``addressEntity``);
- :data:`PRESENCES`: in an event, which participant was at which place at which time
  (the caller's line under the caller's cell tower at the call's date; the traveller at
  the departure place at the departure time). Times are tried in order, the first one
  present wins; a presence without any of its times is not a sighting (a journey without
  an arrival time places its traveller at the departure only);
- :data:`HOLDINGS`: entities that belong to another one (a phone line to its subscriber),
  so what happens to the line shows on the subscriber's timeline and near a person means
  near any of their lines.

Declarations apply to the named schema and to every schema extending it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from followthemoney.model import Model
from followthemoney.schema import Schema

from recoupe.errors import OntologyError


@dataclass(frozen=True, slots=True)
class Coordinates:
    """Entities of ``schema`` are at (``latitude``, ``longitude``), in decimal degrees."""

    schema: str
    latitude: str = "latitude"
    longitude: str = "longitude"


@dataclass(frozen=True, slots=True)
class AddressLink:
    """``schema:prop`` names an entity whose coordinates are those of the holder."""

    schema: str
    prop: str


@dataclass(frozen=True, slots=True)
class Presence:
    """In a ``schema`` event, ``subject`` was at ``place`` at the first of ``times`` given."""

    schema: str
    subject: str
    place: str
    times: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Holding:
    """Entities of ``schema`` belong to the entity their ``prop`` names."""

    schema: str
    prop: str


COORDINATES: tuple[Coordinates, ...] = (
    Coordinates("Address"),
    Coordinates("CellTower"),
)
ADDRESSES: tuple[AddressLink, ...] = (AddressLink("Thing", "addressEntity"),)
PRESENCES: tuple[Presence, ...] = (
    Presence("PhoneCall", "callerPhone", "callerCell", ("date", "startDate")),
    Presence("PhoneCall", "receiverPhone", "receiverCell", ("date", "startDate")),
    Presence("Travel", "traveller", "departurePlace", ("startDate", "date")),
    Presence("Travel", "traveller", "arrivalPlace", ("endDate",)),
    Presence("Trip", "vehicle", "startLocation", ("startDate", "date")),
    Presence("Trip", "vehicle", "endLocation", ("endDate",)),
)
HOLDINGS: tuple[Holding, ...] = (
    Holding("Phone", "owner"),
    Holding("UserAccount", "owner"),
    Holding("CryptoWallet", "holder"),
    Holding("Vehicle", "owner"),
)


@dataclass(frozen=True, slots=True)
class Located:
    """The declarations checked and spread over concrete schemata (what SQL needs)."""

    coordinates: tuple[Coordinates, ...]
    addresses: tuple[AddressLink, ...]
    presences: tuple[Presence, ...]
    holdings: tuple[Holding, ...]

    @property
    def holding_props(self) -> tuple[str, ...]:
        return tuple(sorted({h.prop for h in self.holdings}))


def _schema(model: Model, name: str, what: str) -> Schema:
    schema = model.get(name)
    if schema is None:
        raise OntologyError(f"located: {what} names an unknown schema {name!r}")
    return schema


def _prop(schema: Schema, name: str, kind: str, what: str) -> None:
    prop = schema.get(name)
    if prop is None:
        raise OntologyError(f"located: {what}: schema {schema.name} has no property {name!r}")
    if prop.type.name != kind:
        raise OntologyError(
            f"located: {what}: {schema.name}:{name} is of type {prop.type.name}, not {kind}"
        )


def _spread(model: Model, schema: Schema) -> list[str]:
    """``schema`` and every concrete schema extending it, by name."""
    return sorted(s.name for s in model.schemata.values() if s.is_a(schema) and not s.abstract)


def _range(schema: Schema, prop: str) -> Schema | None:
    found = schema.get(prop)
    return found.range if found is not None else None


def check(
    model: Model,
    coordinates: Sequence[Coordinates] = COORDINATES,
    addresses: Sequence[AddressLink] = ADDRESSES,
    presences: Sequence[Presence] = PRESENCES,
    holdings: Sequence[Holding] = HOLDINGS,
) -> Located:
    """Check declarations against ``model``; unknown names raise :class:`OntologyError`."""
    coords: list[Coordinates] = []
    for c in coordinates:
        what = f"coordinates of {c.schema}"
        schema = _schema(model, c.schema, what)
        _prop(schema, c.latitude, "number", what)
        _prop(schema, c.longitude, "number", what)
        coords.extend(Coordinates(n, c.latitude, c.longitude) for n in _spread(model, schema))
    placed = [model.get(c.schema) for c in coords]
    links: list[AddressLink] = []
    for a in addresses:
        what = f"address link {a.schema}:{a.prop}"
        schema = _schema(model, a.schema, what)
        _prop(schema, a.prop, "entity", what)
        links.extend(AddressLink(n, a.prop) for n in _spread(model, schema))
    seen: list[Presence] = []
    for p in presences:
        what = f"presence {p.schema}:{p.subject}@{p.place}"
        schema = _schema(model, p.schema, what)
        _prop(schema, p.subject, "entity", what)
        _prop(schema, p.place, "entity", what)
        if not p.times:
            raise OntologyError(f"located: {what}: give at least one time property")
        for time in p.times:
            _prop(schema, time, "date", what)
        target = _range(schema, p.place)
        if target is not None and not any(
            s is not None and (target.is_a(s) or s.is_a(target)) for s in placed
        ):
            raise OntologyError(
                f"located: {what}: {target.name} entities carry no coordinates "
                "(declare them in COORDINATES)"
            )
        seen.extend(Presence(n, p.subject, p.place, p.times) for n in _spread(model, schema))
    owned: list[Holding] = []
    for h in holdings:
        what = f"holding {h.schema}:{h.prop}"
        schema = _schema(model, h.schema, what)
        _prop(schema, h.prop, "entity", what)
        owned.extend(Holding(n, h.prop) for n in _spread(model, schema))
    return Located(tuple(coords), tuple(links), tuple(seen), tuple(owned))


@functools.cache
def located(model: Model) -> Located:
    """The default declarations checked against ``model`` (once per model)."""
    return check(model)
