"""Hospital load from an epidemic: admissions, census by unit with nested stays, the
patients already in hospital, a fit to observed admissions, bands and backtests.

The pathway, for the patients admitted on one day (CHIME's weaknesses mended):

- a share ``icu_share`` goes to intensive care ``days_before_icu`` days after admission,
  stays ``icu_days`` there, then ``days_after_icu`` on a ward before leaving: the ICU stay
  lies *inside* the hospital stay;
- of those, a share ``ventilated_share`` is ventilated for the first ``ventilated_days``
  of the ICU stay (inside it);
- the others stay ``ward_days`` on a ward.

Stays have fixed lengths (as in CHIME), so every census is the admissions of a window of
past days. Patients in hospital when the forecast starts are counted too: the observed
census of each unit is split over past admission days as the fitted admissions fill it,
and each cohort leaves when its stay ends.

Admissions are ``admission_share`` of the infections, spread by an infection-to-admission
delay; :func:`forecast` fits the epidemic's R (one per phase) to the admissions observed
up to the forecast date (:func:`recoupe.health.seir.fit_deaths` fits any such delayed
flow), projects it, and gives bands from the fit's uncertainty (R drawn from its
approximate posterior, inflated by the overdispersion the deviance shows) and Poisson
noise on admissions. :func:`backtest` forecasts from a past date and scores the forecast
against what happened 7 and 14 days later. Pure numerics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from recoupe.errors import ConfigError
from recoupe.health.seir import delayed, fit_deaths, schedule, simulate

Array = npt.NDArray[np.float64]
UNITS = ("hospitalized", "ward", "icu", "ventilated")


@dataclass(frozen=True)
class Pathway:
    admission_share: float
    """Share of infections admitted to hospital."""
    admission_delay: tuple[float, ...]
    """P(admitted k + 1 days after infection), k = 0, 1, ..."""
    ward_days: int = 8
    icu_share: float = 0.2
    days_before_icu: int = 2
    icu_days: int = 12
    days_after_icu: int = 5
    ventilated_share: float = 0.6
    ventilated_days: int = 9

    def check(self) -> None:
        for name in ("admission_share", "icu_share", "ventilated_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ConfigError(f"{name} must be in [0, 1] (got {value})")
        for name in ("ward_days", "icu_days", "ventilated_days"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1 day")
        if self.ventilated_days > self.icu_days:
            raise ConfigError(
                f"ventilated_days ({self.ventilated_days}) must not exceed icu_days "
                f"({self.icu_days}): ventilation happens inside the ICU stay"
            )
        delay = np.asarray(self.admission_delay)
        if delay.size == 0 or np.any(delay < 0) or abs(delay.sum() - 1) > 0.01:
            raise ConfigError("admission_delay must be probabilities summing to 1")

    def kernels(self) -> dict[str, Array]:
        """Share of one day's admissions in each unit k days later (k = 0 on the day)."""
        icu_stay = self.days_before_icu + self.icu_days + self.days_after_icu
        length = max(self.ward_days, icu_stay) + 1
        k = np.arange(length)
        ward_only = (1 - self.icu_share) * (k < self.ward_days)
        in_hospital_icu = self.icu_share * (k < icu_stay)
        in_icu = self.icu_share * (
            (k >= self.days_before_icu) & (k < self.days_before_icu + self.icu_days)
        )
        ventilated = (
            self.icu_share
            * self.ventilated_share
            * ((k >= self.days_before_icu) & (k < self.days_before_icu + self.ventilated_days))
        )
        hospitalized = ward_only + in_hospital_icu
        return {
            "hospitalized": hospitalized.astype(np.float64),
            "ward": (hospitalized - in_icu).astype(np.float64),
            "icu": in_icu.astype(np.float64),
            "ventilated": ventilated.astype(np.float64),
        }


def census(admissions: Array, pathway: Pathway) -> dict[str, Array]:
    """Patients in each unit on each day, from daily admissions."""
    pathway.check()
    adm = np.asarray(admissions, dtype=np.float64)
    return {u: np.convolve(adm, kern)[: adm.size] for u, kern in pathway.kernels().items()}


def already_in(current: dict[str, float], days: int, pathway: Pathway) -> dict[str, Array]:
    """How the patients in hospital on day 0 leave: each unit's census falls linearly to
    zero over the unit's length of stay (a uniform remaining stay)."""
    lengths = {
        "ward": pathway.ward_days,
        "icu": pathway.icu_days,
        "ventilated": pathway.ventilated_days,
    }
    t = np.arange(days, dtype=np.float64)
    out = {}
    for unit, length in lengths.items():
        n = float(current.get(unit, 0.0))
        if n < 0:
            raise ConfigError(f"current {unit} census must not be negative (got {n})")
        out[unit] = n * np.clip(1 - t / length, 0, None)
    out["hospitalized"] = out["ward"] + out["icu"]
    return out


@dataclass(frozen=True)
class Forecast:
    start: int
    """Index of the first forecast day (the day after the last observation used)."""
    days: int
    admissions: Array
    """Median admissions of each forecast day."""
    census: dict[str, Array]
    """Median census by unit."""
    low: dict[str, Array]
    high: dict[str, Array]
    """5 % and 95 % bands (by unit, and for "admissions")."""
    r: tuple[float, ...]
    r_standard_errors: tuple[float, ...]
    level: float = 0.9
    fitted_admissions: Array = field(default_factory=lambda: np.zeros(0))
    """Expected admissions over the observed days, under the fit."""
    seed: float = 0.0
    """Infectious people on ``seed_day`` under the fit (the epidemic starts there)."""
    seed_day: int = 0

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for d in range(self.days):
            row: dict[str, object] = {
                "day": self.start + d,
                "admissions": float(self.admissions[d]),
            }
            for unit in UNITS:
                row[unit] = float(self.census[unit][d])
                row[f"{unit}_low"] = float(self.low[unit][d])
                row[f"{unit}_high"] = float(self.high[unit][d])
            rows.append(row)
        return {
            "r": list(self.r),
            "r_standard_errors": list(self.r_standard_errors),
            "band": self.level,
            "days": rows,
        }


def forecast(
    admissions: Sequence[float],
    *,
    until: int,
    days: int,
    population: float,
    pathway: Pathway,
    phase_starts: Sequence[int],
    future_r: Sequence[tuple[int, float]] = (),
    current: dict[str, float] | None = None,
    latent: float = 4.0,
    infectious: float = 3.0,
    seed_day: int = 0,
    draws: int = 200,
    seed: int = 0,
) -> Forecast:
    """Fit R to the admissions of days ``seed_day``..``until`` and forecast ``days`` days
    from ``until + 1``. ``future_r`` sets R from a forecast day on (a planned measure), as
    (day index, R); without it the last fitted R holds. ``current`` is the census by unit
    on day ``until`` when observed: the forecast then follows the patients already in
    hospital (their remaining stays) and adds those the model admits from ``until + 1``;
    otherwise every admission comes from the model."""
    pathway.check()
    y = np.asarray(admissions, dtype=np.float64)
    if not 0 < until < y.size:
        raise ConfigError(f"until={until} must be a day of the admissions (0..{y.size - 1})")
    if days < 1:
        raise ConfigError("days must be at least 1")
    delay = np.asarray(pathway.admission_delay)
    fit = fit_deaths(
        y[: until + 1].tolist(),
        population,
        phase_starts,
        delay.tolist(),
        ifr=pathway.admission_share,
        latent=latent,
        infectious=infectious,
        fit_from=seed_day,
        fit_to=until,
        seed_day=seed_day,
    )
    horizon = until + 1 + days
    weeks = max(1, (until - seed_day + 1) // 7 - len(fit.r) - 1)
    dispersion = max(1.0, fit.deviance / weeks)
    rng = np.random.default_rng(seed)
    r_draws = np.exp(
        np.log(fit.r)
        + rng.standard_normal((draws, len(fit.r)))
        * np.asarray(fit.standard_errors)
        / np.asarray(fit.r)
        * np.sqrt(dispersion)
    )
    r_draws[0] = fit.r  # the first draw is the fit itself
    runs_adm = np.empty((draws, days))
    runs = {u: np.empty((draws, days)) for u in UNITS}
    carry = None if current is None else _carried(current, fit.expected[: until + 1], days, pathway)
    for k in range(draws):
        phases = list(zip(fit.phase_starts, r_draws[k].tolist(), strict=True))
        later = [(d, r) for d, r in future_r if d < horizon]
        r_by_day = schedule(horizon, _merge(phases, later))[seed_day:]
        epi = simulate(population, r_by_day, latent=latent, infectious=infectious, seed=fit.seed)
        expected = np.concatenate(
            [np.zeros(seed_day), delayed(epi.infections, delay, pathway.admission_share)]
        )
        noisy = expected.copy()
        noisy[until + 1 :] = rng.poisson(expected[until + 1 :]) if k else expected[until + 1 :]
        series = noisy if carry is None else np.where(np.arange(horizon) > until, noisy, 0.0)
        load = census(series, pathway)
        runs_adm[k] = noisy[until + 1 :]
        for unit in UNITS:
            runs[unit][k] = load[unit][until + 1 :] + (0.0 if carry is None else carry[unit])
    q = (0.05, 0.5, 0.95)
    adm_q = np.quantile(runs_adm, q, axis=0)
    unit_q = {u: np.quantile(runs[u], q, axis=0) for u in UNITS}
    return Forecast(
        start=until + 1,
        days=days,
        admissions=adm_q[1],
        census={u: unit_q[u][1] for u in UNITS},
        low={"admissions": adm_q[0], **{u: unit_q[u][0] for u in UNITS}},
        high={"admissions": adm_q[2], **{u: unit_q[u][2] for u in UNITS}},
        r=fit.r,
        r_standard_errors=fit.standard_errors,
        fitted_admissions=fit.expected[: until + 1],
        seed=fit.seed,
        seed_day=seed_day,
    )


def _carried(
    current: dict[str, float], history: Array, days: int, pathway: Pathway
) -> dict[str, Array]:
    """How the patients in hospital on the last observed day leave: each unit's census is
    split over past admission days as the fitted admissions would fill it, and each
    cohort leaves when its stay ends. Without a history that fills a unit, its patients
    leave uniformly over the stay (:func:`already_in`)."""
    horizon = history.size + days
    padded = np.concatenate([history, np.zeros(days)])
    model = census(padded, pathway)
    fallback = already_in(current, days + 1, pathway)
    out: dict[str, Array] = {}
    for unit in ("ward", "icu", "ventilated"):
        n = float(current.get(unit, 0.0))
        if n < 0:
            raise ConfigError(f"current {unit} census must not be negative (got {n})")
        base = model[unit][history.size - 1]
        if base > 0:
            out[unit] = n * model[unit][history.size : horizon] / base
        else:
            out[unit] = fallback[unit][1:]
    out["hospitalized"] = out["ward"] + out["icu"]
    return out


def _merge(
    phases: list[tuple[int, float]], later: list[tuple[int, float]]
) -> list[tuple[int, float]]:
    merged = dict(phases)
    merged.update(dict(later))
    return sorted(merged.items())


@dataclass(frozen=True)
class Backtest:
    origin: int
    horizons: tuple[int, ...]
    observed: dict[int, float]
    predicted: dict[int, float]
    low: dict[int, float]
    high: dict[int, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "horizons": [
                {
                    "days_ahead": h,
                    "observed": self.observed[h],
                    "predicted": self.predicted[h],
                    "low": self.low[h],
                    "high": self.high[h],
                    "error": self.predicted[h] - self.observed[h],
                    "relative_error": (self.predicted[h] - self.observed[h]) / self.observed[h]
                    if self.observed[h]
                    else None,
                    "covered": self.low[h] <= self.observed[h] <= self.high[h],
                }
                for h in self.horizons
            ],
        }


def backtest(
    admissions: Sequence[float],
    observed_census: Sequence[float],
    *,
    origin: int,
    population: float,
    pathway: Pathway,
    phase_starts: Sequence[int],
    unit: str = "hospitalized",
    horizons: Sequence[int] = (7, 14),
    current: dict[str, float] | None = None,
    seed_day: int = 0,
    draws: int = 200,
) -> Backtest:
    """Forecast from day ``origin`` with what was known then (admissions up to it, and
    the census by unit on it when ``current`` is given), and compare the ``unit`` census
    ``horizons`` days later with what was observed."""
    if unit not in UNITS:
        raise ConfigError(f"unit {unit!r}: use one of {', '.join(UNITS)}")
    seen = np.asarray(observed_census, dtype=np.float64)
    last = origin + max(horizons)
    if last >= seen.size:
        raise ConfigError(f"the census ends on day {seen.size - 1}; day {last} is needed")
    found = forecast(
        list(admissions)[: origin + 1],
        until=origin,
        days=max(horizons),
        population=population,
        pathway=pathway,
        phase_starts=phase_starts,
        current=current,
        seed_day=seed_day,
        draws=draws,
    )
    obs, pred, low, high = {}, {}, {}, {}
    for h in horizons:
        obs[h] = float(seen[origin + h])
        pred[h] = float(found.census[unit][h - 1])
        low[h] = float(found.low[unit][h - 1])
        high[h] = float(found.high[unit][h - 1])
    return Backtest(origin, tuple(horizons), obs, pred, low, high)
