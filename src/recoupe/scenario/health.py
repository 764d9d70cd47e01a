"""The health part of the demo: a region in an epidemic wave, its hospitals, their beds,
patients and stocks, and a traced outbreak.

Eight fictional hospitals in the départements of the Grand Est region; an epidemic that
grows (R 2.9) until a lockdown on day 33 (R 0.7 after); daily admissions, census by unit
(ward, ICU, ventilated) and case counts by département, with Poisson noise; stocks of
protective equipment on the last day and deliveries announced for the next two weeks;
and a traced cluster (a wedding, then households) for contact tracing. Everything is
written as CSV files with mappings, and ingested like any other source. ``truth.json``
holds the parameters the data were drawn from.
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from recoupe.health.equipment import STANDARD_RATES, daily_needs, unit_census
from recoupe.health.hospital import Pathway, census
from recoupe.health.seir import delayed, gamma_days, schedule, simulate
from recoupe.territories import KEY_LITERALS

START = date(2020, 2, 10)
OBSERVED_DAYS = 61
"""Days of data: START to 2020-04-10, the demo's "today"."""
LOCKDOWN_DAY = 33
SEED_INFECTIOUS = 110.0
R_BEFORE, R_AFTER = 2.9, 0.7
POPULATION = 5_511_747  # Grand Est, 2020
REGION = "44"
OWNER = "Recoupe : jeu de données synthétique (scénario sanitaire)"
# The built-in département (recoupe.territories) a row's ``departement`` code designates.
TERRITORY = {
    "schema": "FrenchTerritory",
    "keys": ["departement"],
    "key_literal": KEY_LITERALS["departement"],
    "properties": {"inseeCode": {"column": "departement", "required": True}},
}

# id, name, département, share of the region's patients, ward beds, ICU beds,
# ventilators, latitude, longitude
HOSPITALS = (
    (
        "H67",
        "Hôpitaux universitaires de Strasbourg (fictif)",
        "67",
        0.22,
        900,
        70,
        80,
        48.575,
        7.747,
    ),
    ("H68", "Groupe hospitalier de Mulhouse (fictif)", "68", 0.24, 600, 45, 50, 47.749, 7.339),
    ("H54", "CHRU de Nancy (fictif)", "54", 0.15, 800, 110, 110, 48.692, 6.184),
    ("H57", "CHR de Metz-Thionville (fictif)", "57", 0.13, 700, 90, 90, 49.119, 6.176),
    ("H51", "CHU de Reims (fictif)", "51", 0.08, 650, 70, 70, 49.258, 4.032),
    ("H88", "CH d'Épinal (fictif)", "88", 0.06, 300, 20, 22, 48.172, 6.451),
    ("H10", "CH de Troyes (fictif)", "10", 0.06, 320, 22, 24, 48.297, 4.074),
    ("H08", "CH de Charleville-Mézières (fictif)", "08", 0.06, 280, 18, 20, 49.773, 4.721),
)
CASE_ASCERTAINMENT = 0.08


def admission_delay() -> tuple[float, ...]:
    """Infection to admission: a gamma of mean 10 days, sd 5, discretised by day."""
    return gamma_days(10.0, 5.0, days=40)


PATHWAY = Pathway(admission_share=0.02, admission_delay=admission_delay())


@dataclass(frozen=True)
class HealthSummary:
    folder: Path
    mappings: list[Path]
    truth: Path


def generate_health(folder: Path, seed: int = 7) -> HealthSummary:
    """Write the CSV files, mappings and truth of the health scenario into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    days = OBSERVED_DAYS
    r = schedule(days, [(0, R_BEFORE), (LOCKDOWN_DAY, R_AFTER)])
    epi = simulate(POPULATION, r, latent=4.0, infectious=3.0, seed=SEED_INFECTIOUS)
    expected = delayed(epi.infections, np.asarray(PATHWAY.admission_delay), 0.02)
    dates = [START + timedelta(days=d) for d in range(days)]
    rows: list[dict[str, Any]] = []
    for hid, _, _, share, *_ in HOSPITALS:
        adm = rng.poisson(expected * share).astype(float)
        load = census(adm, PATHWAY)
        for d, day in enumerate(dates):
            rows.append(_row(day, hid, "admissions", "", "", adm[d]))
            for unit in ("ward", "icu", "ventilated"):
                rows.append(_row(day, hid, "census", unit, "", round(float(load[unit][d]))))
        # Stock on the last day: days of cover drawn per item; deliveries announced.
        last = unit_census(
            load["hospitalized"][-1:], load["icu"][-1:], adm[-1:]
        )  # today's use, by the Penn calculator
        use = daily_needs(last, STANDARD_RATES)
        for item in sorted(use):
            cover = float(rng.uniform(2, 18))
            rows.append(_row(dates[-1], hid, "stock", "", item, round(float(use[item][0]) * cover)))
            for _ in range(int(rng.integers(0, 3))):
                when = dates[-1] + timedelta(days=int(rng.integers(2, 14)))
                quantity = round(float(use[item][0]) * float(rng.uniform(2, 6)))
                rows.append(_row(when, hid, "delivery", "", item, quantity))
    cases = delayed(epi.infections, _onset_delay(), CASE_ASCERTAINMENT)
    for _, _, dept, share, *_ in HOSPITALS:
        counts = rng.poisson(cases * share)
        for d, day in enumerate(dates):
            rows.append(
                {
                    "date": day.isoformat(),
                    "hospital_id": "",
                    "departement": dept,
                    "metric": "cases",
                    "unit": "",
                    "item": "",
                    "value": int(counts[d]),
                }
            )
    _write(
        folder / "hopitaux.csv",
        [
            {
                "hospital_id": h[0],
                "name": h[1],
                "departement": h[2],
                "region": REGION,
                "ward_beds": h[4],
                "icu_beds": h[5],
                "ventilators": h[6],
                "latitude": h[7],
                "longitude": h[8],
            }
            for h in HOSPITALS
        ],
    )
    hospital_rows = [r for r in rows if r["hospital_id"]]
    _write(
        folder / "mesures_hopitaux.csv",
        [{k: v for k, v in r.items() if k != "departement"} for r in hospital_rows],
    )
    _write(
        folder / "cas_departements.csv",
        [
            {"date": r["date"], "departement": r["departement"], "value": r["value"]}
            for r in rows
            if r["metric"] == "cases"
        ],
    )
    _write(folder / "traçage.csv", _cluster(random.Random(seed)))  # noqa: S311 (not secret)
    for _, _, dept, *_ in HOSPITALS[:1]:  # a case series as `recoupe health rt` reads it
        _write(
            folder / f"rt_{dept}.csv",
            [
                {"day": d + 1, "date": r["date"], "local": r["value"]}
                for d, r in enumerate(
                    x for x in rows if x["metric"] == "cases" and x["departement"] == dept
                )
            ],
        )
    mappings = []
    for name, body in _mappings().items():
        path = folder / f"{name}.yml"
        path.write_text(yaml.safe_dump({name: body}, allow_unicode=True, sort_keys=False))
        mappings.append(path)
    model = {
        "population": POPULATION,
        "admission_share": PATHWAY.admission_share,
        "admission_delay": {"mean": 10, "sd": 5},
        "ward_days": PATHWAY.ward_days,
        "icu_share": PATHWAY.icu_share,
        "days_before_icu": PATHWAY.days_before_icu,
        "icu_days": PATHWAY.icu_days,
        "days_after_icu": PATHWAY.days_after_icu,
        "ventilated_share": PATHWAY.ventilated_share,
        "ventilated_days": PATHWAY.ventilated_days,
        "changes": [(START + timedelta(days=LOCKDOWN_DAY)).isoformat()],
        "ifr": 0.005,
        "death_delay": {"mean": 23, "sd": 10},
        "latent_days": 4,
        "infectious_days": 3,
    }
    (folder / "modele.yaml").write_text(
        "# Hypothèses du modèle sanitaire (recoupe health --model)\n"
        + yaml.safe_dump(model, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    truth = folder / "truth.json"
    truth.write_text(
        json.dumps(
            {
                "start": START.isoformat(),
                "observed_days": days,
                "lockdown": (START + timedelta(days=LOCKDOWN_DAY)).isoformat(),
                "r_before": R_BEFORE,
                "r_after": R_AFTER,
                "population": POPULATION,
                "admission_share": PATHWAY.admission_share,
                "case_ascertainment": CASE_ASCERTAINMENT,
                "hospitals": [h[0] for h in HOSPITALS],
            },
            indent=2,
        )
    )
    return HealthSummary(folder, mappings, truth)


def _onset_delay() -> np.ndarray:
    """Infection to symptom onset and report: a gamma of mean 6 days, sd 2.45."""
    return np.asarray(gamma_days(6.0, math.sqrt(6.0), days=20))


def _row(day: date, hid: str, metric: str, unit: str, item: str, value: float) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "hospital_id": hid,
        "departement": "",
        "metric": metric,
        "unit": unit,
        "item": item,
        "value": int(value),
    }


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


GIVEN = ("Camille", "Louis", "Chloé", "Hugo", "Léa", "Lucas", "Manon", "Nathan", "Emma", "Jules")
FAMILY = ("Muller", "Schmitt", "Meyer", "Weber", "Klein", "Wagner", "Fischer", "Keller")


def _cluster(rng: random.Random) -> list[dict[str, Any]]:
    """A traced cluster: a wedding where one guest infects many, then households."""
    cases: list[dict[str, Any]] = []

    def add(infector: int | None, onset: date, setting: str) -> int:
        n = len(cases) + 1
        cases.append(
            {
                "case_id": f"C{n:03d}",
                "given_name": rng.choice(GIVEN),
                "family_name": rng.choice(FAMILY),
                "onset": onset.isoformat(),
                "infector": "" if infector is None else f"C{infector:03d}",
                "setting": setting,
                "departement": rng.choice(("67", "68")),
            }
        )
        return n

    first = add(None, date(2020, 2, 20), "retour de voyage")
    spreader = add(first, date(2020, 2, 25), "famille")
    guests = [
        add(spreader, date(2020, 3, 2) + timedelta(days=rng.randint(0, 3)), "mariage")
        for _ in range(18)
    ]
    for guest in guests:
        onset = date.fromisoformat(cases[guest - 1]["onset"])
        for _ in range(rng.choice((0, 0, 1, 2))):
            add(guest, onset + timedelta(days=rng.randint(3, 7)), "foyer")
    return cases


def _mappings() -> dict[str, Any]:
    hospital = {  # the reference to a hospital from its measurements (same id)
        "schema": "Hospital",
        "keys": ["hospital_id"],
        "key_literal": "sante-hopital",
        "properties": {},
    }
    measure = {
        "schema": "Measurement",
        "keys": ["date", "hospital_id", "metric", "unit", "item"],
        "key_literal": "sante-mesure",
        "properties": {
            "subject": {"entity": "hospital"},
            "date": {"column": "date", "required": True},
            "metric": {"column": "metric", "required": True},
            "unit": {"column": "unit"},
            "item": {"column": "item"},
            "value": {"column": "value", "required": True},
        },
    }
    case = {
        "schema": "Case",
        "keys": ["case_id"],
        "key_literal": "sante-cas",
        "properties": {
            "name": {"template": "Cas {{case_id}}"},
            "caseNumber": {"column": "case_id", "required": True},
            "patient": {"entity": "person"},
            "disease": {"literal": "COVID-19"},
            "startDate": {"column": "onset", "required": True},
            "setting": {"column": "setting"},
        },
    }
    return {
        "sante_hopitaux": {
            "title": "Santé : hôpitaux de la région, lits et équipements",
            "owner": OWNER,
            "marking": "DR",
            "queries": [
                {
                    "csv_url": "hopitaux.csv",
                    "entities": {
                        "departement": TERRITORY,
                        "hospital": {
                            **hospital,
                            "properties": {
                                "name": {"column": "name", "required": True},
                                "idNumber": {"column": "hospital_id"},
                                "region": {"column": "region"},
                                "departement": {"column": "departement"},
                                "territory": {"entity": "departement"},
                                "wardBeds": {"column": "ward_beds"},
                                "icuBeds": {"column": "icu_beds"},
                                "ventilators": {"column": "ventilators"},
                                "latitude": {"column": "latitude"},
                                "longitude": {"column": "longitude"},
                                "country": {"literal": "fr"},
                            },
                        },
                    },
                },
                {
                    "csv_url": "mesures_hopitaux.csv",
                    "entities": {"hospital": hospital, "measure": measure},
                },
            ],
        },
        "sante_cas": {
            "title": "Santé : cas confirmés par département",
            "owner": OWNER,
            "marking": "NP",
            "queries": [
                {
                    "csv_url": "cas_departements.csv",
                    "entities": {
                        "departement": TERRITORY,
                        "measure": {
                            "schema": "Measurement",
                            "keys": ["date", "departement"],
                            "key_literal": "sante-cas-departement",
                            "properties": {
                                "place": {"column": "departement", "required": True},
                                "subject": {"entity": "departement"},
                                "date": {"column": "date", "required": True},
                                "metric": {"literal": "cases"},
                                "value": {"column": "value", "required": True},
                            },
                        },
                    },
                }
            ],
        },
        "sante_tracage": {
            "title": "Santé : traçage des contacts d'un foyer épidémique",
            "owner": OWNER,
            "marking": "DR//SANTE",  # personal health data: the health compartment
            "queries": [
                {
                    "csv_url": "traçage.csv",
                    "entities": {
                        "person": {
                            "schema": "Person",
                            "keys": ["case_id"],
                            "key_literal": "sante-patient",
                            "properties": {
                                "name": {"columns": ["given_name", "family_name"], "join": " "},
                                "firstName": {"column": "given_name"},
                                "lastName": {"column": "family_name"},
                            },
                        },
                        "case": case,
                    },
                },
                {
                    "csv_url": "traçage.csv",
                    "filters_not": {"infector": ""},
                    "entities": {
                        "infector": {
                            "schema": "Case",
                            "keys": ["infector"],
                            "key_literal": "sante-cas",
                            "properties": {"caseNumber": {"column": "infector"}},
                        },
                        "infectee": {
                            "schema": "Case",
                            "keys": ["case_id"],
                            "key_literal": "sante-cas",
                            "properties": {"caseNumber": {"column": "case_id"}},
                        },
                        "transmission": {
                            "schema": "Transmission",
                            "keys": ["infector", "case_id"],
                            "key_literal": "sante-transmission",
                            "properties": {
                                "infector": {"entity": "infector"},
                                "infectee": {"entity": "infectee"},
                                "date": {"column": "onset"},
                                "setting": {"column": "setting"},
                            },
                        },
                    },
                },
            ],
        },
    }
