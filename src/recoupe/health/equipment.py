"""Equipment needs from a census: consumption per patient-day by unit and item, daily
needs, days until stock-out.

The default rates are the Penn Medicine PPE calculator's *standard scenario, contact
basis* (the workbook shipped with CHIME v1.1.5), items per patient-day:

=============  ======  =============  ===========  =====  ==============
unit           N95     surgical mask  glove pairs  gowns  eye protection
=============  ======  =============  ===========  =====  ==============
ICU            45/19   810/19         45           45     45
step-down      37/19   666/19         37           37     37
floor (ward)   16/19   288/19         16           16     16
emergency      23/19   414/19         23           23     23
=============  ======  =============  ===========  =====  ==============

and its census by unit: ICU = the ICU census, floor = hospitalised - ICU, step-down = 0,
emergency department = 5 x that day's new admissions. Ventilators are one per ventilated
patient. Other items (oxygen, drugs) have no published standard here: give their rates.
Pure numerics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recoupe.errors import ConfigError

Array = npt.NDArray[np.float64]
UNITS = ("icu", "stepdown", "floor", "ed")
ITEMS = ("n95", "surgical_mask", "glove_pairs", "gowns", "eye_protection")
ED_VISITS_PER_ADMISSION = 5.0


def _standard() -> dict[str, dict[str, float]]:
    contacts = {"icu": 45, "stepdown": 37, "floor": 16, "ed": 23}
    return {
        unit: {
            "n95": n / 19,
            "surgical_mask": 18 * n / 19,
            "glove_pairs": float(n),
            "gowns": float(n),
            "eye_protection": float(n),
        }
        for unit, n in contacts.items()
    }


STANDARD_RATES: dict[str, dict[str, float]] = _standard()
"""Items per patient-day, by unit then item (the Penn calculator's standard scenario)."""


def unit_census(hospitalized: Array, icu: Array, admissions: Array) -> dict[str, Array]:
    """Patients by unit as the Penn calculator counts them (see the module docstring)."""
    hosp = np.asarray(hospitalized, dtype=np.float64)
    icu_ = np.asarray(icu, dtype=np.float64)
    adm = np.asarray(admissions, dtype=np.float64)
    if not hosp.shape == icu_.shape == adm.shape:
        raise ConfigError("hospitalized, icu and admissions must have one value per day each")
    return {
        "icu": icu_,
        "stepdown": np.zeros_like(hosp),
        "floor": hosp - icu_,
        "ed": ED_VISITS_PER_ADMISSION * adm,
    }


def daily_needs(
    census: Mapping[str, Array], rates: Mapping[str, Mapping[str, float]] = STANDARD_RATES
) -> dict[str, Array]:
    """Items needed per day: the sum over units of patients times items per patient-day."""
    unknown = sorted(set(rates) - set(census))
    if unknown:
        raise ConfigError(f"rates for unit {unknown[0]!r}, which has no census")
    items = sorted({item for per_unit in rates.values() for item in per_unit})
    out: dict[str, Array] = {}
    for item in items:
        total: Array | None = None
        for unit, per_unit in rates.items():
            rate = per_unit.get(item)
            if rate is None:
                continue
            if rate < 0:
                raise ConfigError(f"rate of {item!r} in {unit!r} is negative ({rate})")
            part = np.asarray(census[unit], dtype=np.float64) * rate
            total = part if total is None else total + part
        assert total is not None
        out[item] = total
    return out


@dataclass(frozen=True)
class StockOut:
    """When a stock runs out, if it does within the horizon."""

    day: int | None
    """Index of the first day whose need the stock cannot meet (None: it lasts)."""
    days_left: float | None
    """Days of cover, fractional: the stock lasts this long (None: past the horizon)."""
    remaining: Array
    """Stock at the end of each day (negative: the unmet need)."""


def stock_out(stock: float, needs: Array, deliveries: Array | None = None) -> StockOut:
    """Run a stock down by daily ``needs``, topped up by ``deliveries`` arriving at the
    start of each day."""
    need = np.asarray(needs, dtype=np.float64)
    if stock < 0 or np.any(need < 0):
        raise ConfigError("stock and needs must not be negative")
    got = np.zeros_like(need) if deliveries is None else np.asarray(deliveries, np.float64)
    if got.shape != need.shape:
        raise ConfigError(f"deliveries have {got.size} days, needs have {need.size}")
    remaining = stock + np.cumsum(got - need)
    short = np.flatnonzero(remaining < 0)
    if short.size == 0:
        return StockOut(None, None, remaining)
    day = int(short[0])
    before = stock if day == 0 else float(remaining[day - 1])
    available = before + float(got[day])
    fraction = available / need[day] if need[day] > 0 else 0.0
    return StockOut(day, day + fraction, remaining)
