"""The synthetic population: who people are, where they live, whom they know."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recoupe.scenario import geo
from recoupe.scenario.names import ORIGIN_WEIGHTS, Origin, PersonName, draw_names
from recoupe.scenario.spelling import strip_accents
from recoupe.scenario.streams import text_stream

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: number of acquaintances each person has (the social circle calls go to)
CIRCLE = 12

#: nationalities by origin, with their shares
NATIONALITIES: dict[Origin, tuple[tuple[str, float], ...]] = {
    Origin.FRENCH: (("FR", 1.0),),
    Origin.MAGHREBI: (("FR", 0.55), ("MA", 0.2), ("DZ", 0.15), ("TN", 0.1)),
    Origin.ARABIC: (("SA", 0.2), ("EG", 0.2), ("SY", 0.2), ("LB", 0.15), ("JO", 0.1), ("IQ", 0.15)),
    Origin.RUSSIAN: (("RU", 0.7), ("UA", 0.15), ("FR", 0.15)),
    Origin.TURKISH: (("TR", 0.6), ("FR", 0.4)),
    Origin.SPANISH: (("ES", 0.6), ("FR", 0.4)),
    Origin.PORTUGUESE: (("PT", 0.6), ("FR", 0.4)),
    Origin.WEST_AFRICAN: (
        ("SN", 0.25),
        ("ML", 0.2),
        ("CI", 0.15),
        ("GN", 0.1),
        ("NG", 0.05),
        ("GH", 0.05),
        ("FR", 0.2),
    ),
}

_MAIL_DOMAINS = (
    "gmail.com",
    "orange.fr",
    "free.fr",
    "hotmail.fr",
    "laposte.net",
    "yahoo.fr",
    "outlook.fr",
    "sfr.fr",
    "wanadoo.fr",
    "protonmail.com",
)


@dataclass(frozen=True, slots=True)
class Population:
    """Column-wise facts about every person; index i is person ``ids[i]``."""

    ids: list[str]
    names: list[PersonName]
    origin: Ints
    female: Bools
    birth: Ints  #: birth date as days from PERIOD_START (negative)
    nationality: npt.NDArray[Any]
    birth_place: list[str]
    birth_department: Ints  #: for the social security number; 99 abroad
    birth_commune: Ints
    city: Ints  #: index into geo.CITIES
    lat: Floats
    lon: Floats
    street: list[str]
    postcode: list[str]
    email: list[str]
    activity: Floats  #: relative propensity to call, pay and travel
    contacts: Ints  #: (size, CIRCLE) indices of acquaintances, closest first

    @property
    def size(self) -> int:
        return len(self.ids)


def _pick(rng: np.random.Generator, options: tuple[tuple[str, float], ...], count: int) -> Any:
    codes = np.array([c for c, _ in options])
    weights = np.array([w for _, w in options])
    return codes[rng.choice(len(codes), count, p=weights / weights.sum())]


def _ages(rng: np.random.Generator, count: int) -> Ints:
    """Ages in days: adults from 18 to 80, most of them between 25 and 55."""
    years = 18 + rng.beta(2.0, 3.0, count) * 62
    return (years * 365.25).astype(np.int64)


def _members_by(group: Ints, groups: int) -> tuple[Ints, Ints, Ints]:
    """People sorted by group, with each group's start and size in that order."""
    order = np.argsort(group, kind="stable").astype(np.int64)
    counts = np.bincount(group, minlength=groups).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return order, starts, counts


def _same_group(rng: np.random.Generator, group: Ints, groups: int, count: int) -> Ints:
    """For each person, ``count`` random people of the same group (themselves possibly)."""
    order, starts, counts = _members_by(group, groups)
    offset = (rng.random((len(group), count)) * counts[group][:, None]).astype(np.int64)
    return np.asarray(order[starts[group][:, None] + offset], dtype=np.int64)


def _contacts(rng: np.random.Generator, city: Ints, origin: Ints) -> Ints:
    size = len(city)
    local = _same_group(rng, city, len(geo.CITIES), 8)
    kin = _same_group(rng, origin, len(Origin), 2)
    anyone = rng.integers(0, size, (size, CIRCLE - 10))
    circle = np.concatenate([local, kin, anyone], axis=1)
    # shuffle each row so that the closest contacts are a mix of neighbours and kin
    circle = np.take_along_axis(circle, rng.random(circle.shape).argsort(axis=1), axis=1)
    self_loop = circle == np.arange(size)[:, None]
    circle[self_loop] = (
        circle[self_loop] + 1 + rng.integers(0, size - 1, int(self_loop.sum()))
    ) % size
    return circle.astype(np.int64)


def _birth_places(
    rng: np.random.Generator, origin: Ints, nationality: npt.NDArray[Any], home: Ints
) -> tuple[list[str], Ints, Ints]:
    size = len(origin)
    _, _, weights = geo.city_arrays()
    french = nationality == "FR"
    in_france = np.where(
        french,
        rng.random(size) < np.where(origin == Origin.FRENCH, 0.98, 0.85),
        rng.random(size) < 0.1,
    )
    city = np.where(rng.random(size) < 0.5, home, rng.choice(len(geo.CITIES), size, p=weights))
    department = np.array([int(geo.department(c)) for c in geo.CITIES])[city]
    commune = np.array([int(c.insee[2:]) for c in geo.CITIES])[city]
    places: list[str] = []
    town_pick = rng.random(size)
    country_pick = rng.random(size)
    for i in range(size):
        if in_france[i]:
            places.append(geo.CITIES[city[i]].name)
            continue
        code = str(nationality[i])
        if code == "FR":
            options = [c for c, _ in NATIONALITIES[Origin(int(origin[i]))] if c != "FR"]
            options = options or sorted(geo.COUNTRIES)
            code = options[int(country_pick[i] * len(options))]
        country = geo.COUNTRIES[code]
        town = country.towns[int(town_pick[i] * len(country.towns))]
        places.append(f"{town} ({country.name})")
        department[i] = 99
        commune[i] = int(country.insee)
    return places, department.astype(np.int64), commune.astype(np.int64)


def _addresses(rng: np.random.Generator, city: Ints) -> tuple[list[str], list[str]]:
    size = len(city)
    numbers = rng.integers(1, 160, size).tolist()
    types = rng.integers(0, len(geo.STREET_TYPES), size).tolist()
    streets = rng.integers(0, len(geo.STREET_NAMES), size).tolist()
    pick = rng.random(size).tolist()
    street = [
        f"{n} {geo.STREET_TYPES[t]} {geo.STREET_NAMES[s]}"
        for n, t, s in zip(numbers, types, streets, strict=True)
    ]
    postcode = []
    for c, p in zip(city.tolist(), pick, strict=True):
        town = geo.CITIES[c]
        codes = town.postcodes or (town.postcode,)
        postcode.append(codes[int(p * len(codes))])
    return street, postcode


def _emails(rnd: random.Random, names: list[PersonName], birth_year: list[int]) -> list[str]:
    result = []
    for name, year in zip(names, birth_year, strict=True):
        if rnd.random() > 0.6:
            result.append("")
            continue
        first, last = (
            strip_accents(part).lower().replace(" ", "").replace("'", "").replace("-", "")
            for part in (name.first, name.last)
        )
        first = "".join(c for c in first if c.isascii() and c.isalnum()) or "contact"
        last = "".join(c for c in last if c.isascii() and c.isalnum()) or "mail"
        style = rnd.randrange(4)
        local = (
            f"{first}.{last}",
            f"{first[0]}{last}{year % 100:02d}",
            f"{last}.{first}{rnd.randrange(1, 99)}",
            f"{first}{last}",
        )[style]
        result.append(f"{local}@{rnd.choice(_MAIL_DOMAINS)}")
    return result


def build(size: int, seed: int) -> Population:
    """Draw ``size`` people deterministically from ``seed``."""
    rng = np.random.default_rng([seed, 1])
    rnd = text_stream(seed, "people")
    origin = rng.choice(len(Origin), size, p=np.array(ORIGIN_WEIGHTS) / sum(ORIGIN_WEIGHTS))
    origin = origin.astype(np.int64)
    female = rng.random(size) < 0.5
    names = draw_names(rng, origin, female)
    birth = -_ages(rng, size)
    nationality = np.empty(size, dtype="<U2")
    for o in Origin:
        where = origin == o
        nationality[where] = _pick(rng, NATIONALITIES[o], int(where.sum()))
    lat0, lon0, weights = geo.city_arrays()
    city = rng.choice(len(geo.CITIES), size, p=weights).astype(np.int64)
    spread = np.array([geo.city_spread(c.population) for c in geo.CITIES])[city]
    lat = lat0[city] + rng.normal(0.0, 1.0, size) * spread
    lon = lon0[city] + rng.normal(0.0, 1.0, size) * spread / np.cos(np.radians(lat0[city]))
    street, postcode = _addresses(rng, city)
    # a sixth of the people share the home of someone in the same town
    mate = _same_group(rng, city, len(geo.CITIES), 1)[:, 0]
    shares = np.flatnonzero((rng.random(size) < 0.16) & (mate != np.arange(size)))
    for i in shares.tolist():
        j = int(mate[i])
        street[i], postcode[i] = street[j], postcode[j]
        lat[i], lon[i] = lat[j], lon[j]
    places, department, commune = _birth_places(rng, origin, nationality, city)
    birth_year = (np.datetime64("2024-01-01") + birth).astype("datetime64[Y]").astype(int) + 1970
    width = max(6, len(str(size)))
    return Population(
        ids=[f"P{i:0{width}d}" for i in range(1, size + 1)],
        names=names,
        origin=origin,
        female=female,
        birth=birth,
        nationality=nationality,
        birth_place=places,
        birth_department=department,
        birth_commune=commune,
        city=city,
        lat=lat,
        lon=lon,
        street=street,
        postcode=postcode,
        email=_emails(rnd, names, birth_year.tolist()),
        activity=rng.lognormal(0.0, 0.9, size),
        contacts=_contacts(rng, city, origin),
    )
