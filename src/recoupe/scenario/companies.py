"""The trade register: companies and their directors, exported in cp1252 with ';'."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa

from recoupe.scenario import geo, identifiers, spelling
from recoupe.scenario.cell import CellPlan
from recoupe.scenario.output import Output
from recoupe.scenario.people import Population
from recoupe.scenario.spelling import to_cp1252
from recoupe.scenario.streams import stream, text_stream
from recoupe.scenario.tables import Defect, blank_where, iso_dates, strings

COMPANIES = "companies/companies.csv"
DIRECTORS = "companies/directors.csv"
ENCODING = "cp1252"
DELIMITER = ";"

#: (legal form, share, roles of its directors)
FORMS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("SARL", 0.35, ("Gérant", "Cogérant")),
    ("SAS", 0.25, ("Président", "Directeur général")),
    ("SASU", 0.15, ("Président", "Directeur général")),
    ("EURL", 0.1, ("Gérant", "Cogérant")),
    ("SCI", 0.1, ("Gérant", "Associé")),
    ("SA", 0.05, ("Président du conseil d'administration", "Directeur général", "Administrateur")),
)
_TRADES = (
    "Transports",
    "Boulangerie",
    "Garage",
    "Plomberie",
    "Pharmacie",
    "Restaurant",
    "Taxis",
    "Maçonnerie",
    "Coiffure",
    "Boucherie",
    "Épicerie",
    "Nettoyage",
)
_WORDS = (
    "Atlas",
    "Horizon",
    "Méridien",
    "Azur",
    "Alliance",
    "Phénix",
    "Cèdre",
    "Oasis",
    "Sirius",
    "Avenir",
    "Étoile",
    "Delta",
    "Orion",
    "Nova",
    "Zénith",
    "Sahel",
    "Rivage",
    "Atlantique",
    "Provence",
    "Lumière",
    "Boréal",
    "Cristal",
    "Quartz",
    "Sémaphore",
    "Levant",
)
_ACTIVITIES = (
    "Conseil",
    "Immobilier",
    "Import-Export",
    "Distribution",
    "Services",
    "BTP",
    "Sécurité",
    "Négoce",
    "Télécom",
    "Auto",
    "Logistique",
    "Informatique",
)


def _company_name(rnd: random.Random, form: str, founder_last: str) -> str:
    if form == "SCI":
        return f"SCI {rnd.choice(_WORDS)}"
    style = rnd.randrange(4)
    if style == 0:
        return f"{rnd.choice(_TRADES)} {founder_last}"
    if style == 1:
        return f"{founder_last} {rnd.choice(('et Fils', '& Associés', 'Frères'))}"
    return f"{rnd.choice(_WORDS)} {rnd.choice(_ACTIVITIES)}"


def write(out: Output, population: Population, cell: CellPlan) -> int:
    """Write both files; returns the number of companies (good rows)."""
    rng = stream(out.seed, "companies")
    rnd = text_stream(out.seed, "companies")
    count = max(60, population.size // 8)
    form_share = np.array([f[1] for f in FORMS])
    form = rng.choice(len(FORMS), count, p=form_share / form_share.sum())
    incorporated = -rng.integers(60, 30 * 365, count)
    # the cell's front company, set up a few months before
    form[0] = 2
    incorporated[0] = cell.start - int(rng.integers(80, 120))
    adult = np.flatnonzero(-population.birth > 23 * 365)
    weight = population.activity[adult] / population.activity[adult].sum()
    directors: list[tuple[int, int, str]] = []  # (company, person, role)
    heads = rng.choice(adult, count, p=weight)
    heads[0] = cell.financier
    more = rng.choice(3, count, p=[0.7, 0.25, 0.05])
    more[0] = 1
    extra = rng.choice(adult, int(more.sum()), p=weight).tolist()
    offsets = np.concatenate([[0], np.cumsum(more)]).tolist()
    extra[offsets[0] : offsets[1]] = [int(cell.intermediaries[0])] * int(more[0])
    for company in range(count):
        roles = FORMS[int(form[company])][2]
        people = [int(heads[company]), *extra[offsets[company] : offsets[company + 1]]]
        for rank, person in enumerate(dict.fromkeys(people)):
            directors.append((company, person, roles[min(rank, len(roles) - 1)]))
    siren = identifiers.siren(rng, count)
    names = [f"{rnd.choice(_WORDS)} Import-Export"]  # the front company
    for company in range(1, count):
        last = population.names[int(heads[company])].last
        names.append(_company_name(rnd, FORMS[int(form[company])][0], last))
    town = rng.choice(len(geo.CITIES), count, p=geo.city_arrays()[2])
    street = [
        f"{n} {geo.STREET_TYPES[t]} {geo.STREET_NAMES[s]}"
        for n, t, s in zip(
            rng.integers(1, 200, count).tolist(),
            rng.integers(0, len(geo.STREET_TYPES), count).tolist(),
            rng.integers(0, len(geo.STREET_NAMES), count).tolist(),
            strict=True,
        )
    ]
    postcode = [geo.CITIES[t].postcode for t in town.tolist()]
    # the front company is registered at the financier's home
    town[0] = population.city[cell.financier]
    street[0], postcode[0] = population.street[cell.financier], population.postcode[cell.financier]
    columns = {
        "siren": siren,
        "name": strings([to_cp1252(n) for n in names]),
        "legal_form": strings([FORMS[int(f)][0] for f in form.tolist()]),
        "incorporation_date": iso_dates(incorporated),
        "street": strings([to_cp1252(s) for s in street]),
        "postal_code": strings(postcode),
        "city": strings([to_cp1252(geo.CITIES[t].name) for t in town.tolist()]),
    }
    out.truth.cell["front_companies"] = [siren[0].as_py()]
    out.write(
        COMPANIES,
        columns,
        (Defect("siren", "", "empty siren (key)"), Defect("name", "", "empty name (required)")),
        shuffle=True,
        protect=np.arange(count) == 0,
        delimiter=DELIMITER,
        encoding=ENCODING,
    )
    _write_directors(out, population, directors, siren, incorporated, rng, rnd)
    return count


def _write_directors(
    out: Output,
    population: Population,
    directors: list[tuple[int, int, str]],
    siren: pa.Array,
    incorporated: np.ndarray,
    rng: np.random.Generator,
    rnd: random.Random,
) -> None:
    persons = sorted({p for _, p, _ in directors})
    ids = identifiers.prefixed(rng, "DIR-", len(persons), 7).to_pylist()
    director_id = dict(zip(persons, ids, strict=True))
    written: dict[int, str] = {}
    for who in persons:
        first, last = spelling.spell(population.names[who], spelling.DIRECTORS, rnd)
        name = spelling.full_name(first, last, spelling.DIRECTORS, rnd)
        written[who] = to_cp1252(name)
    company = np.array([c for c, _, _ in directors], dtype=np.int64)
    person = np.array([p for _, p, _ in directors], dtype=np.int64)
    role = [r for _, _, r in directors]
    start = incorporated[company] + rng.integers(0, 3 * 365, len(company))
    start = np.minimum(start, -1)
    start[company == 0] = incorporated[0]
    missing_birth = rng.random(len(company)) < 0.05
    out.truth.add(
        "companies",
        DIRECTORS,
        "company-director",
        "director_id",
        persons,
        ids,
        [written[p] for p in persons],
    )
    columns = {
        "siren": siren.take(pa.array(company)),
        "director_name": strings([written[p] for p in person.tolist()]),
        "director_birth_date": blank_where(iso_dates(population.birth[person]), missing_birth),
        "role": strings(role),
        "start_date": iso_dates(start),
        "director_id": strings([director_id[p] for p in person.tolist()]),
    }
    out.write(
        DIRECTORS,
        columns,
        (
            Defect("director_name", "", "empty director_name (required)"),
            Defect("start_date", "2023-13-45", "invalid start_date"),
        ),
        shuffle=True,
        protect=company == 0,
        delimiter=DELIMITER,
        encoding=ENCODING,
    )
