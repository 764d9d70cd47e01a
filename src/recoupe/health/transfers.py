"""Patient transfers between hospitals (or regions) that relieve those over capacity.

The plan minimises, in this order of weight, the patients left over capacity and the
travel burden (patient-hours, or any cost per patient of a route), with transport in
vehicles of a fixed size (a medical TGV carries 4 patients per car; an ambulance 1):

    minimise   over_penalty * sum_i over_i + sum_(i,j) cost_ij x_ij + vehicle_cost * sum y_ij
    subject to patients_i - sum_j x_ij + sum_j x_ji - over_i <= capacity_i   (each site)
               sum_j x_ij <= patients_i                       (no more leave than are there)
               x_ij <= vehicle_size * y_ij,  y_ij <= max_vehicles_ij   (each route)
               x, y whole numbers >= 0, over >= 0

It is solved by HiGHS through :func:`scipy.optimize.milp`. Without vehicles (size 1, no
vehicle cost or limit) it is a minimum-cost flow, which the tests use to check it. The
same problem moves stock: see :func:`plan_stock`. Pure numerics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse

from recoupe.errors import ConfigError

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Move:
    source: int
    target: int
    amount: int
    vehicles: int
    cost: float


@dataclass(frozen=True)
class Plan:
    moves: list[Move]
    over_before: Array
    """Excess at each site before the moves (patients over capacity, or unmet need)."""
    over_after: Array
    objective: float
    status: str
    names: tuple[str, ...] = field(default=())

    @property
    def moved(self) -> int:
        return sum(m.amount for m in self.moves)

    @property
    def burden(self) -> float:
        return sum(m.cost * m.amount for m in self.moves)

    def to_dict(self) -> dict[str, Any]:
        def name(i: int) -> str:
            return self.names[i] if self.names else str(i)

        return {
            "status": self.status,
            "objective": self.objective,
            "moved": self.moved,
            "burden": self.burden,
            "over_before": float(self.over_before.sum()),
            "over_after": float(self.over_after.sum()),
            "moves": [
                {
                    "from": name(m.source),
                    "to": name(m.target),
                    "amount": m.amount,
                    "vehicles": m.vehicles,
                    "cost_each": m.cost,
                }
                for m in self.moves
            ],
            "sites": [
                {"site": name(i), "over_before": float(b), "over_after": float(a)}
                for i, (b, a) in enumerate(zip(self.over_before, self.over_after, strict=True))
            ],
        }


def plan_transfers(
    patients: Sequence[float],
    capacity: Sequence[float],
    cost: npt.ArrayLike,
    *,
    over_penalty: float = 1_000.0,
    vehicle_size: int = 1,
    vehicle_cost: float = 0.0,
    max_vehicles: npt.ArrayLike | None = None,
    names: Sequence[str] = (),
    time_limit: float = 60.0,
) -> Plan:
    """The transfers that minimise patients over capacity, then travel (see the module
    docstring). ``cost[i][j]`` is the burden of moving one patient from i to j (NaN or
    inf: no route); ``max_vehicles[i][j]`` the vehicles a route can run (default: no
    limit)."""
    p = _vector(patients, "patients")
    c = _vector(capacity, "capacity")
    n = p.size
    if c.size != n:
        raise ConfigError(f"capacity has {c.size} sites, patients has {n}")
    d = np.asarray(cost, dtype=np.float64)
    if d.shape != (n, n):
        raise ConfigError(f"cost must be a {n} x {n} matrix (got {d.shape})")
    if vehicle_size < 1:
        raise ConfigError(f"vehicle_size must be at least 1 (got {vehicle_size})")
    if over_penalty <= 0:
        raise ConfigError("over_penalty must be more than 0")
    limit = None if max_vehicles is None else np.asarray(max_vehicles, dtype=np.float64)
    if limit is not None and limit.shape != (n, n):
        raise ConfigError(f"max_vehicles must be a {n} x {n} matrix (got {limit.shape})")
    routes = [
        (i, j)
        for i in range(n)
        for j in range(n)
        if i != j and np.isfinite(d[i, j]) and (limit is None or limit[i, j] > 0)
    ]
    if np.any(d[np.isfinite(d)] < 0):
        raise ConfigError("cost must not be negative")
    r = len(routes)
    vehicles = vehicle_size > 1 or vehicle_cost > 0 or limit is not None
    nv = r if vehicles else 0
    # Variables: x (r), y (nv), over (n).
    size = r + nv + n
    objective = np.concatenate(
        [[d[i, j] for i, j in routes], np.full(nv, vehicle_cost), np.full(n, over_penalty)]
    )
    coo: list[tuple[int, int, float]] = []
    lower: list[float] = []
    upper: list[float] = []
    row = 0
    for site in range(n):  # balance: p - out + in - over <= capacity
        for k, (i, j) in enumerate(routes):
            if i == site:
                coo.append((row, k, 1.0))
            elif j == site:
                coo.append((row, k, -1.0))
        coo.append((row, r + nv + site, 1.0))
        lower.append(p[site] - c[site])
        upper.append(np.inf)
        row += 1
    for site in range(n):  # out <= patients
        for k, (i, _) in enumerate(routes):
            if i == site:
                coo.append((row, k, 1.0))
        lower.append(-np.inf)
        upper.append(p[site])
        row += 1
    for k in range(nv):  # x <= size * y
        coo.append((row, k, 1.0))
        coo.append((row, r + k, -float(vehicle_size)))
        lower.append(-np.inf)
        upper.append(0.0)
        row += 1
    matrix = _matrix(coo, (row, size))
    ub = np.full(size, np.inf)
    if limit is not None:
        ub[r : r + nv] = [limit[i, j] for i, j in routes]
    integrality = np.concatenate([np.ones(r + nv), np.zeros(n)])
    found = optimize.milp(
        objective,
        constraints=optimize.LinearConstraint(matrix, lower, upper),
        bounds=optimize.Bounds(np.zeros(size), ub),
        integrality=integrality,
        options={"time_limit": time_limit},
    )
    before = np.maximum(p - c, 0.0)
    if found.x is None:
        raise ConfigError(f"no transfer plan: {found.message}")
    x = np.rint(found.x[:r]).astype(np.int64)
    y = np.rint(found.x[r : r + nv]).astype(np.int64) if vehicles else x
    moves = [
        Move(i, j, int(x[k]), int(y[k]) if vehicles else int(x[k]), float(d[i, j]))
        for k, (i, j) in enumerate(routes)
        if x[k] > 0
    ]
    after = p.copy()
    for m in moves:
        after[m.source] -= m.amount
        after[m.target] += m.amount
    status = "optimal" if found.status == 0 else str(found.message)
    return Plan(moves, before, np.maximum(after - c, 0.0), float(found.fun), status, tuple(names))


def plan_stock(
    stock: Sequence[float],
    need: Sequence[float],
    cost: npt.ArrayLike,
    *,
    keep: Sequence[float] | None = None,
    shortage_penalty: float = 1_000.0,
    names: Sequence[str] = (),
) -> Plan:
    """Stock moves from sites with more than they need to those with less, minimising the
    need left unmet, then the transport cost per item:

        minimise   shortage_penalty * sum_j unmet_j + sum_(i,j) cost_ij q_ij
        subject to unmet_j >= need_j - stock_j - sum_i q_ij + sum_k q_jk
                   sum_k q_ik <= stock_i - min(keep_i, stock_i)
                   q whole numbers >= 0, unmet >= 0

    ``keep`` is what each site keeps whatever happens (default: its own need). In the
    plan, "over" is the need left unmet."""
    s = _vector(stock, "stock")
    q = _vector(need, "need")
    n = s.size
    if q.size != n:
        raise ConfigError(f"need has {q.size} sites, stock has {n}")
    reserve = q if keep is None else _vector(keep, "keep")
    spare = s - np.minimum(reserve, s)
    d = np.asarray(cost, dtype=np.float64)
    if d.shape != (n, n):
        raise ConfigError(f"cost must be a {n} x {n} matrix (got {d.shape})")
    routes = [(i, j) for i in range(n) for j in range(n) if i != j and np.isfinite(d[i, j])]
    r = len(routes)
    objective = np.concatenate([[d[i, j] for i, j in routes], np.full(n, shortage_penalty)])
    coo: list[tuple[int, int, float]] = []
    lower: list[float] = []
    upper: list[float] = []
    for site in range(n):  # unmet + received - sent >= need - stock
        for k, (i, j) in enumerate(routes):
            if j == site:
                coo.append((site, k, 1.0))
            elif i == site:
                coo.append((site, k, -1.0))
        coo.append((site, r + site, 1.0))
        lower.append(q[site] - s[site])
        upper.append(np.inf)
    for site in range(n):  # sent <= spare
        for k, (i, _) in enumerate(routes):
            if i == site:
                coo.append((n + site, k, 1.0))
        lower.append(-np.inf)
        upper.append(spare[site])
    matrix = _matrix(coo, (2 * n, r + n))
    found = optimize.milp(
        objective,
        constraints=optimize.LinearConstraint(matrix, lower, upper),
        bounds=optimize.Bounds(np.zeros(r + n), np.full(r + n, np.inf)),
        integrality=np.concatenate([np.ones(r), np.zeros(n)]),
    )
    if found.x is None:
        raise ConfigError(f"no stock plan: {found.message}")
    x = np.rint(found.x[:r]).astype(np.int64)
    moves = [
        Move(i, j, int(x[k]), 0, float(d[i, j])) for k, (i, j) in enumerate(routes) if x[k] > 0
    ]
    after = s.copy()
    for m in moves:
        after[m.source] -= m.amount
        after[m.target] += m.amount
    status = "optimal" if found.status == 0 else str(found.message)
    return Plan(
        moves,
        np.maximum(q - s, 0.0),
        np.maximum(q - after, 0.0),
        float(found.fun),
        status,
        tuple(names),
    )


def _matrix(coo: list[tuple[int, int, float]], shape: tuple[int, int]) -> sparse.csr_array:
    rows, cols, vals = zip(*coo, strict=True) if coo else ((), (), ())
    return sparse.csr_array((np.asarray(vals, np.float64), (rows, cols)), shape=shape)


def _vector(values: Sequence[float], name: str) -> Array:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ConfigError(f"{name} must be a list of numbers, one per site")
    bad = np.flatnonzero(~np.isfinite(x) | (x < 0))
    if bad.size:
        raise ConfigError(f"{name}, site {int(bad[0])}: {x[bad[0]]} must be a number >= 0")
    return x
