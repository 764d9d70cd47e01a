"""Lockdown-exit scenarios side by side: the same epidemic under different schedules of
contact reduction, with the ICU load against capacity, the deaths and the duration.

A scenario is a list of phases ``(first day, contact reduction)``; the reproduction
number of a phase is ``r0 * (1 - reduction)``. Each scenario runs the SEIR of
:mod:`recoupe.health.seir` from the same start, then the hospital pathway of
:mod:`recoupe.health.hospital` for the ICU census and the infection-to-death delay for
deaths. Pure numerics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recoupe.errors import ConfigError
from recoupe.health.hospital import Pathway, census
from recoupe.health.seir import Epidemic, delayed, schedule, simulate

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scenario:
    name: str
    phases: tuple[tuple[int, float], ...]
    """(first day, contact reduction from 0 to 1), the first on day 0."""


@dataclass(frozen=True)
class Outcome:
    name: str
    r: Array
    epidemic: Epidemic
    admissions: Array
    icu: Array
    deaths: Array
    icu_capacity: float
    report_from: int = 0
    """The figures count from this day on (today: the past is the same in every scenario)."""

    @property
    def peak_icu(self) -> tuple[int, float]:
        day = self.report_from + int(np.argmax(self.icu[self.report_from :]))
        return day, float(self.icu[day])

    def days_over_capacity(self) -> int:
        return int((self.icu[self.report_from :] > self.icu_capacity).sum())

    def duration(self, threshold: float = 1.0) -> int | None:
        """Days until daily infections fall below ``threshold`` for good (None: not within
        the horizon)."""
        above = np.flatnonzero(self.epidemic.infections >= threshold)
        if above.size == 0:
            return 0
        last = int(above[-1])
        return None if last == self.epidemic.infections.size - 1 else last + 1

    def summary(self) -> dict[str, object]:
        day, peak = self.peak_icu
        return {
            "scenario": self.name,
            "peak_icu": peak,
            "peak_icu_day": day,
            "icu_capacity": self.icu_capacity,
            "peak_over_capacity": max(0.0, peak - self.icu_capacity),
            "days_over_capacity": self.days_over_capacity(),
            "deaths": float(self.deaths[self.report_from :].sum()),
            "infections": float(self.epidemic.infections[self.report_from :].sum()),
            "duration_days": self.duration(),
        }


def compare(
    scenarios: Sequence[Scenario],
    *,
    days: int,
    population: float,
    r0: float,
    seed: float,
    pathway: Pathway,
    ifr: float,
    death_delay: Sequence[float],
    icu_capacity: float,
    latent: float = 4.0,
    infectious: float = 3.0,
    report_from: int = 0,
) -> list[Outcome]:
    """Run every scenario on the same epidemic; outcomes in the scenarios' order, their
    figures counted from day ``report_from``."""
    if not scenarios:
        raise ConfigError("give at least one scenario")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ConfigError(f"scenario names must differ (got {names})")
    out = []
    for s in scenarios:
        for i, (_, reduction) in enumerate(s.phases):
            if not 0 <= reduction <= 1:
                raise ConfigError(
                    f"scenario {s.name!r}, phase {i}: contact reduction must be in [0, 1] "
                    f"(got {reduction})"
                )
        try:
            r = schedule(days, [(d, r0 * (1 - red)) for d, red in s.phases])
        except ConfigError as exc:
            raise ConfigError(f"scenario {s.name!r}: {exc}") from exc
        epi = simulate(population, r, latent=latent, infectious=infectious, seed=seed)
        admissions = delayed(
            epi.infections, np.asarray(pathway.admission_delay), pathway.admission_share
        )
        load = census(admissions, pathway)
        deaths = delayed(epi.infections, np.asarray(death_delay), ifr)
        out.append(
            Outcome(s.name, r, epi, admissions, load["icu"], deaths, icu_capacity, report_from)
        )
    return out
