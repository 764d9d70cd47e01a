"""SEIR epidemics with a schedule of reproduction numbers by phase, deaths through an
infection-to-death delay, and a fit of the phases' R to observed deaths.

The model: S -> E (at rate beta(t) S I / N) -> I (at 1/latent) -> R (at 1/infectious),
with beta(t) = R(t) / infectious, so that R(t) is the reproduction number of phase t in a
fully susceptible population (the effective number is R(t) S/N). It is integrated by
fourth-order Runge-Kutta in ``substeps`` steps per day. Daily infections are the flow
S -> E of each day; expected deaths on day t are ``ifr`` times the infections of earlier
days weighted by the infection-to-death delay (``delay[k]`` = the probability of dying
``k + 1`` days after infection, the convention of epidemia and Flaxman et al. 2020).

:func:`fit_deaths` finds the R of each phase and the size of the seed that make the
expected deaths closest to the observed ones, by Poisson likelihood on weekly sums (daily
death reports carry catch-up spikes and empty days; weekly sums smooth them without
shifting them). Pure numerics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

from recoupe.errors import ConfigError

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Epidemic:
    """Daily states (at the start of each day) and flows of one simulation."""

    susceptible: Array
    exposed: Array
    infectious: Array
    removed: Array
    infections: Array
    """New infections during each day."""


def schedule(days: int, changes: Sequence[tuple[int, float]]) -> Array:
    """R for each day from (first day, R) phases; the first phase must start on day 0."""
    if not changes or changes[0][0] != 0:
        raise ConfigError("the first phase must start on day 0")
    r = np.empty(days)
    for i, (start, value) in enumerate(changes):
        if value < 0:
            raise ConfigError(f"phase {i}: R must not be negative (got {value})")
        end = changes[i + 1][0] if i + 1 < len(changes) else days
        if end <= start:
            raise ConfigError(f"phase {i + 1} must start after day {start}")
        r[start:end] = value
    return r


def simulate(
    population: float,
    r_by_day: Array,
    *,
    latent: float,
    infectious: float,
    seed: float,
    exposed: float = 0.0,
    removed: float = 0.0,
    substeps: int = 4,
) -> Epidemic:
    """SEIR from ``seed`` infectious people on day 0 (see the module docstring)."""
    if population <= 0 or latent <= 0 or infectious <= 0 or seed < 0:
        raise ConfigError("population, latent and infectious periods must be > 0, seed >= 0")
    days = r_by_day.size
    out = np.empty((5, days))
    s = population - seed - exposed - removed
    e, i, rem = exposed, seed, removed
    sigma, gamma = 1.0 / latent, 1.0 / infectious
    h = 1.0 / substeps
    rates = np.asarray(r_by_day, dtype=np.float64) * gamma / population
    for day in range(days):
        out[:4, day] = (s, e, i, rem)
        b = float(rates[day])  # beta / N
        total = 0.0
        for _ in range(substeps):
            # Classical RK4 on (S, E, I); the flows are infection, onset, recovery.
            f1, g1, k1 = b * s * i, sigma * e, gamma * i
            s2, e2, i2 = s - 0.5 * h * f1, e + 0.5 * h * (f1 - g1), i + 0.5 * h * (g1 - k1)
            f2, g2, k2 = b * s2 * i2, sigma * e2, gamma * i2
            s3, e3, i3 = s - 0.5 * h * f2, e + 0.5 * h * (f2 - g2), i + 0.5 * h * (g2 - k2)
            f3, g3, k3 = b * s3 * i3, sigma * e3, gamma * i3
            s4, e4, i4 = s - h * f3, e + h * (f3 - g3), i + h * (g3 - k3)
            f4, g4, k4 = b * s4 * i4, sigma * e4, gamma * i4
            inf = h * (f1 + 2 * f2 + 2 * f3 + f4) / 6
            inc = h * (g1 + 2 * g2 + 2 * g3 + g4) / 6
            rec = h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
            s, e, i, rem = s - inf, e + inf - inc, i + inc - rec, rem + rec
            total += inf
        out[4, day] = total
    return Epidemic(out[0], out[1], out[2], out[3], out[4])


def delayed(flow: Array, delay: Array, scale: float = 1.0) -> Array:
    """``scale`` times ``flow`` spread forward by ``delay`` (``delay[k]``: k + 1 days)."""
    kernel = np.concatenate([[0.0], np.asarray(delay, dtype=np.float64)])
    return scale * np.convolve(flow, kernel)[: flow.size]


def gamma_days(mean: float, sd: float, days: int = 60) -> tuple[float, ...]:
    """A gamma distribution of ``mean`` and ``sd`` days, as P(k + 1 days), k = 0, 1..."""
    if not mean > 0 or not sd > 0:
        raise ConfigError(f"a delay needs mean > 0 and sd > 0 (got {mean}, {sd})")
    shape, scale = (mean / sd) ** 2, sd**2 / mean
    k = np.arange(1, days + 1)
    p = stats.gamma.cdf(k, shape, scale=scale) - stats.gamma.cdf(k - 1, shape, scale=scale)
    return tuple(float(x) for x in p / p.sum())


@dataclass(frozen=True)
class DeathsFit:
    r: tuple[float, ...]
    """The fitted R of each phase."""
    seed: float
    """Infectious people on day 0."""
    phase_starts: tuple[int, ...]
    expected: Array
    """Expected deaths per day under the fit."""
    epidemic: Epidemic
    deviance: float
    """Poisson deviance of the weekly sums in the fit window."""
    standard_errors: tuple[float, ...]
    """Approximate standard errors of each R (Poisson likelihood curvature)."""


def expected_deaths(
    population: float,
    r_by_day: Array,
    delay: Array,
    *,
    ifr: float,
    latent: float,
    infectious: float,
    seed: float,
) -> tuple[Array, Epidemic]:
    epi = simulate(population, r_by_day, latent=latent, infectious=infectious, seed=seed)
    return delayed(epi.infections, delay, ifr), epi


def fit_deaths(
    deaths: Sequence[float],
    population: float,
    phase_starts: Sequence[int],
    delay: Sequence[float],
    *,
    ifr: float,
    latent: float,
    infectious: float,
    fit_from: int,
    fit_to: int,
    seed_day: int = 0,
    start: Sequence[float] | None = None,
) -> DeathsFit:
    """Fit one R per phase (phases start on ``phase_starts``, the first on day 0) and the
    number of infectious people on ``seed_day`` (none before) to the deaths of days
    ``fit_from`` to ``fit_to`` (inclusive).

    With deaths alone, the size and the date of the seed trade off against the first R;
    fixing the date (Flaxman et al. 2020 seed 30 days before the tenth death, see
    :func:`seed_day_before`) lets the growth of deaths speak for R."""
    y = np.asarray(deaths, dtype=np.float64)
    if np.any(y < 0) or not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero((y < 0) | ~np.isfinite(y))[0])
        raise ConfigError(f"deaths, day {bad}: {y[bad]} is not a count")
    if not 0 <= fit_from < fit_to < y.size:
        raise ConfigError(f"fit window {fit_from}..{fit_to} must lie in days 0..{y.size - 1}")
    if not 0 < ifr <= 1:
        raise ConfigError(f"ifr must be in (0, 1] (got {ifr})")
    w = np.asarray(delay, dtype=np.float64)
    starts = tuple(int(s) for s in phase_starts)
    weeks = (fit_to - fit_from + 1) // 7
    if weeks < len(starts) + 1:
        raise ConfigError("the fit window needs more weeks than there are parameters")
    lo = fit_to + 1 - 7 * weeks
    observed = y[lo : fit_to + 1].reshape(weeks, 7).sum(axis=1)

    if not 0 <= seed_day <= starts[-1] if len(starts) > 1 else 0 <= seed_day < fit_to:
        raise ConfigError(f"seed_day {seed_day} must come before the last phase")

    def run(x: Array) -> tuple[Array, Epidemic]:
        r = np.exp(x[:-1])
        r_by_day = schedule(y.size, list(zip(starts, r.tolist(), strict=True)))[seed_day:]
        mu, epi = expected_deaths(
            population,
            r_by_day,
            w,
            ifr=ifr,
            latent=latent,
            infectious=infectious,
            seed=float(np.exp(x[-1])),
        )
        return np.concatenate([np.zeros(seed_day), mu]), epi

    def deviance(x: Array) -> float:
        mu = run(x)[0][lo : fit_to + 1].reshape(weeks, 7).sum(axis=1)
        mu = np.maximum(mu, 1e-9)
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(observed > 0, observed * np.log(observed / mu), 0.0)
        return float(2 * np.sum(term - (observed - mu)))

    def profiled(log_r: Array) -> tuple[float, float]:
        """(deviance, log seed) with the seed that matches the observed total: deaths
        grow almost in proportion to the seed, so a few rescalings find it."""
        log_seed = math.log(10.0)
        for _ in range(4):
            mu = run(np.r_[log_r, log_seed])[0][lo : fit_to + 1].sum()
            if not mu > 0 or not math.isfinite(mu):
                return math.inf, log_seed
            log_seed += math.log(observed.sum() / mu)
            log_seed = min(max(log_seed, math.log(1e-6)), math.log(population / 10))
        return deviance(np.r_[log_r, log_seed]), log_seed

    guesses = (
        [np.log(np.asarray(start[:-1]))]
        if start is not None
        else [np.log(np.full(len(starts), g)) for g in (0.8, 1.5, 3.0)]
    )
    best_r = None
    for guess in guesses:
        found = _minimize(lambda v: profiled(v)[0], guess)
        if best_r is None or found.fun < best_r.fun:
            best_r = found
    assert best_r is not None
    x0 = np.r_[best_r.x, profiled(best_r.x)[1]]
    best = _minimize(deviance, x0)
    assert best is not None
    x = np.asarray(best.x)
    expected, epi = run(x)
    errors = _standard_errors(deviance, x)
    r = np.exp(x[:-1])
    return DeathsFit(
        r=tuple(float(v) for v in r),
        seed=float(np.exp(x[-1])),
        phase_starts=starts,
        expected=expected,
        epidemic=epi,
        deviance=float(best.fun),
        standard_errors=tuple(float(r[k] * errors[k]) for k in range(r.size)),
    )


def _minimize(fun: Callable[[Array], float], x0: Array) -> optimize.OptimizeResult:
    return optimize.minimize(
        fun,
        x0,
        method="Nelder-Mead",
        options={"xatol": 1e-5, "fatol": 1e-6, "maxiter": 20_000, "maxfev": 20_000},
    )


def seed_day_before(deaths: Sequence[float], cumulative: float = 10, days: int = 30) -> int:
    """The day ``days`` before cumulative deaths first reach ``cumulative`` (0 at the
    earliest): where Flaxman et al. (2020) start each country's epidemic."""
    total = np.cumsum(np.asarray(deaths, dtype=np.float64))
    reached = np.flatnonzero(total >= cumulative)
    if reached.size == 0:
        raise ConfigError(f"deaths never reach {cumulative} in all")
    return max(0, int(reached[0]) - days)


def _standard_errors(f: Callable[[Array], float], x: Array, step: float = 1e-4) -> Array:
    """Standard errors of ``x`` from the curvature of the deviance (= -2 log-likelihood)."""
    n = x.size
    hess = np.empty((n, n))
    for a in range(n):
        for b in range(n):
            da, db = np.eye(n)[a] * step, np.eye(n)[b] * step
            hess[a, b] = (f(x + da + db) - f(x + da - db) - f(x - da + db) + f(x - da - db)) / (
                4 * step * step
            )
    try:
        cov = np.linalg.inv(hess / 2)
    except np.linalg.LinAlgError:
        return np.full(n, math.nan)
    return np.asarray(np.sqrt(np.clip(np.diag(cov), 0, None)), dtype=np.float64)
