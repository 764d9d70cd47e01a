"""The civil registry: residents with their address, phone, e-mail and social security number."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recoupe.scenario import geo, identifiers, spelling
from recoupe.scenario.output import Output
from recoupe.scenario.people import Population
from recoupe.scenario.streams import stream, text_stream
from recoupe.scenario.tables import (
    Defect,
    blank_where,
    coordinates,
    iso_dates,
    strings,
)
from recoupe.scenario.telecom import Lines

POPULATION = "civil_registry/population.csv"


def write(out: Output, population: Population, lines: Lines) -> int:
    """Write population.csv (nine in ten people are registered); returns its good rows."""
    rng = stream(out.seed, "registry")
    rnd = text_stream(out.seed, "registry")
    listed = np.flatnonzero(rng.random(population.size) < 0.92)
    ids = identifiers.prefixed(rng, "EC-", len(listed), 8)
    firsts, lasts = [], []
    for p in listed.tolist():
        first, last = spelling.spell(population.names[p], spelling.REGISTRY, rnd)
        firsts.append(first)
        lasts.append(last.upper())
    birth = population.birth[listed]
    born = (np.datetime64("2024-01-01") + birth).astype("datetime64[M]").astype(np.int64)
    nir = identifiers.nir(
        ~population.female[listed],
        born // 12 + 1970,
        born % 12 + 1,
        population.birth_department[listed],
        population.birth_commune[listed],
        rng,
    )
    has_line = lines.count[listed] > 0
    phone = identifiers.human_phone(lines.msisdn[lines.first[listed] * has_line], rng)
    city = population.city[listed]
    columns = {
        "person_id": ids,
        "first_name": strings(firsts),
        "last_name": strings(lasts),
        "birth_date": blank_where(iso_dates(birth), rng.random(len(listed)) < 0.01),
        "birth_place": strings([population.birth_place[p] for p in listed.tolist()]),
        "nationality": strings(population.nationality[listed]),
        "gender": pc.if_else(pa.array(population.female[listed]), "F", "M"),
        "street": strings([population.street[p] for p in listed.tolist()]),
        "postal_code": strings([population.postcode[p] for p in listed.tolist()]),
        "city": strings([geo.CITIES[c].name for c in city.tolist()]),
        "latitude": coordinates(population.lat[listed]),
        "longitude": coordinates(population.lon[listed]),
        "phone": blank_where(phone, ~has_line | (rng.random(len(listed)) < 0.3)),
        "email": strings([population.email[p] for p in listed.tolist()]),
        "national_id": blank_where(nir, rng.random(len(listed)) < 0.03),
    }
    names = [f"{f} {last}" for f, last in zip(firsts, lasts, strict=True)]
    out.truth.add(
        "civil_registry",
        POPULATION,
        "civil-person",
        "person_id",
        listed.tolist(),
        ids.to_pylist(),
        names,
    )
    defects = (
        Defect("last_name", "", "empty last_name (required)"),
        Defect("person_id", "", "empty person_id (key)"),
        Defect("birth_date", "2023-13-45", "invalid birth_date"),
    )
    out.write(POPULATION, columns, defects, shuffle=True)
    return len(listed)
