"""The transfer optimiser (HiGHS through scipy) against a minimum-cost flow (networkx)
on the same problem, and with vehicles of four patients (a medical TGV car)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from recoupe.errors import ConfigError
from recoupe.health.transfers import plan_stock, plan_transfers

PENALTY = 1_000


def min_cost_flow(patients: np.ndarray, capacity: np.ndarray, cost: np.ndarray) -> int:
    """The same problem as a flow: each site's patients go to its own wards (free) or to
    another site's (at the route's cost); a ward sends up to its capacity to the sink
    free, and the rest at PENALTY each."""
    g = nx.DiGraph()
    n = patients.size
    for i in range(n):
        g.add_node(i, demand=-int(patients[i]))
        g.add_edge(i, ("ward", i), weight=0)
        g.add_edge(("ward", i), ("beds", i), weight=0, capacity=int(capacity[i]))
        g.add_edge(("beds", i), "sink", weight=0)
        g.add_edge(("ward", i), "sink", weight=PENALTY)
        for j in range(n):
            if i != j and np.isfinite(cost[i, j]):
                g.add_edge(i, ("ward", j), weight=int(cost[i, j]))
    g.add_node("sink", demand=int(patients.sum()))
    flow = nx.min_cost_flow(g)
    return int(nx.cost_of_flow(g, flow))


@pytest.mark.parametrize("seed", range(8))
def test_the_plan_costs_what_the_minimum_cost_flow_costs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 6
    capacity = rng.integers(5, 30, n)
    patients = rng.integers(0, 45, n)
    cost = rng.integers(1, 20, (n, n)).astype(float)
    cost[rng.random((n, n)) < 0.2] = np.inf  # some routes do not exist
    plan = plan_transfers(patients, capacity, cost, over_penalty=PENALTY)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(min_cost_flow(patients, capacity, cost))
    assert plan.over_after.sum() <= plan.over_before.sum()
    moved_out = np.zeros(n)
    for m in plan.moves:
        assert np.isfinite(cost[m.source, m.target])
        moved_out[m.source] += m.amount
    assert np.all(moved_out <= patients)


def test_a_tgv_carries_four_patients_per_car() -> None:
    # Strasbourg is 12 patients over capacity; Bordeaux and Nantes have room.
    patients = [62, 30, 20]
    capacity = [50, 40, 40]
    hours = np.array([[0, 5, 6], [5, 0, 3], [6, 3, 0]], dtype=float)
    plan = plan_transfers(
        patients,
        capacity,
        hours,
        vehicle_size=4,
        vehicle_cost=10,
        max_vehicles=np.full((3, 3), 2),
        names=["Strasbourg", "Bordeaux", "Nantes"],
    )
    assert plan.over_after.sum() == 0
    for m in plan.moves:
        assert m.amount <= 4 * m.vehicles
        assert m.vehicles <= 2
    assert sum(m.vehicles for m in plan.moves) == 3  # 12 patients, 3 cars
    out = plan.to_dict()
    assert out["moved"] == 12
    assert {mv["from"] for mv in out["moves"]} == {"Strasbourg"}


def test_a_route_limit_leaves_patients_over_capacity_and_says_so() -> None:
    plan = plan_transfers(
        [30, 0], [10, 100], [[0, 1], [1, 0]], vehicle_size=4, max_vehicles=[[0, 2], [2, 0]]
    )
    assert plan.moved == 8
    assert plan.over_after.tolist() == [12, 0]


def test_stock_goes_where_it_runs_short() -> None:
    plan = plan_stock([500, 20, 300], [100, 220, 250], [[0, 2, 9], [2, 0, 4], [9, 4, 0]])
    assert plan.over_before.tolist() == [0, 200, 0]
    assert plan.over_after.sum() == 0
    assert {(m.source, m.target) for m in plan.moves} == {(0, 1)}  # the nearest spare


def test_bad_plans_name_the_culprit() -> None:
    with pytest.raises(ConfigError, match="capacity has 2 sites, patients has 3"):
        plan_transfers([1, 2, 3], [1, 2], np.zeros((3, 3)))
    with pytest.raises(ConfigError, match="patients, site 1"):
        plan_transfers([1, -2], [1, 2], np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="cost must be a 2 x 2 matrix"):
        plan_transfers([1, 2], [1, 2], np.zeros((3, 3)))
