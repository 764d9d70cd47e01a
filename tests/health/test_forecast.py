"""The hospital pathway (nested stays), forecasts with bands, and backtests, on a
synthetic epidemic whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from recoupe.errors import ConfigError
from recoupe.health.hospital import Pathway, already_in, backtest, census, forecast
from recoupe.health.seir import delayed, schedule, simulate

POPULATION = 5_000_000


def _delay() -> tuple[float, ...]:
    k = np.arange(1, 41)
    p = stats.gamma.cdf(k, 4, scale=2.5) - stats.gamma.cdf(k - 1, 4, scale=2.5)
    return tuple((p / p.sum()).tolist())


PATHWAY = Pathway(admission_share=0.02, admission_delay=_delay())


def _truth() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    r = schedule(140, [(0, 2.6), (45, 0.8)])
    epi = simulate(POPULATION, r, latent=4, infectious=3, seed=20)
    mu = delayed(epi.infections, np.asarray(PATHWAY.admission_delay), 0.02)
    admissions = np.random.default_rng(3).poisson(mu).astype(float)
    return admissions, census(admissions, PATHWAY)


def test_icu_and_ventilation_are_nested_in_the_hospital_stay() -> None:
    kernels = PATHWAY.kernels()
    assert np.all(kernels["icu"] <= kernels["hospitalized"])
    assert np.all(kernels["ventilated"] <= kernels["icu"])
    assert np.allclose(kernels["ward"] + kernels["icu"], kernels["hospitalized"])
    # One admission: patient-days on the ward and in ICU add up to the mean stay.
    stay = (1 - 0.2) * 8 + 0.2 * (2 + 12 + 5)
    assert kernels["hospitalized"].sum() == pytest.approx(stay)
    assert kernels["icu"].sum() == pytest.approx(0.2 * 12)
    with pytest.raises(ConfigError, match="ventilation happens inside the ICU stay"):
        Pathway(0.02, _delay(), icu_days=5, ventilated_days=9).check()


def test_patients_already_in_hospital_leave_over_their_stay() -> None:
    carry = already_in({"ward": 80, "icu": 24, "ventilated": 12}, 30, PATHWAY)
    assert carry["hospitalized"][0] == 104
    assert carry["ward"][8] == 0 and carry["icu"][11] > 0 and carry["icu"][12] == 0


def test_the_forecast_bands_cover_what_happened() -> None:
    admissions, truth = _truth()
    found = forecast(
        admissions,
        until=70,
        days=14,
        population=POPULATION,
        pathway=PATHWAY,
        phase_starts=[0, 45],
        draws=100,
        current={u: float(truth[u][70]) for u in ("ward", "icu", "ventilated")},
    )
    assert found.r[1] == pytest.approx(0.8, abs=0.05)
    for unit in ("hospitalized", "icu"):
        seen = truth[unit][71:85]
        assert np.mean((found.low[unit] <= seen) & (seen <= found.high[unit])) >= 0.8
        assert np.all(found.low[unit] <= found.census[unit])
        assert np.all(found.census[unit] <= found.high[unit])
    assert len(found.to_dict()["days"]) == 14  # type: ignore[arg-type]


def test_a_backtest_scores_7_and_14_days_ahead() -> None:
    admissions, truth = _truth()
    result = backtest(
        admissions,
        truth["hospitalized"],
        origin=70,
        population=POPULATION,
        pathway=PATHWAY,
        phase_starts=[0, 45],
        draws=100,
    ).to_dict()
    horizons = result["horizons"]
    assert [h["days_ahead"] for h in horizons] == [7, 14]  # type: ignore[index]
    for h in horizons:  # type: ignore[attr-defined]
        assert abs(h["relative_error"]) < 0.25
        assert h["covered"]
    with pytest.raises(ConfigError, match="day 150 is needed"):
        backtest(
            admissions,
            truth["hospitalized"],
            origin=136,
            population=POPULATION,
            pathway=PATHWAY,
            phase_starts=[0, 45],
        )
