"""The operator's side: phone lines and their subscribers, burner lines, cell towers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from recoupe.scenario import geo, identifiers, spelling
from recoupe.scenario.cell import CellPlan
from recoupe.scenario.names import false_names
from recoupe.scenario.output import Output
from recoupe.scenario.people import Population
from recoupe.scenario.streams import stream, text_stream
from recoupe.scenario.tables import (
    PERIOD_DAYS,
    Column,
    Defect,
    blank_where,
    concat,
    coordinates,
    digits,
    flags,
    iso_dates,
    strings,
)

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

SUBSCRIBERS = "telecom/subscribers.csv"
TOWERS = "telecom/cell_towers.csv"

#: mobile networks (name, MNC); every cell site carries one cell of each
NETWORKS: tuple[tuple[str, int], ...] = (
    ("Orange", 1),
    ("SFR", 10),
    ("Bouygues Telecom", 20),
    ("Free Mobile", 15),
)
#: brands sold to subscribers: (name, network index, share of lines, share prepaid)
BRANDS: tuple[tuple[str, int, float, float], ...] = (
    ("Orange", 0, 0.33, 0.08),
    ("SFR", 1, 0.22, 0.08),
    ("Bouygues Telecom", 2, 0.18, 0.08),
    ("Free Mobile", 3, 0.19, 0.02),
    ("Lycamobile", 2, 0.03, 1.0),
    ("Lebara", 1, 0.02, 1.0),
    ("La Poste Mobile", 1, 0.03, 0.2),
)
_PREPAID_BRANDS = np.array([4, 5])


@dataclass(frozen=True, slots=True)
class Towers:
    """Cell sites around the towns; site s carries cell ``s * len(NETWORKS) + network``."""

    city: Ints
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    first: Ints  #: per town, index of its first site
    count: Ints  #: per town, number of sites
    cell_ids: Column  #: one string per cell
    home_site: Ints  #: per person, the site nearest home

    @property
    def sites(self) -> int:
        return len(self.city)


@dataclass(frozen=True, slots=True)
class Lines:
    """Every phone line: subscribed lines of people, burner lines, unidentified lines.

    Lines of a person are contiguous: ``first[p]`` and ``count[p]`` (count 0: no line).
    Burners follow, then lines that nobody in the population holds (``person`` -1).
    """

    person: Ints
    msisdn: Ints
    brand: Ints
    network: Ints
    prepaid: Bools
    activated: Ints  #: days from PERIOD_START
    active_from: Ints  #: first day the line is used
    active_to: Ints  #: last day the line is used
    burner: Bools
    first: Ints
    count: Ints
    subscribed: int  #: lines [0, subscribed) are in subscribers.csv

    @property
    def burners(self) -> Ints:
        return np.flatnonzero(self.burner).astype(np.int64)

    @property
    def unidentified(self) -> Ints:
        return np.arange(self.subscribed, len(self.person), dtype=np.int64)


def build_towers(population: Population, scale: int, seed: int) -> Towers:
    """A few hundred to a few thousand cells, more of them in larger towns."""
    rng = stream(seed, "towers")
    sites = int(np.clip(scale // 8000, 100, 750))
    lat0, lon0, _ = geo.city_arrays()
    weight = np.array([c.population for c in geo.CITIES], dtype=np.float64) ** 0.7
    count = np.maximum(1, np.floor(weight / weight.sum() * sites)).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    city = np.repeat(np.arange(len(geo.CITIES)), count).astype(np.int64)
    spread = np.array([geo.city_spread(c.population) for c in geo.CITIES])[city] * 1.2
    lat = lat0[city] + rng.normal(0.0, 1.0, len(city)) * spread
    lon = lon0[city] + rng.normal(0.0, 1.0, len(city)) * spread / np.cos(np.radians(lat0[city]))
    cells = len(city) * len(NETWORKS)
    mnc = np.tile([m for _, m in NETWORKS], len(city))
    lac = 1000 + np.repeat(city, len(NETWORKS)) * 16 + rng.integers(0, 16, cells)
    ci = identifiers.unique_ints(rng, 10_000, 100_000, cells)
    cell_ids = concat("208-", digits(mnc, 2), "-", digits(lac, 5), "-", digits(ci, 5))
    home = np.zeros(population.size, dtype=np.int64)
    for town in range(len(geo.CITIES)):  # one small distance matrix per town
        people = np.flatnonzero(population.city == town)
        if len(people) == 0:
            continue
        own = np.arange(first[town], first[town] + count[town])
        dist = (population.lat[people, None] - lat[None, own]) ** 2 + (
            population.lon[people, None] - lon[None, own]
        ) ** 2
        home[people] = own[np.argmin(dist, axis=1)]
    return Towers(city, lat, lon, first, count, cell_ids, home)


def write_towers(out: Output, towers: Towers) -> None:
    rng = stream(out.seed, "towers-columns")
    cells = towers.sites * len(NETWORKS)
    site = np.arange(cells) // len(NETWORKS)
    network = np.arange(cells) % len(NETWORKS)
    columns = {
        "cell_id": towers.cell_ids,
        "operator": strings(np.array([n for n, _ in NETWORKS])[network]),
        "latitude": coordinates(towers.lat[site]),
        "longitude": coordinates(towers.lon[site]),
        "city": strings(np.array([c.name for c in geo.CITIES])[towers.city[site]]),
        "azimuth": digits(rng.integers(0, 36, cells) * 10, 1),
    }
    out.write(
        TOWERS,
        columns,
        (
            Defect("cell_id", "", "empty cell_id (key)"),
            Defect("latitude", "N/A", "invalid latitude (not a number)"),
        ),
    )


def _burner_windows(rng: np.random.Generator, users: Ints, start: int) -> tuple[Ints, Ints]:
    """Short, successive periods of use: a member's second burner replaces the first."""
    begin = np.empty(len(users), dtype=np.int64)
    end = np.empty(len(users), dtype=np.int64)
    last_end: dict[int, int] = {}
    for i, user in enumerate(users.tolist()):
        if user in last_end:
            begin[i] = last_end[user] - int(rng.integers(0, 3))
            end[i] = begin[i] + int(rng.integers(12, 25))
        else:
            begin[i] = start + int(rng.integers(0, 8))
            end[i] = begin[i] + int(rng.integers(18, 30))
        last_end[user] = int(end[i])
    return begin, np.minimum(end, PERIOD_DAYS - 1)


def build_lines(population: Population, cell: CellPlan, seed: int) -> Lines:
    """Lines of the population, then burners of the cell, then unidentified lines."""
    rng = stream(seed, "lines")
    size = population.size
    count = rng.choice(3, size, p=[0.05, 0.8, 0.15]).astype(np.int64)
    count[cell.members] = np.maximum(count[cell.members], 1)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    owned = int(count.sum())
    person = np.repeat(np.arange(size), count).astype(np.int64)
    # burners: one per member, a second one for a third of them
    twice = rng.random(len(cell.members)) < 0.34
    users = np.concatenate([cell.members, cell.members[twice]]).astype(np.int64)
    burners = slice(owned, owned + len(users))
    unidentified = max(50, size // 3)
    total = owned + len(users) + unidentified
    share = np.array([b[2] for b in BRANDS])
    brand = rng.choice(len(BRANDS), total, p=share / share.sum())
    brand[burners] = rng.choice(_PREPAID_BRANDS, len(users))
    prepaid = rng.random(total) < np.array([b[3] for b in BRANDS])[brand]
    prepaid[burners] = True
    activated = -rng.integers(30, 19 * 365, total)
    active_from = np.zeros(total, dtype=np.int64)
    active_to = np.full(total, PERIOD_DAYS - 1, dtype=np.int64)
    begin, end = _burner_windows(rng, users, cell.start)
    active_from[burners], active_to[burners] = begin, end
    activated[burners] = begin - rng.integers(1, 5, len(users))
    is_burner = np.zeros(total, dtype=bool)
    is_burner[burners] = True
    return Lines(
        person=np.concatenate([person, users, np.full(unidentified, -1)]).astype(np.int64),
        msisdn=identifiers.french_mobiles(rng, total),
        brand=brand.astype(np.int64),
        network=np.array([b[1] for b in BRANDS])[brand].astype(np.int64),
        prepaid=prepaid,
        activated=activated.astype(np.int64),
        active_from=active_from,
        active_to=active_to,
        burner=is_burner,
        first=first,
        count=count,
        subscribed=owned + len(users),
    )


def _imeis(rng: np.random.Generator, person: Ints, burner: Bools) -> Ints:
    imei = identifiers.imei(rng, len(person))
    # a member's second burner sits in the same handset as the first (SIM swap)
    rows = np.flatnonzero(burner)
    for i, row in enumerate(rows.tolist()):
        earlier = rows[:i][person[rows[:i]] == person[row]]
        if len(earlier):
            imei[row] = imei[earlier[0]]
    return imei


def write_subscribers(out: Output, population: Population, lines: Lines) -> None:
    """subscribers.csv: one row per line; one holder (contract) for one or two lines."""
    rng = stream(out.seed, "subscribers")
    rnd = text_stream(out.seed, "subscribers")
    n = lines.subscribed
    person, burner = lines.person[:n], lines.burner[:n]
    # a second line is under the same contract half of the time
    same = np.zeros(n, dtype=bool)
    same[1:] = (person[1:] == person[:-1]) & (rng.random(n - 1) < 0.5) & ~burner[1:]
    contract = (np.cumsum(~same) - 1).astype(np.int64)
    heads = np.flatnonzero(~same)
    contracts = len(heads)
    ids: list[str] = identifiers.prefixed(rng, "ABN-", contracts, 8).to_pylist()
    # a burner is registered under a made-up name almost half of the time
    fake = burner[heads] & (rng.random(contracts) < 0.45)
    made_up = iter(false_names(rng, int(fake.sum())))
    native = rng.random(contracts) < 0.2
    names: list[str] = []
    for c, line in enumerate(heads.tolist()):
        p = int(person[line])
        name = next(made_up) if fake[c] else population.names[p]
        first, last = spelling.spell(name, spelling.TELECOM, rnd, native=bool(native[c]))
        female = bool(population.female[p])
        names.append(spelling.full_name(first, last, spelling.TELECOM, rnd, female))
    birth = population.birth[person[heads]]
    birth = np.where(fake, birth + rng.integers(-900, 900, contracts), birth)
    no_birth = (rng.random(contracts) < 0.08) | (fake & (rng.random(contracts) < 0.5))
    birth_text = blank_where(iso_dates(birth), no_birth)
    out.truth.add(
        "telecom",
        SUBSCRIBERS,
        "telecom-subscriber",
        "subscriber_id",
        person[heads].tolist(),
        ids,
        names,
        fake.tolist(),
    )
    msisdn = digits(lines.msisdn[:n], 11)
    out.truth.link(out.truth.phones, person.tolist(), msisdn.to_pylist())
    mnc = np.array([m for _, m in NETWORKS])[lines.network[:n]]
    imsi = 208 * 10**12 + mnc * 10**10 + rng.integers(0, 10**10, n)
    take = pa.array(contract)
    columns = {
        "msisdn": msisdn,
        "imei": digits(_imeis(rng, person, burner), 15),
        "imsi": digits(imsi, 15),
        "operator": strings(np.array([b[0] for b in BRANDS])[lines.brand[:n]]),
        "prepaid": flags(lines.prepaid[:n]),
        "activated": iso_dates(lines.activated[:n]),
        "holder_name": strings(names).take(take),
        "holder_birth_date": birth_text.take(take),
        "subscriber_id": strings(ids).take(take),
    }
    defects = (
        Defect("msisdn", "", "empty msisdn (key of the line)"),
        Defect("holder_name", "", "empty holder_name (required)"),
        Defect("activated", "2023-13-45", "invalid activated date"),
    )
    out.write(SUBSCRIBERS, columns, defects, shuffle=True, protect=burner)
