"""Health series from the store, and the use cases built on them: forecasts, shortage
alerts, transfer plans and exit scenarios.

`Hospital` entities carry their beds; `Measurement` entities carry dated values (metric
``admissions``; ``census`` by ``unit`` ward/icu/ventilated; ``stock`` and ``delivery`` by
``item``; ``cases`` by ``place``). Everything is read as the reader may see it.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from recoupe import territories
from recoupe.errors import ConfigError, NotFound
from recoupe.health.equipment import STANDARD_RATES, daily_needs, stock_out, unit_census
from recoupe.health.hospital import UNITS, Forecast, Pathway, census, forecast
from recoupe.health.scenarios import Outcome, Scenario, compare
from recoupe.health.transfers import Plan, plan_stock, plan_transfers
from recoupe.security.reader import Reader
from recoupe.store.duckdb import DuckDBStore

if TYPE_CHECKING:
    from recoupe.services.health import HealthModel

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HospitalInfo:
    entity_id: str
    code: str
    name: str
    departement: str | None
    region: str | None
    ward_beds: float
    icu_beds: float
    ventilators: float
    latitude: float | None
    longitude: float | None


@dataclass
class HealthData:
    start: date
    days: int
    hospitals: list[HospitalInfo]
    admissions: Array
    """Hospitals x days."""
    census: dict[str, Array]
    """Unit -> hospitals x days."""
    stock: dict[tuple[int, str], float] = field(default_factory=dict)
    stock_day: dict[tuple[int, str], int] = field(default_factory=dict)
    deliveries: dict[tuple[int, str], dict[int, float]] = field(default_factory=dict)
    cases: dict[str, Array] = field(default_factory=dict)
    """Place code -> daily counts."""

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def day_of(self, when: date) -> int:
        return (when - self.start).days

    def find(self, key: str) -> int:
        for i, h in enumerate(self.hospitals):
            if key in (h.entity_id, h.code) or key.lower() in h.name.lower():
                return i
        names = ", ".join(f"{h.code} ({h.name})" for h in self.hospitals)
        raise NotFound(f"no hospital {key!r}; there are: {names}")


def load(store: DuckDBStore, reader: Reader) -> HealthData:
    """Every hospital and series the reader may see."""
    scope = store.scope_sql(reader)
    hospitals = store.con.execute(
        f"""
        SELECT entity_id,
          min(value) FILTER (WHERE prop = 'idNumber'), min(value) FILTER (WHERE prop = 'name'),
          min(value) FILTER (WHERE prop = 'departement'),
          min(value) FILTER (WHERE prop = 'region'),
          max(try_cast(value AS DOUBLE)) FILTER (WHERE prop = 'wardBeds'),
          max(try_cast(value AS DOUBLE)) FILTER (WHERE prop = 'icuBeds'),
          max(try_cast(value AS DOUBLE)) FILTER (WHERE prop = 'ventilators'),
          max(try_cast(value AS DOUBLE)) FILTER (WHERE prop = 'latitude'),
          max(try_cast(value AS DOUBLE)) FILTER (WHERE prop = 'longitude')
        FROM statements WHERE schema = 'Hospital' AND ({scope})
        GROUP BY entity_id HAVING min(value) FILTER (WHERE prop = 'name') IS NOT NULL
        ORDER BY 2, 1
        """
    ).fetchall()
    if not hospitals:
        raise NotFound("no hospital is visible: ingest hospitals (schema Hospital) first")
    infos = [
        HospitalInfo(
            r[0],
            r[1] or r[0][:8],
            r[2],
            r[3],
            r[4],
            r[5] or 0.0,
            r[6] or 0.0,
            r[7] or 0.0,
            r[8],
            r[9],
        )
        for r in hospitals
    ]
    index = {h.entity_id: i for i, h in enumerate(infos)}
    rows = store.con.execute(
        f"""
        SELECT min(value) FILTER (WHERE prop = 'subject'), min(value) FILTER (WHERE prop = 'place'),
          min(value) FILTER (WHERE prop = 'metric'), min(value) FILTER (WHERE prop = 'unit'),
          min(value) FILTER (WHERE prop = 'item'), min(value) FILTER (WHERE prop = 'date'),
          max(try_cast(value AS DOUBLE)) FILTER (WHERE prop = 'value')
        FROM statements WHERE schema = 'Measurement' AND ({scope})
        GROUP BY entity_id
        """
    ).fetchall()
    dated = [r for r in rows if r[5] and r[6] is not None]
    if not dated:
        raise NotFound("no dated measurement is visible: ingest admissions and census first")
    series_days = [date.fromisoformat(r[5][:10]) for r in dated if r[2] != "delivery"]
    start, end = min(series_days), max(series_days)
    days = (end - start).days + 1
    n = len(infos)
    data = HealthData(
        start,
        days,
        infos,
        np.zeros((n, days)),
        {u: np.zeros((n, days)) for u in ("ward", "icu", "ventilated")},
    )
    for subject, place, metric, unit, item, when, value in dated:
        day = (date.fromisoformat(when[:10]) - start).days
        h = index.get(subject) if subject else None
        if metric == "cases" and place:
            if place not in data.cases:
                data.cases[place] = np.zeros(days)
            if 0 <= day < days:
                data.cases[place][day] += value
        elif h is None:
            continue
        elif metric == "admissions" and 0 <= day < days:
            data.admissions[h, day] = value
        elif metric == "census" and unit in data.census and 0 <= day < days:
            data.census[unit][h, day] = value
        elif metric == "stock" and item:
            if day >= data.stock_day.get((h, item), -1):
                data.stock[(h, item)] = value
                data.stock_day[(h, item)] = day
        elif metric == "delivery" and item:
            data.deliveries.setdefault((h, item), {})
            data.deliveries[(h, item)][day] = data.deliveries[(h, item)].get(day, 0.0) + value
    return data


def _changes(data: HealthData, changes: Sequence[date]) -> list[int]:
    starts = [0]
    for when in sorted(changes):
        day = data.day_of(when)
        if not 0 < day < data.days:
            raise ConfigError(
                f"--change {when}: must fall inside the data ({data.start} to "
                f"{data.date_of(data.days - 1)})"
            )
        starts.append(day)
    return starts


@dataclass(frozen=True)
class RegionForecast:
    data: HealthData
    forecast: Forecast
    hospitals: dict[str, Array]
    """Unit -> hospitals x forecast days (medians, apportioned)."""
    hospital_admissions: Array
    until: int

    def to_dict(self) -> dict[str, Any]:
        out = self.forecast.to_dict()
        for row in out["days"]:
            row["date"] = self.data.date_of(int(row["day"])).isoformat()
        caps = {
            "icu": sum(h.icu_beds for h in self.data.hospitals),
            "hospitalized": sum(h.ward_beds + h.icu_beds for h in self.data.hospitals),
        }
        codes = sorted({h.region for h in self.data.hospitals if h.region})
        return {
            "from": self.data.date_of(self.until).isoformat(),
            "regions": [{"code": c, "name": _territory_name(c, "region")} for c in codes],
            "capacity": caps,
            **out,
            "hospitals": [
                {
                    "hospital": h.code,
                    "name": h.name,
                    "entity_id": h.entity_id,
                    "latitude": h.latitude,
                    "longitude": h.longitude,
                    "departement": h.departement,
                    "departement_name": _territory_name(h.departement, "departement"),
                    "icu_beds": h.icu_beds,
                    "peak_icu": float(self.hospitals["icu"][i].max()),
                    "peak_icu_date": self.data.date_of(
                        self.until + 1 + int(self.hospitals["icu"][i].argmax())
                    ).isoformat(),
                    "days_over_icu_capacity": int((self.hospitals["icu"][i] > h.icu_beds).sum()),
                }
                for i, h in enumerate(self.data.hospitals)
            ],
        }


def region_forecast(
    data: HealthData,
    *,
    days: int = 14,
    until: date | None = None,
    changes: Sequence[date] = (),
    pathway: Pathway,
    population: float,
    draws: int = 200,
) -> RegionForecast:
    """Fit the region's admissions up to ``until`` (default: the last day) with one R per
    phase (``changes`` start new phases, such as a lockdown), forecast ``days`` days, and
    apportion the forecast to hospitals by their share of the last 14 days' admissions."""
    last = data.days - 1 if until is None else data.day_of(until)
    if not 14 <= last < data.days:
        raise ConfigError(f"--from {until}: needs 14 days of data before it, inside the data")
    total = data.admissions.sum(axis=0)
    first = int(np.flatnonzero(total > 0)[0]) if total.any() else 0
    seed_day = max(0, first - 20)
    current = {u: float(data.census[u][:, last].sum()) for u in ("ward", "icu", "ventilated")}
    found = _cached_forecast(
        tuple(total[: last + 1].tolist()),
        last,
        days,
        population,
        pathway,
        tuple(_changes(data, changes)),
        tuple(sorted(current.items())),
        seed_day,
        draws,
    )
    recent = data.admissions[:, max(0, last - 13) : last + 1].sum(axis=1)
    share = recent / recent.sum() if recent.sum() > 0 else np.full(recent.size, 1 / recent.size)
    adm_h = np.outer(share, found.admissions)
    per: dict[str, Array] = {}
    for unit in UNITS:
        per[unit] = np.zeros((len(data.hospitals), days))
    for i in range(len(data.hospitals)):
        history = np.concatenate([data.admissions[i, : last + 1], adm_h[i]])
        load = census(history, pathway)
        observed_now = {u: float(data.census[u][i, last]) for u in ("ward", "icu", "ventilated")}
        modelled_now = {u: float(load[u][last]) for u in ("ward", "icu", "ventilated")}
        for unit in ("ward", "icu", "ventilated"):
            # The model's census, moved to match what the hospital reports today, the gap
            # fading over the unit's stay.
            gap = observed_now[unit] - modelled_now[unit]
            stay = {
                "ward": pathway.ward_days,
                "icu": pathway.icu_days,
                "ventilated": pathway.ventilated_days,
            }[unit]
            fade = np.clip(1 - np.arange(1, days + 1) / stay, 0, None)
            per[unit][i] = np.maximum(load[unit][last + 1 :] + gap * fade, 0.0)
        per["hospitalized"][i] = per["ward"][i] + per["icu"][i]
    return RegionForecast(data, found, per, adm_h, last)


@functools.lru_cache(maxsize=16)
def _cached_forecast(
    admissions: tuple[float, ...],
    until: int,
    days: int,
    population: float,
    pathway: Pathway,
    phase_starts: tuple[int, ...],
    current: tuple[tuple[str, float], ...],
    seed_day: int,
    draws: int,
) -> Forecast:
    """The same data and assumptions give the same forecast (its draws are seeded): a
    dashboard asking for the forecast, then the alerts, then the transfers fits once."""
    return forecast(
        list(admissions),
        until=until,
        days=days,
        population=population,
        pathway=pathway,
        phase_starts=phase_starts,
        current=dict(current),
        seed_day=seed_day,
        draws=draws,
    )


def shortage_alerts(result: RegionForecast) -> list[dict[str, Any]]:
    """Items and beds that run out within the forecast, most urgent first."""
    data = result.data
    alerts = []
    days = result.forecast.days
    for i, h in enumerate(data.hospitals):
        load = unit_census(
            result.hospitals["hospitalized"][i],
            result.hospitals["icu"][i],
            result.hospital_admissions[i],
        )
        needs = daily_needs(load, STANDARD_RATES)
        for item, need in needs.items():
            if (i, item) not in data.stock:
                continue
            got = np.zeros(days)
            for day, qty in data.deliveries.get((i, item), {}).items():
                k = day - (result.until + 1)
                if 0 <= k < days:
                    got[k] += qty
            out = stock_out(data.stock[(i, item)], need, got)
            if out.day is None:
                continue
            alerts.append(
                {
                    "hospital": h.code,
                    "name": h.name,
                    "kind": "stock",
                    "item": item,
                    "days_left": round(float(out.days_left or 0.0), 1),
                    "runs_out": data.date_of(result.until + 1 + out.day).isoformat(),
                    "stock": data.stock[(i, item)],
                    "daily_need": round(float(need[0]), 1),
                    "missing_over_horizon": round(float(-out.remaining.min()), 0),
                }
            )
        for unit, beds in (("icu", h.icu_beds), ("ventilated", h.ventilators)):
            over = np.flatnonzero(result.hospitals[unit][i] > beds)
            if beds and over.size:
                alerts.append(
                    {
                        "hospital": h.code,
                        "name": h.name,
                        "kind": "beds",
                        "item": unit,
                        "days_left": float(over[0]),
                        "runs_out": data.date_of(result.until + 1 + int(over[0])).isoformat(),
                        "stock": beds,
                        "daily_need": round(float(result.hospitals[unit][i].max()), 1),
                        "missing_over_horizon": round(
                            float(result.hospitals[unit][i].max() - beds), 0
                        ),
                    }
                )
    return sorted(alerts, key=lambda a: (a["days_left"], a["hospital"], a["item"]))


def _hours(data: HealthData, speed_kmh: float) -> Array:
    n = len(data.hospitals)
    out = np.full((n, n), np.inf)
    for i, a in enumerate(data.hospitals):
        for j, b in enumerate(data.hospitals):
            if i != j and None not in (a.latitude, a.longitude, b.latitude, b.longitude):
                out[i, j] = _km(a, b) / speed_kmh
    return out


def _km(a: HospitalInfo, b: HospitalInfo) -> float:
    assert a.latitude is not None
    assert a.longitude is not None
    assert b.latitude is not None
    assert b.longitude is not None
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def transfer_plan(
    result: RegionForecast,
    *,
    day: int | None = None,
    unit: str = "icu",
    vehicle_size: int = 4,
    speed_kmh: float = 150.0,
) -> tuple[Plan, date]:
    """Transfers that bring each hospital under its ``unit`` beds on forecast ``day``
    (default: the day the region's load peaks); burden in patient-hours of travel."""
    if unit not in ("icu", "hospitalized"):
        raise ConfigError(f"--unit {unit!r}: use icu or hospitalized")
    load = result.hospitals[unit]
    k = int(load.sum(axis=0).argmax()) if day is None else day
    if not 0 <= k < load.shape[1]:
        raise ConfigError(f"--day {day}: the forecast has days 0 to {load.shape[1] - 1}")
    beds = [
        h.icu_beds if unit == "icu" else h.icu_beds + h.ward_beds for h in result.data.hospitals
    ]
    plan = plan_transfers(
        np.rint(load[:, k]).tolist(),
        beds,
        _hours(result.data, speed_kmh),
        vehicle_size=vehicle_size,
        vehicle_cost=1.0,
        names=[h.code for h in result.data.hospitals],
    )
    return plan, result.data.date_of(result.until + 1 + k)


def stock_plan(result: RegionForecast, item: str, *, cover_days: int = 7) -> Plan:
    """Stock moves that give every hospital ``cover_days`` of ``item`` at forecast use."""
    data = result.data
    stock, need = [], []
    for i, h in enumerate(data.hospitals):
        load = unit_census(
            result.hospitals["hospitalized"][i],
            result.hospitals["icu"][i],
            result.hospital_admissions[i],
        )
        daily = daily_needs(load, STANDARD_RATES).get(item)
        if daily is None:
            known = ", ".join(sorted(daily_needs(load)))
            raise ConfigError(f"--item {item!r}: not an item of the rates ({known})")
        stock.append(data.stock.get((i, item), 0.0))
        need.append(float(daily[:cover_days].sum()))
        del h
    return plan_stock(stock, need, _hours(data, 80.0), names=[h.code for h in data.hospitals])


DEFAULT_SCENARIOS: tuple[tuple[str, tuple[tuple[int, float], ...]], ...] = (
    ("confinement prolongé", ()),
    ("déconfinement progressif", ((14, 0.55), (42, 0.45))),
    ("déconfinement brutal", ((14, 0.2),)),
)
"""(name, (days after today, contact reduction)...): keep the lockdown, reopen in two
steps two and six weeks from today, reopen at once in two weeks."""


def exit_scenarios(
    result: RegionForecast,
    model: HealthModel,
    chosen: Sequence[tuple[str, Sequence[tuple[int, float]]]] | None = None,
    *,
    days: int = 180,
) -> tuple[dict[str, Any], list[Outcome], date, int]:
    """Exit scenarios on the fitted epidemic: the phases before today are the fit's (R
    before and during the lockdown); each scenario sets contact reductions from its days
    (data days; default :data:`DEFAULT_SCENARIOS`, from today). Returns the summary, the
    outcomes, the day the runs start and today's index in them."""
    data = result.data
    fitted = result.forecast
    r0 = fitted.r[0]
    today = result.until
    phases = [data.day_of(c) for c in model.changes]
    base = [(0, 0.0), *((d, 1 - r / r0) for d, r in zip(phases, fitted.r[1:], strict=False))]
    if chosen is None:
        chosen = [(n, [(today + d, red) for d, red in ph]) for n, ph in DEFAULT_SCENARIOS]
    seed_day = fitted.seed_day
    scenarios = [
        Scenario(
            name,
            tuple((max(0, d - seed_day), red) for d, red in sorted(dict([*base, *later]).items())),
        )
        for name, later in chosen
    ]
    capacity = sum(h.icu_beds for h in data.hospitals)
    outcomes = compare(
        scenarios,
        days=days,
        population=model.population,
        r0=r0,
        seed=fitted.seed,
        pathway=model.pathway,
        ifr=model.ifr,
        death_delay=model.death_delay,
        icu_capacity=capacity,
        latent=model.latent,
        infectious=model.infectious,
        report_from=today + 1 - seed_day,
    )
    start = data.date_of(seed_day)
    rows = []
    for o in outcomes:
        row: dict[str, Any] = o.summary()
        row["peak_icu_date"] = (start + timedelta(days=int(row["peak_icu_day"]))).isoformat()
        rows.append(row)
    summary = {
        "r0": r0,
        "r_fitted": list(fitted.r),
        "today": data.date_of(today).isoformat(),
        "icu_capacity": capacity,
        "scenarios": rows,
    }
    return summary, outcomes, start, today - seed_day


# -- reports: plain dicts, the same for the CLI and the API -----------------------------


def _run(
    data: HealthData, model: HealthModel, days: int, until: date | None, draws: int
) -> RegionForecast:
    return region_forecast(
        data,
        days=days,
        until=until,
        changes=model.changes,
        pathway=model.pathway,
        population=model.population,
        draws=draws,
    )


def forecast_report(
    data: HealthData,
    model: HealthModel,
    *,
    days: int = 14,
    until: date | None = None,
    draws: int = 200,
) -> dict[str, Any]:
    """The forecast, with the observed ICU census before it (for charts)."""
    result = _run(data, model, days, until, draws)
    out = result.to_dict()
    out["start"] = data.start.isoformat()
    out["observed_icu"] = data.census["icu"][:, : result.until + 1].sum(axis=0).tolist()
    return out


def alerts_report(
    data: HealthData, model: HealthModel, *, days: int = 14, until: date | None = None
) -> list[dict[str, Any]]:
    return shortage_alerts(_run(data, model, days, until, 100))


def transfers_report(
    data: HealthData,
    model: HealthModel,
    *,
    days: int = 14,
    until: date | None = None,
    day: int | None = None,
    unit: str = "icu",
    vehicle_size: int = 4,
    item: str | None = None,
) -> dict[str, Any]:
    result = _run(data, model, days, until, 100)
    if item is not None:
        return {"item": item, **stock_plan(result, item).to_dict()}
    plan, when = transfer_plan(result, day=day, unit=unit, vehicle_size=vehicle_size)
    return {"date": when.isoformat(), "unit": unit, **plan.to_dict()}


def scenarios_report(
    data: HealthData,
    model: HealthModel,
    *,
    days: int = 180,
    chosen: Sequence[tuple[str, Sequence[tuple[int, float]]]] | None = None,
) -> dict[str, Any]:
    summary, outcomes, start, today = exit_scenarios(
        _run(data, model, 14, None, 1), model, chosen, days=days
    )
    summary["curves"] = {
        "start": start.isoformat(),
        "today": today,
        "icu": {o.name: [round(float(x), 1) for x in o.icu] for o in outcomes},
    }
    return summary


def backtest_report(
    data: HealthData, model: HealthModel, *, origin: date, unit: str = "icu", draws: int = 200
) -> dict[str, Any]:
    """Forecast from a past day with what was known then; compare 7 and 14 days later."""
    from recoupe.health.hospital import backtest

    day = data.day_of(origin)
    total = data.admissions.sum(axis=0)
    observed = (
        data.census["ward"].sum(axis=0) + data.census["icu"].sum(axis=0)
        if unit == "hospitalized"
        else data.census[unit].sum(axis=0)
    )
    starts = [0, *(data.day_of(c) for c in model.changes if 0 < data.day_of(c) <= day)]
    first = int(total.nonzero()[0][0]) if total.any() else 0
    if not 0 < day < data.days:
        raise ConfigError(f"--from {origin}: must fall inside the data ({data.start} on)")
    result = backtest(
        total.tolist(),
        observed.tolist(),
        origin=day,
        population=model.population,
        pathway=model.pathway,
        phase_starts=starts,
        unit=unit,
        current={u: float(data.census[u][:, day].sum()) for u in ("ward", "icu", "ventilated")},
        seed_day=max(0, first - 20),
        draws=draws,
    ).to_dict()
    result["origin"] = origin.isoformat()
    result["unit"] = unit
    return result


def rt_report(
    data: HealthData, place: str, *, si_mean: float, si_sd: float, window: int = 7
) -> dict[str, Any]:
    """Rt of a place's daily case counts (metric ``cases``), with each window's dates.

    ``place`` is the code the counts carry, or a département's name ("Bas-Rhin")."""
    from recoupe.health.rt import discrete_si, estimate_rt

    asked = place
    if place not in data.cases:
        with contextlib.suppress(NotFound, ConfigError):  # not a département's name either
            place = territories.find(place, level="departement").code
    if place not in data.cases:
        known = ", ".join(_place_label(p) for p in sorted(data.cases)) or "none"
        raise NotFound(f"no case counts for place {asked!r} (places with cases: {known})")
    counts = data.cases[place]
    days = counts.size
    if days < window + 1:
        raise ConfigError(f"{place}: {days} days of cases cannot hold windows of {window} days")
    starts = list(range(2, days - window + 2))
    found = estimate_rt(
        counts,
        discrete_si(np.arange(days), si_mean, si_sd),
        t_start=starts,
        t_end=[s + window - 1 for s in starts],
    )
    rows: list[dict[str, Any]] = []
    for row in found.rows():
        start, end = int(row["t_start"] or 0), int(row["t_end"] or 0)
        rows.append(
            {
                **row,
                "start_date": data.date_of(start - 1).isoformat(),
                "end_date": data.date_of(end - 1).isoformat(),
            }
        )
    return {
        "place": place,
        "name": _place_name(place),
        "si_mean": found.si_mean,
        "windows": rows,
        "cases": [
            {"date": data.date_of(day).isoformat(), "cases": float(counts[day])}
            for day in range(days)
        ],
    }


def _territory_name(code: str | None, level: str) -> str | None:
    if code is None:
        return None
    try:
        return territories.get(code, level).name
    except NotFound:
        return None


def _place_name(code: str) -> str | None:
    return _territory_name(code, "departement")


def _place_label(code: str) -> str:
    name = _place_name(code)
    return code if name is None else f"{code} ({name})"
