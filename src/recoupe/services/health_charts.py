"""Charts for reports (PNG or SVG, by the file's suffix), drawn offline with matplotlib.

Labels are in French first, as the analysts read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from recoupe.errors import ConfigError

FORMATS = (".png", ".svg")


def _figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display, no network
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(f"{path}: charts are written as {' or '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _figure().close(fig)
    return path


def forecast_chart(
    path: Path,
    *,
    start: date,
    observed: Sequence[float],
    first_forecast_day: int,
    median: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    capacity: float | None,
    title: str,
    unit_label: str = "patients en réanimation",
) -> Path:
    """Observed census, the forecast's median and band, and the beds."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    seen = [start + timedelta(days=d) for d in range(len(observed))]
    ahead = [start + timedelta(days=first_forecast_day + d) for d in range(len(median))]
    ax.plot(seen, observed, color="#333333", label="observé")
    ax.fill_between(ahead, low, high, color="#4c72b0", alpha=0.25, label="intervalle à 90 %")
    ax.plot(ahead, median, color="#4c72b0", label="prévision (médiane)")
    if capacity:
        ax.axhline(capacity, color="#c44e52", linestyle="--", label=f"capacité ({capacity:.0f})")
    ax.set_title(title)
    ax.set_ylabel(unit_label)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _save(fig, path)


def scenarios_chart(
    path: Path,
    *,
    start: date,
    curves: dict[str, Sequence[float]],
    capacity: float,
    today: int,
    title: str,
) -> Path:
    """ICU census of each scenario against the beds."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name, values in curves.items():
        days = [start + timedelta(days=d) for d in range(len(values))]
        ax.plot(days, np.asarray(values), label=name)
    ax.axhline(
        capacity, color="#c44e52", linestyle="--", label=f"lits de réanimation ({capacity:.0f})"
    )
    ax.axvline(start + timedelta(days=today), color="#888888", linestyle=":", label="aujourd'hui")
    ax.set_title(title)
    ax.set_ylabel("patients en réanimation")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _save(fig, path)
