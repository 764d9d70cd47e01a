"""A CHIME-compatible hospital census model (Penn Medicine's COVID-19 Hospital Impact Model
for Epidemics, v1.1.5), reproducing its published test fixture.

The model, in words (as CHIME's documentation gives it):

1. growth rate g = 2^(1/doubling_time) - 1; gamma = 1/infectious_days;
2. the infected on the day the first patient is admitted, I0 = 1 / market_share /
   hospitalized rate; S0 = population - I0;
3. beta = (g + gamma) / S0 * (1 - relative_contact_rate): R0 = 1 + g/gamma before the
   mitigation date, Rt = R0 (1 - rho) after, and the doubling time after mitigation
   1 / log2(beta_t S0 - gamma + 1);
4. a discrete, daily SIR, each step rescaled so that S + I + R stays the population;
5. for each disposition k (hospitalized, icu, ventilated): ever_k = (I + R) rate_k
   market_share, admissions are its daily differences and the census the admissions of
   the last ``days_k`` days;
6. day 0 (the current date) is the day ``i_day`` of the simulation, chosen so that the
   hospitalized census there is closest (least squares) to the patients in hospital now,
   among the days not after the census peak.

Its known weaknesses are kept on purpose, for compatibility: the census at day 0 is not
the patients in hospital now (CHIME issue 504), and ICU and ventilated stays are not nested
in the hospital stay (issue 385). :mod:`recoupe.health.seir` is the better model beside it.
Pure numerics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from recoupe.errors import ConfigError

Array = npt.NDArray[np.float64]
DISPOSITIONS = ("hospitalized", "icu", "ventilated")
MAX_I_DAY = 1_000
"""The furthest back day 0 may lie from the start of the epidemic."""


@dataclass(frozen=True)
class Disposition:
    rate: float
    """Share of all infections that need this care."""
    days: int
    """Length of stay."""


@dataclass(frozen=True)
class ChimeParameters:
    population: int
    current_hospitalized: int
    doubling_time: float
    infectious_days: float
    relative_contact_rate: float
    market_share: float
    hospitalized: Disposition
    icu: Disposition
    ventilated: Disposition
    n_days: int
    current_date: date
    mitigation_date: date | None = None
    recovered: float = 0.0

    def disposition(self, key: str) -> Disposition:
        found: Disposition = getattr(self, key)
        return found


@dataclass(frozen=True)
class ChimeResult:
    i_day: int
    growth_rate: float
    r0: float
    rt: float
    doubling_time_t: float
    day: npt.NDArray[np.int64]
    """Days from -i_day to n_days (0 = the current date)."""
    susceptible: Array
    infected: Array
    recovered: Array
    admits: dict[str, Array]
    census: dict[str, Array]
    current_date: date
    params: ChimeParameters = field(repr=False)

    def peak(self, key: str) -> tuple[int, float]:
        """(day, census) of the highest census of a disposition."""
        values = np.nan_to_num(self.census[key], nan=-np.inf)
        i = int(np.argmax(values))
        return int(self.day[i]), float(self.census[key][i])

    def to_dict(self) -> dict[str, Any]:
        """The contract's shape: i_day, r0, rt, doubling_time_t and the census by day from
        day 0 (the current date)."""
        start = self.i_day
        census = [
            {
                "day": int(self.day[i]),
                "date": (self.current_date + timedelta(days=int(self.day[i]))).isoformat(),
                **{k: float(self.census[k][i]) for k in DISPOSITIONS},
            }
            for i in range(start, self.day.size)
        ]
        return {
            "i_day": self.i_day,
            "growth_rate": self.growth_rate,
            "r0": self.r0,
            "rt": self.rt,
            "doubling_time_t": self.doubling_time_t,
            "census": census,
        }


def growth_rate(doubling_time: float) -> float:
    return float(2.0 ** (1.0 / doubling_time) - 1.0)


def _beta(growth: float, gamma: float, susceptible: float, contact_rate: float) -> float:
    return (growth + gamma) / susceptible * (1.0 - contact_rate)


def _sir(
    s: float, i: float, r: float, gamma: float, policies: list[tuple[float, int]]
) -> tuple[Array, Array, Array]:
    n = s + i + r
    total = 1 + sum(days for _, days in policies)
    out = np.empty((3, total))
    index = 0
    for beta, days in policies:
        for _ in range(days):
            out[:, index] = (s, i, r)
            index += 1
            s_n = max(s - beta * s * i, 0.0)
            i_n = max(i + beta * s * i - gamma * i, 0.0)
            r_n = max(r + gamma * i, 0.0)
            scale = n / (s_n + i_n + r_n)
            s, i, r = s_n * scale, i_n * scale, r_n * scale
    out[:, index] = (s, i, r)
    return out[0], out[1], out[2]


def _census(admits: Array, days: int) -> Array:
    """Admissions of the last ``days`` days (NaN on the first day, which has none)."""
    filled = np.nan_to_num(admits)
    total = np.cumsum(filled)
    shifted = np.concatenate([np.zeros(days), total[:-days]]) if days > 0 else total
    census = total - shifted[: total.size]
    census[0] = np.nan
    return census


def run_chime(p: ChimeParameters) -> ChimeResult:
    """Project the census (see the module docstring)."""
    _check(p)
    gamma = 1.0 / p.infectious_days
    infected = 1.0 / p.market_share / p.hospitalized.rate
    susceptible = p.population - infected
    growth = growth_rate(p.doubling_time)
    beta = _beta(growth, gamma, susceptible, 0.0)
    beta_t = _beta(growth, gamma, susceptible, p.relative_contact_rate)
    mitigation = 0 if p.mitigation_date is None else (p.mitigation_date - p.current_date).days

    def project(i_day: int) -> tuple[Array, Array, Array, dict[str, Array], dict[str, Array]]:
        start = max(mitigation, -i_day)
        before = i_day + start
        policies = [(beta, before), (beta_t, i_day + p.n_days - before)]
        s, i, r = _sir(susceptible, infected, p.recovered, gamma, policies)
        admits: dict[str, Array] = {}
        census: dict[str, Array] = {}
        for key in DISPOSITIONS:
            d = p.disposition(key)
            ever = (i + r) * d.rate * p.market_share
            admits[key] = np.concatenate([[np.nan], np.diff(ever)])
            census[key] = _census(admits[key], d.days)
        return s, i, r, admits, census

    best, best_loss = -1, math.inf
    for i_day in range(MAX_I_DAY):
        *_, census = project(i_day)
        hosp = census["hospitalized"]
        if int(np.nanargmax(hosp)) < i_day:
            continue  # day 0 would lie after the peak
        loss = (hosp[i_day] - p.current_hospitalized) ** 2
        if loss < best_loss:
            best, best_loss = i_day, loss
    if best < 0:
        raise ConfigError(
            "no day before the census peak matches current_hospitalized="
            f"{p.current_hospitalized}: the population is too small for it"
        )
    s, i, r, admits, census = project(best)
    r0 = beta * susceptible / gamma
    day = np.arange(-best, p.n_days + 1, dtype=np.int64)
    return ChimeResult(
        i_day=best,
        growth_rate=growth,
        r0=r0,
        rt=r0 * (1.0 - p.relative_contact_rate),
        doubling_time_t=1.0 / math.log2(beta_t * susceptible - gamma + 1.0),
        day=day,
        susceptible=s,
        infected=i,
        recovered=r,
        admits=admits,
        census=census,
        current_date=p.current_date,
        params=p,
    )


def _check(p: ChimeParameters) -> None:
    def need(ok: bool, key: str, what: str, value: object) -> None:
        if not ok:
            raise ConfigError(f"{key}: {what} (got {value!r})")

    need(p.population > 0, "population", "must be more than 0", p.population)
    need(
        p.current_hospitalized > 0,
        "current_hospitalized",
        "must be more than 0",
        p.current_hospitalized,
    )
    need(p.doubling_time > 0, "doubling_time", "must be more than 0 days", p.doubling_time)
    need(p.infectious_days > 0, "infectious_days", "must be more than 0", p.infectious_days)
    need(
        0 <= p.relative_contact_rate < 1,
        "relative_contact_rate",
        "must be in [0, 1)",
        p.relative_contact_rate,
    )
    need(0 < p.market_share <= 1, "market_share", "must be in (0, 1]", p.market_share)
    need(p.n_days > 0, "n_days", "must be more than 0", p.n_days)
    for key in DISPOSITIONS:
        d = p.disposition(key)
        need(0 < d.rate <= 1, f"{key}.rate", "must be in (0, 1]", d.rate)
        need(d.days > 0, f"{key}.days", "must be a whole number of days > 0", d.days)


def chime_from_dict(data: Any) -> ChimeParameters:
    """Parameters from CHIME's names (as JSON); an error names the key."""
    if not isinstance(data, dict):
        raise ConfigError("the CHIME config must be a JSON object")
    required = (
        "population",
        "current_hospitalized",
        "doubling_time",
        "infectious_days",
        "relative_contact_rate",
        "market_share",
        "hospitalized",
        "icu",
        "ventilated",
        "n_days",
        "current_date",
    )
    allowed = {*required, "mitigation_date", "recovered"}
    missing = [k for k in required if k not in data]
    if missing:
        raise ConfigError(f"key {missing[0]}: missing from the CHIME config")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"key {unknown[0]}: not a CHIME parameter; use {sorted(allowed)}")

    def number(key: str) -> float:
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"key {key}: expected a number, got {value!r}")
        return float(value)

    def whole(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"key {key}: expected a whole number, got {value!r}")
        return value

    def day(key: str) -> date | None:
        value = data.get(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise ConfigError(f"key {key}: expected a date YYYY-MM-DD, got {value!r}") from exc

    def disposition(key: str) -> Disposition:
        d = data[key]
        if not isinstance(d, dict) or set(d) != {"rate", "days"}:
            raise ConfigError(f"key {key}: expected {{'rate': ..., 'days': ...}}, got {d!r}")
        rate = d["rate"]
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise ConfigError(f"key {key}.rate: expected a number, got {rate!r}")
        return Disposition(float(rate), whole(f"{key}.days", d["days"]))

    current = day("current_date")
    assert current is not None
    return ChimeParameters(
        population=whole("population", data["population"]),
        current_hospitalized=whole("current_hospitalized", data["current_hospitalized"]),
        doubling_time=number("doubling_time"),
        infectious_days=number("infectious_days"),
        relative_contact_rate=number("relative_contact_rate"),
        market_share=number("market_share"),
        hospitalized=disposition("hospitalized"),
        icu=disposition("icu"),
        ventilated=disposition("ventilated"),
        n_days=whole("n_days", data["n_days"]),
        current_date=current,
        mitigation_date=day("mitigation_date"),
        recovered=float(data.get("recovered", 0.0)),
    )
