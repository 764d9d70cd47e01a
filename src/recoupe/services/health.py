"""Health analytics over files: read and check the inputs, call :mod:`recoupe.health`.

The numerical core takes arrays; this module owns the file formats (CSV with a header
row, JSON configs) and turns every bad value into an error that names the file, the row
and the column.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recoupe.errors import ConfigError
from recoupe.health.chime import ChimeResult, chime_from_dict, run_chime
from recoupe.health.rt import RtEstimate, discrete_si, estimate_rt

MISSING = {"", "NA", "na", "NaN", "nan"}


def read_table(path: Path, required: Sequence[str]) -> dict[str, list[str]]:
    """Columns of a CSV file by name; the file and the missing column are named."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise ConfigError(
                    f"{path}: no column {missing[0]!r} (the header has: {', '.join(header)})"
                )
            columns: dict[str, list[str]] = {name: [] for name in header}
            for row in reader:
                for name in header:
                    columns[name].append((row.get(name) or "").strip())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: not a UTF-8 CSV file ({exc})") from exc
    if not next(iter(columns.values()), []):
        raise ConfigError(f"{path}: no data rows")
    return columns


def numbers(
    path: Path, columns: dict[str, list[str]], name: str, *, missing_as: float | None = None
) -> list[float]:
    """A column as numbers; a bad cell is named by file, row (2 = the first data row) and
    column."""
    out = []
    for i, text in enumerate(columns[name]):
        if text in MISSING and missing_as is not None:
            out.append(missing_as)
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ConfigError(f"{path}, row {i + 2}, column {name}: {text!r} is not a number")
        out.append(value)
    return out


def read_incidence(path: Path) -> tuple[list[float], list[float] | None]:
    """(local, imported or None) from an incidence file with a ``local`` column."""
    cols = read_table(path, ["local"])
    local = numbers(path, cols, "local")
    imported = numbers(path, cols, "imported") if "imported" in cols else None
    for name, values in (("local", local), ("imported", imported or [])):
        for i, v in enumerate(values):
            if v < 0 or v != int(v):
                raise ConfigError(f"{path}, row {i + 2}, column {name}: {v} is not a count")
    return local, imported


def read_si_distr(path: Path) -> list[float]:
    """A serial-interval distribution ``day,probability`` from day 0, one row per day."""
    cols = read_table(path, ["day", "probability"])
    days = numbers(path, cols, "day")
    if days != [float(i) for i in range(len(days))]:
        bad = next(i for i, d in enumerate(days) if d != i)
        raise ConfigError(
            f"{path}, row {bad + 2}, column day: expected day {bad} (days run 0, 1, 2... "
            "without gaps)"
        )
    return numbers(path, cols, "probability")


def rt(
    incidence: Path,
    *,
    si_mean: float | None = None,
    si_sd: float | None = None,
    si_distr: Path | None = None,
    window: int = 7,
    prior_mean: float = 5.0,
    prior_sd: float = 5.0,
) -> RtEstimate:
    """Rt over sliding windows of ``window`` days (EpiEstim's defaults: weekly)."""
    local, imported = read_incidence(incidence)
    if (si_distr is None) == (si_mean is None or si_sd is None):
        raise ConfigError("give the serial interval as --si-mean and --si-sd, or --si-distr")
    if si_distr is not None:
        w = read_si_distr(si_distr)
    else:
        assert si_mean is not None
        assert si_sd is not None
        w = discrete_si(np.arange(len(local)), si_mean, si_sd).tolist()
    days = len(local)
    if window < 1 or days < window + 1:
        raise ConfigError(f"{incidence}: {days} days cannot hold windows of {window} days")
    starts = list(range(2, days - window + 2))
    ends = [s + window - 1 for s in starts]
    try:
        return estimate_rt(
            local,
            w,
            imported=imported,
            t_start=starts,
            t_end=ends,
            prior_mean=prior_mean,
            prior_std=prior_sd,
        )
    except ConfigError as exc:
        where = si_distr if si_distr is not None and "si_distr" in str(exc) else incidence
        raise ConfigError(f"{where}: {exc}") from exc


def chime(config: Path) -> ChimeResult:
    """The CHIME-compatible census projection of a JSON config with CHIME's names."""
    try:
        data: Any = json.loads(config.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{config}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{config}: not valid JSON ({exc})") from exc
    try:
        return run_chime(chime_from_dict(data))
    except ConfigError as exc:
        raise ConfigError(f"{config}: {exc}") from exc
