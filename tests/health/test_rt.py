"""Rt by Cori et al. (2013) against EpiEstim's own output, to 1e-6 on every window."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recoupe.errors import ConfigError
from recoupe.health.rt import discrete_si, estimate_rt, estimate_rt_parametric, weekly_windows
from tests.health.conftest import column, rows

TOLERANCE = 1e-6


@pytest.mark.parametrize("name", ["flu1918", "flu2009"])
def test_parametric_rt_matches_epiestim_on_every_window(name: str) -> None:
    oracle = rows(f"epiestim/oracle_{name}_parametric.csv")
    found = estimate_rt_parametric(column(f"epiestim/{name}_incidence.csv", "local"), 2.6, 1.5)
    assert [int(r["t_start"]) for r in oracle] == found.t_start.tolist()
    assert [int(r["t_end"]) for r in oracle] == found.t_end.tolist()
    for key, values in (
        ("mean_r", found.mean),
        ("std_r", found.std),
        ("q025", found.q025),
        ("q975", found.q975),
    ):
        for i, r in enumerate(oracle):
            if r[key] == "NA":
                assert math.isnan(values[i]), (key, i)
            else:
                assert values[i] == pytest.approx(float(r[key]), abs=TOLERANCE), (key, i)


def test_landmarks_of_the_epiestim_documentation() -> None:
    flu1918 = estimate_rt_parametric(column("epiestim/flu1918_incidence.csv", "local"), 2.6, 1.5)
    assert flu1918.mean[0] == pytest.approx(1.41446, abs=1e-5)
    top = int(np.nanargmax(flu1918.mean))
    assert (flu1918.t_start[top], flu1918.t_end[top]) == (25, 31)
    assert flu1918.mean[top] == pytest.approx(2.38092, abs=1e-5)


def test_the_discrete_serial_interval_is_epiestims() -> None:
    w = discrete_si(np.arange(40), 2.6, 1.5)
    assert w[0] == 0
    assert w.sum() == pytest.approx(1, abs=1e-9)
    assert float(np.sum(w * np.arange(40))) == pytest.approx(2.6, abs=1e-6)


def test_windows_before_the_mean_serial_interval_have_no_estimate() -> None:
    """Smallpox 1972: mean SI 22.4 days, so weekly windows ending on day 22 or before are
    NA in EpiEstim (``t_end > mean SI`` is needed); the others are estimated."""
    si = column("epiestim/smallpox1972_si_distr.csv", "probability")
    found = estimate_rt(column("epiestim/smallpox1972_incidence.csv", "local"), si)
    mean_si = float(np.sum(np.asarray(si) * np.arange(len(si))))
    assert 22 < mean_si < 23
    na = np.isnan(found.mean)
    assert found.t_end[na].tolist() == list(range(8, 23))
    assert not np.isnan(found.mean[~na]).any()
    for i in np.flatnonzero(na):
        assert found.rows()[int(i)]["q975"] is None


def test_imported_cases_count_in_the_pressure_not_the_numerator() -> None:
    local = column("epiestim/mers2014_15_incidence.csv", "local")
    imported = column("epiestim/mers2014_15_incidence.csv", "imported")
    si = discrete_si(np.arange(len(local)), 6.8, 4.1)
    both = estimate_rt(local, si, imported=imported)
    as_local = estimate_rt(np.add(local, imported), si)  # day 1 imported, the rest local
    assert both.t_start.size == len(local) - 7
    # Counting imported cases as local inflates R where there were some.
    assert np.nanmax(as_local.mean - both.mean) > 0.05
    # The posterior shape is the prior's 1 plus the local cases of the window.
    assert both.shape[0] == 1 + sum(local[1:8])


def test_custom_windows_and_bad_input_name_the_culprit() -> None:
    incidence = column("epiestim/flu2009_incidence.csv", "local")
    w = discrete_si(np.arange(len(incidence)), 2.6, 1.5)
    found = estimate_rt(incidence, w, t_start=[2, 10], t_end=[15, 20])
    assert found.t_end.tolist() == [15, 20]
    with pytest.raises(ConfigError, match="local, day 3"):
        estimate_rt([1, 2, -1, 4, 5, 6, 7, 8, 9], w)
    with pytest.raises(ConfigError, match="window 1"):
        estimate_rt(incidence, w, t_start=[2, 1], t_end=[8, 8])
    with pytest.raises(ConfigError, match="day 0 must be 0"):
        estimate_rt(incidence, [0.5, 0.5])
    with pytest.raises(ConfigError, match="si_mean"):
        discrete_si([0, 1], 0.5, 1.0)
    with pytest.raises(ConfigError, match="at least 8"):
        weekly_windows(5)
