"""Passenger records (flights and trains), with the cell travelling together.

Each route has a few daily services, so ordinary passengers also share a flight now and
then; the cell's members book the same service on the same day, separately.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from recoupe.scenario import geo, identifiers, spelling
from recoupe.scenario.cell import CellPlan
from recoupe.scenario.names import Origin
from recoupe.scenario.output import Output
from recoupe.scenario.people import NATIONALITIES, Population
from recoupe.scenario.streams import stream, text_stream
from recoupe.scenario.tables import (
    PERIOD_DAYS,
    Defect,
    blank_where,
    concat,
    coordinates,
    digits,
    iso_dates,
    iso_datetimes,
    strings,
)

Ints = npt.NDArray[np.int64]

TRAVELS = "travel/travels.csv"

#: code -> carrier name
CARRIERS: dict[str, str] = {
    "AF": "Air France",
    "TO": "Transavia",
    "AT": "Royal Air Maroc",
    "AH": "Air Algérie",
    "TU": "Tunisair",
    "TK": "Turkish Airlines",
    "IB": "Iberia",
    "TP": "TAP Air Portugal",
    "U2": "easyJet",
    "FR": "Ryanair",
    "HC": "Air Sénégal",
    "HF": "Air Côte d'Ivoire",
    "LX": "Swiss",
    "BA": "British Airways",
    "LH": "Lufthansa",
    "KL": "KLM",
    "AZ": "ITA Airways",
    "MS": "EgyptAir",
    "EK": "Emirates",
    "SV": "Saudia",
    "QR": "Qatar Airways",
    "ME": "Middle East Airlines",
    "RJ": "Royal Jordanian",
    "TGV": "SNCF TGV INOUI",
    "ES": "Eurostar",
}
#: destination country -> carriers serving it from France
SERVICE: dict[str, tuple[str, ...]] = {
    "FR": ("TGV", "TGV", "AF"),
    "MA": ("AT", "AF", "TO"),
    "DZ": ("AH", "AF"),
    "TN": ("TU", "TO", "AF"),
    "TR": ("TK", "AF"),
    "ES": ("IB", "U2", "FR"),
    "PT": ("TP", "U2"),
    "SN": ("HC", "AF"),
    "ML": ("AF",),
    "CI": ("HF", "AF"),
    "GN": ("AF",),
    "NG": ("AF",),
    "GH": ("AF",),
    "RU": ("TK",),
    "BE": ("TGV",),
    "CH": ("LX", "TGV"),
    "GB": ("ES", "BA"),
    "DE": ("LH", "AF"),
    "NL": ("KL", "AF"),
    "IT": ("AZ", "AF"),
    "EG": ("MS", "AF"),
    "AE": ("EK",),
    "SA": ("SV",),
    "QA": ("QR",),
    "LB": ("ME", "AF"),
    "JO": ("RJ",),
}
_CODES = tuple(CARRIERS)


def _places() -> tuple[list[str], list[str], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Hubs first (French towns with an airport or main station), then abroad."""
    hubs = [c for c in geo.CITIES if c.name in geo.HUBS]
    names = [c.name for c in hubs] + [p.name for p in geo.ABROAD]
    country = ["FR"] * len(hubs) + [p.country for p in geo.ABROAD]
    lat = np.array([c.lat for c in hubs] + [p.lat for p in geo.ABROAD])
    lon = np.array([c.lon for c in hubs] + [p.lon for p in geo.ABROAD])
    return names, country, lat, lon


def _nearest_hub() -> Ints:
    hubs = [i for i, c in enumerate(geo.CITIES) if c.name in geo.HUBS]
    lat, lon, _ = geo.city_arrays()
    dist = (lat[:, None] - lat[None, hubs]) ** 2 + (lon[:, None] - lon[None, hubs]) ** 2
    return np.asarray(np.argmin(dist, axis=1), dtype=np.int64)


def _journeys(rng: np.random.Generator, population: Population, person: Ints) -> tuple[Ints, Ints]:
    """(hub, destination place) per journey; people of foreign origin visit it often."""
    names, country, _, _ = _places()
    hubs = len(geo.HUBS)
    count = len(person)
    hub = _nearest_hub()[population.city[person]]
    dest = rng.integers(0, len(names), count)
    domestic = rng.random(count) < 0.3
    dest = np.where(domestic, rng.integers(0, hubs, count), dest)
    country_arr = np.array(country)
    for origin in Origin:
        codes = [c for c, _ in NATIONALITIES[origin] if c != "FR"]
        options = np.flatnonzero(np.isin(country_arr, codes))
        mine = (population.origin[person] == origin) & (rng.random(count) < 0.6)
        if len(options) and mine.any():
            dest[mine] = rng.choice(options, int(mine.sum()))
    same = dest == hub
    dest[same] = (dest[same] + 1) % hubs
    return hub.astype(np.int64), dest.astype(np.int64)


def _services(rng: np.random.Generator, hub: Ints, dest: Ints) -> tuple[Ints, Ints]:
    """A carrier serving the destination and one of three daily services."""
    _, country, _, _ = _places()
    table = np.full((len(country), 3), -1, dtype=np.int64)
    served = np.zeros(len(country), dtype=np.int64)
    for place, code in enumerate(country):
        options = [_CODES.index(c) for c in SERVICE[code]]
        table[place, : len(options)] = options
        served[place] = len(options)
    pick = (rng.random(len(dest)) * served[dest]).astype(np.int64)
    return table[dest, pick], rng.integers(0, 3, len(dest))


def write(out: Output, population: Population, cell: CellPlan) -> int:
    """Write travels.csv in time order; returns the number of journeys (good rows)."""
    rng = stream(out.seed, "travel")
    rnd = text_stream(out.seed, "travel")
    count = max(300, out.scale // 50)
    weight = population.activity / population.activity.sum()
    person = rng.choice(population.size, count, p=weight).astype(np.int64)
    hub, dest = _journeys(rng, population, person)
    carrier, slot = _services(rng, hub, dest)
    day = rng.integers(0, PERIOD_DAYS, count)
    # the cell: three trips, three to five members on each, booked one by one
    together = []
    for _ in range(3):
        members = rng.choice(cell.members, int(rng.integers(3, 6)), replace=False)
        t_hub, t_dest = _journeys(rng, population, members[:1])
        t_carrier, t_slot = _services(rng, t_hub, t_dest)
        trip_day = cell.start - int(rng.integers(-20, 60))
        together.append(
            (members, int(t_hub[0]), int(t_dest[0]), int(t_carrier[0]), int(t_slot[0]), trip_day)
        )
    for members, t_hub_i, t_dest_i, t_carrier_i, t_slot_i, trip_day in together:
        k = len(members)
        person = np.concatenate([person, members])
        hub = np.concatenate([hub, np.full(k, t_hub_i)])
        dest = np.concatenate([dest, np.full(k, t_dest_i)])
        carrier = np.concatenate([carrier, np.full(k, t_carrier_i)])
        slot = np.concatenate([slot, np.full(k, t_slot_i)])
        day = np.concatenate([day, np.full(k, trip_day)])
    together_rows = np.zeros(len(person), dtype=bool)
    together_rows[count:] = True
    total = len(person)
    outbound = rng.random(total) < 0.5
    outbound[together_rows] = True
    number = 100 + (hub * 131 + dest * 17 + slot * 7 + carrier * 29) % 8900
    number = number + (~outbound).astype(np.int64)  # the return service is the next number
    minute = 360 + (hub * 97 + dest * 61 + slot * 331 + carrier * 13) % 960
    start = day * 86_400 + minute * 60
    order = np.argsort(start, kind="stable")
    person, hub, dest, carrier = person[order], hub[order], dest[order], carrier[order]
    number, start = number[order], start[order]
    outbound, together_rows = outbound[order], together_rows[order]
    names, _, lat, lon = _places()
    departure = np.where(outbound, hub, dest)
    arrival = np.where(outbound, dest, hub)
    # one passenger profile per traveller: a name as written, a passport
    travellers = np.unique(person)
    profile = np.searchsorted(travellers, person)
    passenger_ids = identifiers.prefixed(rng, "PAX-", len(travellers), 8)
    written = []
    for p in travellers.tolist():
        native = rnd.random() < 0.1
        first, last = spelling.spell(population.names[p], spelling.TRAVEL, rnd, native=native)
        written.append(spelling.full_name(first, last, spelling.TRAVEL, rnd))
    french = population.nationality[travellers] == "FR"
    passports = np.where(
        french,
        identifiers.patterned(rng, len(travellers), "99AA99999"),
        identifiers.patterned(rng, len(travellers), "AA9999999"),
    )
    missing_birth = rng.random(len(travellers)) < 0.02
    take = pa.array(profile)
    refs = identifiers.booking_refs(rng, total)
    columns = {
        "booking_ref": strings(refs),
        "passenger_name": strings(written).take(take),
        "birth_date": blank_where(iso_dates(population.birth[travellers]), missing_birth).take(
            take
        ),
        "passport_number": strings(passports).take(take),
        "passport_country": strings(population.nationality[travellers]).take(take),
        "carrier": strings(np.array([CARRIERS[c] for c in _CODES])[carrier]),
        "transport_number": concat(strings(np.array(_CODES)[carrier]), digits(number, 3)),
        "departure_city": strings(np.array(names)[departure]),
        "departure_lat": coordinates(lat[departure]),
        "departure_lon": coordinates(lon[departure]),
        "arrival_city": strings(np.array(names)[arrival]),
        "arrival_lat": coordinates(lat[arrival]),
        "arrival_lon": coordinates(lon[arrival]),
        "departure_time": iso_datetimes(start),
        "passenger_id": passenger_ids.take(take),
    }
    out.truth.add(
        "travel",
        TRAVELS,
        "travel-passenger",
        "passenger_id",
        travellers.tolist(),
        passenger_ids.to_pylist(),
        written,
    )
    out.truth.cell["co_travel"] = sorted(refs[together_rows].tolist())
    defects = (
        Defect("booking_ref", "", "empty booking_ref (key)"),
        Defect("passenger_name", "", "empty passenger_name (required)"),
        Defect("departure_time", "2024-13-45T10:00:00", "invalid departure_time"),
    )
    out.write(TRAVELS, columns, defects, protect=together_rows)
    return total
