"""The hidden cell: a dozen people whose traces, taken together, give them away.

The plan chooses the members, their roles and the weeks of activity; the telecom, bank
and travel modules then draw the tell-tale rows (burner lines, structured transfers,
co-travel, meetings under the same cell towers) from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recoupe.scenario import geo
from recoupe.scenario.people import Population

Ints = npt.NDArray[np.int64]

#: amounts at or above this must be reported by French banks (TRACFIN)
REPORTING_THRESHOLD_CENTS = 1_000_000


@dataclass(frozen=True, slots=True)
class CellPlan:
    """Who the members are and when they act (days from PERIOD_START)."""

    members: Ints
    financier: int
    intermediaries: Ints
    operatives: Ints
    hub_city: int
    start: int  #: first day burner lines are used
    end: int  #: last day of the operation


def plan(population: Population, seed: int) -> CellPlan:
    """Choose 11 to 13 adults under 50, most of them in one large town."""
    rng = np.random.default_rng([seed, 2])
    size = int(rng.integers(11, 14))
    big = np.argsort([-c.population for c in geo.CITIES])[:8]
    hub = int(big[rng.integers(0, len(big))])
    age_days = -population.birth
    young = (age_days > 19 * 365) & (age_days < 50 * 365)
    local = np.flatnonzero(young & (population.city == hub))
    rng.shuffle(local)
    chosen = local[: min(len(local), size - 4)]
    others = np.setdiff1d(np.flatnonzero(young), chosen)
    if len(others) < size - len(chosen):
        others = np.setdiff1d(np.arange(population.size), chosen)
    extra = rng.choice(others, size - len(chosen), replace=False)
    members = np.concatenate([chosen, extra]).astype(np.int64)
    rng.shuffle(members)
    start = int(rng.integers(200, 260))
    return CellPlan(
        members=np.sort(members),
        financier=int(members[0]),
        intermediaries=np.sort(members[1:3]),
        operatives=np.sort(members[3:]),
        hub_city=hub,
        start=start,
        end=start + 45,
    )


def share_home(population: Population, cell: CellPlan) -> tuple[int, int]:
    """Two operatives live at the same address (the other's, moved in): returns them."""
    host, guest = int(cell.operatives[0]), int(cell.operatives[1])
    population.street[guest] = population.street[host]
    population.postcode[guest] = population.postcode[host]
    population.city[guest] = population.city[host]
    population.lat[guest] = population.lat[host]
    population.lon[guest] = population.lon[host]
    return host, guest
