"""The time-varying reproduction number by the method of Cori et al. (2013), as EpiEstim.

Cori A, Ferguson NM, Fraser C, Cauchemez S (2013), "A new framework and software to
estimate time-varying reproduction numbers during epidemics", *Am J Epidemiol*
178:1505-1512. For each window of days ``t_start..t_end`` the posterior of R is a gamma
distribution:

    shape = a + sum of local incidence I_t over the window
    rate  = 1/b + sum over the window of Lambda_t = sum_{s>=1} (local + imported)_{t-s} w_s

with a gamma prior of mean ``prior_mean`` and standard deviation ``prior_std`` (shape
a = (mean/std)^2, scale b = std^2/mean; EpiEstim's default 5 and 5) and ``w`` the discrete
serial-interval distribution, day 0 first. A parametric serial interval is the gamma of
mean ``mean - 1`` and sd ``std`` shifted by one day and discretised as EpiEstim's
``discr_si`` does (Cori et al. 2013, web appendix 11). Windows default to EpiEstim's:
weekly and sliding, ``t_start`` = 2 ... T-6. A window whose end is not past the mean of the
serial interval gets no estimate (NaN), as EpiEstim writes NA there.

Days are 1-based as in EpiEstim. In a series without imported cases EpiEstim counts the
cases of day 1 as imported (they cannot have been infected by earlier cases shown); here
too. Pure numerics: arrays in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from recoupe.errors import ConfigError

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RtEstimate:
    """One row per window; NaN where no estimate is made."""

    t_start: npt.NDArray[np.int64]
    t_end: npt.NDArray[np.int64]
    mean: Array
    std: Array
    q025: Array
    q975: Array
    shape: Array
    """Posterior gamma shape (the rate is shape / mean)."""
    si_mean: float
    """Mean of the discrete serial interval used."""

    def rows(self) -> list[dict[str, float | int | None]]:
        """Plain rows (``None`` for NaN), as the CLI and the API print them."""

        def num(x: float) -> float | None:
            return None if np.isnan(x) else float(x)

        return [
            {
                "t_start": int(self.t_start[i]),
                "t_end": int(self.t_end[i]),
                "mean": num(self.mean[i]),
                "std": num(self.std[i]),
                "q025": num(self.q025[i]),
                "q975": num(self.q975[i]),
            }
            for i in range(self.t_start.size)
        ]

    def quantile(self, p: float) -> Array:
        """Any posterior quantile of each window."""
        rate = self.shape / self.mean
        return np.asarray(stats.gamma.ppf(p, self.shape, scale=1.0 / rate), dtype=np.float64)


def discrete_si(k: npt.ArrayLike, mean: float, std: float) -> Array:
    """EpiEstim's ``discr_si``: the probability of a serial interval of ``k`` days for
    1 + a gamma of mean ``mean - 1`` and sd ``std``, discretised by linear interpolation
    of the continuous distribution (zero at k = 0)."""
    if not mean > 1:
        raise ConfigError(f"si_mean must be more than 1 day (got {mean})")
    if not std > 0:
        raise ConfigError(f"si_sd must be more than 0 (got {std})")
    days = np.asarray(k, dtype=np.float64)
    a = ((mean - 1) / std) ** 2
    b = std**2 / (mean - 1)

    def cdf(x: Array, shape: float) -> Array:
        return np.asarray(stats.gamma.cdf(x, shape, scale=b), dtype=np.float64)

    x = days
    res = x * cdf(x, a) + (x - 2) * cdf(x - 2, a) - 2 * (x - 1) * cdf(x - 1, a)
    res += a * b * (2 * cdf(x - 1, a + 1) - cdf(x - 2, a + 1) - cdf(x, a + 1))
    return np.maximum(res, 0.0)


def weekly_windows(
    days: int, width: int = 7
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """EpiEstim's default windows: sliding, ``width`` days, starting on day 2."""
    if days < width + 1:
        raise ConfigError(
            f"the incidence has {days} days; weekly windows need at least {width + 1}"
        )
    start = np.arange(2, days - width + 2, dtype=np.int64)
    return start, start + width - 1


def estimate_rt(
    local: npt.ArrayLike,
    si_distr: npt.ArrayLike,
    *,
    imported: npt.ArrayLike | None = None,
    t_start: npt.ArrayLike | None = None,
    t_end: npt.ArrayLike | None = None,
    prior_mean: float = 5.0,
    prior_std: float = 5.0,
) -> RtEstimate:
    """Posterior R over each window (see the module docstring).

    ``local`` and ``imported`` are daily counts, day 1 first; ``si_distr`` the serial
    interval, day 0 first (its day-0 value must be 0); ``t_start``/``t_end`` 1-based
    inclusive windows (default: weekly, sliding).
    """
    loc = _counts(local, "local")
    days = loc.size
    if imported is None:
        imp = np.zeros(days)
        imp[0], loc = loc[0], loc.copy()
        loc[0] = 0.0
    else:
        imp = _counts(imported, "imported")
        if imp.size != days:
            raise ConfigError(f"imported has {imp.size} days, local has {days}")
    w = np.asarray(si_distr, dtype=np.float64)
    if w.ndim != 1 or w.size < 2 or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ConfigError("si_distr must be a list of probabilities from day 0, at least 2 days")
    if w[0] != 0:
        raise ConfigError(f"si_distr: the probability of day 0 must be 0 (got {w[0]})")
    if abs(w.sum() - 1) > 0.01:
        raise ConfigError(f"si_distr must sum to 1 (it sums to {w.sum():.6f})")
    if prior_mean <= 0 or prior_std <= 0:
        raise ConfigError("prior_mean and prior_std must be more than 0")
    if t_start is None and t_end is None:
        starts, ends = weekly_windows(days)
    elif t_start is None or t_end is None:
        raise ConfigError("give both t_start and t_end, or neither")
    else:
        starts = np.asarray(t_start, dtype=np.int64)
        ends = np.asarray(t_end, dtype=np.int64)
        if starts.shape != ends.shape or starts.ndim != 1 or starts.size == 0:
            raise ConfigError("t_start and t_end must be lists of the same length")
        bad = np.flatnonzero((starts < 2) | (ends < starts) | (ends > days))
        if bad.size:
            i = int(bad[0])
            raise ConfigError(
                f"window {i}: t_start={starts[i]}, t_end={ends[i]} must satisfy "
                f"2 <= t_start <= t_end <= {days}"
            )
    total = loc + imp
    # Lambda_t = sum_{s=1}^{t-1} total_{t-s} w_s, for t = 1..days (1-based).
    padded = np.zeros(days)
    padded[: min(days, w.size)] = w[: min(days, w.size)]
    pressure = np.convolve(total, padded)[:days]
    cum_i = np.concatenate([[0.0], np.cumsum(loc)])
    cum_l = np.concatenate([[0.0], np.cumsum(pressure)])
    a = (prior_mean / prior_std) ** 2
    b = prior_std**2 / prior_mean
    shape = a + cum_i[ends] - cum_i[starts - 1]
    rate = 1.0 / b + cum_l[ends] - cum_l[starts - 1]
    scale = 1.0 / rate
    mean = shape * scale
    std = np.sqrt(shape) * scale
    q025 = np.asarray(stats.gamma.ppf(0.025, shape, scale=scale), dtype=np.float64)
    q975 = np.asarray(stats.gamma.ppf(0.975, shape, scale=scale), dtype=np.float64)
    si_mean = float(np.sum(w * np.arange(w.size)))
    none = ends <= si_mean
    for values in (mean, std, q025, q975):
        values[none] = np.nan
    return RtEstimate(starts, ends, mean, std, q025, q975, shape, si_mean)


def estimate_rt_parametric(
    local: npt.ArrayLike,
    si_mean: float,
    si_std: float,
    *,
    imported: npt.ArrayLike | None = None,
    t_start: npt.ArrayLike | None = None,
    t_end: npt.ArrayLike | None = None,
    prior_mean: float = 5.0,
    prior_std: float = 5.0,
) -> RtEstimate:
    """:func:`estimate_rt` with a parametric (shifted gamma) serial interval, discretised
    over as many days as the incidence has, as EpiEstim does."""
    days = np.asarray(local).size
    return estimate_rt(
        local,
        discrete_si(np.arange(days), si_mean, si_std),
        imported=imported,
        t_start=t_start,
        t_end=t_end,
        prior_mean=prior_mean,
        prior_std=prior_std,
    )


def _counts(values: npt.ArrayLike, name: str) -> Array:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ConfigError(f"{name} must be a list of daily counts")
    bad = np.flatnonzero(~np.isfinite(x) | (x < 0))
    if bad.size:
        raise ConfigError(f"{name}, day {int(bad[0]) + 1}: {x[bad[0]]} is not a count (>= 0)")
    return x
