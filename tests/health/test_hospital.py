"""Hospital load and equipment against their published references.

- CHIME v1.1.5's unit-test fixture (Penn Medicine, CodeForPhilly/chime, MIT licence): the
  inputs and expected values as its tests give them (the first five compared exactly,
  the census to 4 decimals, as there).
- The Penn PPE calculator's standard scenario and worked day (2020-05-01), as the
  calculator's workbook shipped with CHIME gives them, to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest

from recoupe.errors import ConfigError
from recoupe.health.chime import chime_from_dict, run_chime
from recoupe.health.equipment import STANDARD_RATES, daily_needs, stock_out, unit_census

CHIME_FIXTURE = {
    "population": 500_000,
    "current_hospitalized": 100,
    "doubling_time": 6,
    "infectious_days": 14,
    "relative_contact_rate": 0.15,
    "market_share": 0.05,
    "hospitalized": {"rate": 0.05, "days": 7},
    "icu": {"rate": 0.02, "days": 9},
    "ventilated": {"rate": 0.01, "days": 10},
    "n_days": 60,
    "current_date": "2020-03-28",
    "mitigation_date": "2020-03-28",
}


def test_chime_reproduces_its_fixture() -> None:
    found = run_chime(chime_from_dict(CHIME_FIXTURE))
    assert found.i_day == 43
    assert found.growth_rate == 0.12246204830937302
    assert found.r0 == 2.7144686763312222
    assert found.rt == 2.307298374881539
    assert found.doubling_time_t == 7.764405988534983
    day0 = found.to_dict()["census"][0]
    assert day0["day"] == 0
    assert day0["date"] == "2020-03-28"
    assert round(day0["hospitalized"], 4) == 96.4897
    assert round(day0["icu"], 4) == 45.7953
    assert round(day0["ventilated"], 4) == 24.4469
    day, value = found.peak("hospitalized")
    assert (day, round(value, 3)) == (18, 164.944)
    day, value = found.peak("icu")
    assert (day, round(value, 4)) == (19, 84.3779)
    assert len(found.to_dict()["census"]) == 61


@pytest.mark.parametrize(
    ("change", "culprit"),
    [
        ({"population": -1}, "population"),
        ({"icu": {"rate": 0.02}}, "key icu"),
        ({"hospitalized": {"rate": 2, "days": 7}}, r"hospitalized\.rate"),
        ({"current_date": "28/03/2020"}, "key current_date"),
        ({"doubling": 6}, "key doubling"),
        ({"n_days": 6.5}, "key n_days"),
    ],
)
def test_a_bad_chime_config_names_the_key(change: dict[str, object], culprit: str) -> None:
    with pytest.raises(ConfigError, match=culprit):
        run_chime(chime_from_dict({**CHIME_FIXTURE, **change}))


def test_the_penn_calculator_worked_day() -> None:
    icu, floor, admissions = 27.6356291028627, 46.378516410697394, 11.6720236538974
    census = unit_census(np.array([icu + floor]), np.array([icu]), np.array([admissions]))
    needs = daily_needs(census)
    assert needs["n95"][0] == pytest.approx(175.15485749464108, abs=1e-9)
    assert needs["surgical_mask"][0] == pytest.approx(3152.787434903539, abs=1e-9)
    for item in ("glove_pairs", "gowns", "eye_protection"):
        assert needs[item][0] == pytest.approx(3327.9422923981806, abs=1e-9)
    assert STANDARD_RATES["icu"]["n95"] == 45 / 19
    assert STANDARD_RATES["floor"]["surgical_mask"] == 288 / 19


def test_days_until_a_stock_runs_out() -> None:
    needs = np.array([10.0, 10.0, 10.0, 10.0])
    assert stock_out(25, needs).day == 2
    assert stock_out(25, needs).days_left == pytest.approx(2.5)
    assert stock_out(25, needs, np.array([0, 0, 20, 0])).day is None
    with pytest.raises(ConfigError, match="deliveries have 2 days"):
        stock_out(1, needs, np.array([1.0, 2.0]))
