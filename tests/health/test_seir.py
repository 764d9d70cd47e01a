"""SEIR with a lockdown, fitted to France's 2020 deaths (WHO series via epidemia, with the
infection-to-death delay of Flaxman et al. 2020).

Salje et al. (Science 2020) estimate R 2.90 before the 17 March 2020 lockdown and 0.67
after. The fit must put R after the lockdown in [0.60, 0.75]; on a synthetic twin
simulated with 2.90 then 0.67 (Poisson deaths), it must recover R0 in [2.80, 3.00] and R
after in [0.64, 0.70].
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from recoupe.errors import ConfigError
from recoupe.health.seir import (
    expected_deaths,
    fit_deaths,
    schedule,
    seed_day_before,
    simulate,
)
from tests.health.conftest import column, rows

POPULATION = 65_273_512  # France, as the source gives it
IFR = 0.0053  # Salje et al. (2020): 0.53 % of infections die
LATENT, INFECTIOUS = 4.0, 3.0  # a generation time of 7 days, the serial interval's mean


def _france() -> tuple[list[float], np.ndarray, int, int, int]:
    daily = rows("france-2020/france_daily.csv")
    deaths = [float(r["deaths"]) for r in daily]
    start = date.fromisoformat(daily[0]["date"])
    delay = np.asarray(column("france-2020/infection_to_death.csv", "probability"))
    lockdown = (date(2020, 3, 17) - start).days
    end = (date(2020, 5, 11) - start).days  # the last day of the lockdown
    return deaths, delay, lockdown, end, seed_day_before(deaths)


def _fit(deaths: list[float] | np.ndarray) -> tuple[float, ...]:
    _, delay, lockdown, end, seed_day = _france()
    found = fit_deaths(
        list(deaths),
        POPULATION,
        [0, lockdown],
        delay.tolist(),
        ifr=IFR,
        latent=LATENT,
        infectious=INFECTIOUS,
        fit_from=seed_day,
        fit_to=end,
        seed_day=seed_day,
    )
    assert all(e < 0.5 for e in found.standard_errors)
    return found.r


def test_r_after_the_french_lockdown_lands_where_salje_et_al_put_it() -> None:
    deaths, *_ = _france()
    _, after = _fit(deaths)
    assert 0.60 <= after <= 0.75


def test_the_fit_recovers_the_r_of_a_synthetic_twin() -> None:
    deaths, delay, lockdown, _, seed_day = _france()
    r = schedule(len(deaths), [(0, 2.90), (lockdown, 0.67)])[seed_day:]
    mu, _ = expected_deaths(
        POPULATION, r, delay, ifr=IFR, latent=LATENT, infectious=INFECTIOUS, seed=1000.0
    )
    twin = np.random.default_rng(1).poisson(np.concatenate([np.zeros(seed_day), mu]))
    before, after = _fit(twin.astype(float))
    assert 2.80 <= before <= 3.00
    assert 0.64 <= after <= 0.70


def test_the_seir_conserves_people_and_grows_at_its_rate() -> None:
    epi = simulate(1e6, np.full(200, 2.0), latent=4.0, infectious=3.0, seed=10.0)
    total = epi.susceptible + epi.exposed + epi.infectious + epi.removed
    assert np.allclose(total, 1e6)
    assert epi.infections.sum() == pytest.approx(1e6 - epi.susceptible[-1], rel=1e-3)
    # Early growth rate r solves R = (1 + r latent)(1 + r infectious) for SEIR.
    r = (-7 + np.sqrt(49 + 4 * 12 * 1.0)) / 24
    early = np.log(epi.infections[41] / epi.infections[40])
    assert early == pytest.approx(r, rel=0.02)


def test_bad_phases_and_deaths_name_the_culprit() -> None:
    with pytest.raises(ConfigError, match="first phase must start on day 0"):
        schedule(10, [(2, 1.0)])
    with pytest.raises(ConfigError, match="phase 2 must start after day 5"):
        schedule(10, [(0, 1.0), (5, 2.0), (3, 1.0)])
    with pytest.raises(ConfigError, match="deaths, day 2"):
        fit_deaths(
            [0, 1, -1, 3] * 10,
            1e6,
            [0],
            [1.0],
            ifr=0.01,
            latent=4,
            infectious=3,
            fit_from=0,
            fit_to=39,
        )
