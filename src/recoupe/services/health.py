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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from recoupe.errors import ConfigError
from recoupe.health.chime import ChimeResult, chime_from_dict, run_chime
from recoupe.health.hospital import Pathway
from recoupe.health.rt import RtEstimate, discrete_si, estimate_rt
from recoupe.health.seir import gamma_days

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


# -- the epidemiologist's assumptions ---------------------------------------------------


@dataclass(frozen=True)
class HealthModel:
    """What the forecasts assume about the population and the disease, from a file."""

    population: float
    pathway: Pathway
    changes: tuple[date, ...]
    """Days a new phase of R starts (lockdown, reopening)."""
    ifr: float
    death_delay: tuple[float, ...]
    """P(death k + 1 days after infection)."""
    latent: float = 4.0
    infectious: float = 3.0


MODEL_KEYS = {
    "population",
    "admission_share",
    "admission_delay",
    "ward_days",
    "icu_share",
    "days_before_icu",
    "icu_days",
    "days_after_icu",
    "ventilated_share",
    "ventilated_days",
    "changes",
    "ifr",
    "death_delay",
    "latent_days",
    "infectious_days",
}


def read_model(path: Path) -> HealthModel:
    """A model file (YAML or JSON); every key is named in its error."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the health model ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML or JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the health model must be a mapping")
    unknown = sorted(set(data) - MODEL_KEYS)
    if unknown:
        raise ConfigError(f"{path}: key {unknown[0]}: unknown; use {sorted(MODEL_KEYS)}")

    def number(key: str, default: float | None = None) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: key {key}: expected a number, got {value!r}")
        return float(value)

    def delay(key: str, default: tuple[float, float]) -> tuple[float, ...]:
        value = data.get(key, {"mean": default[0], "sd": default[1]})
        if not isinstance(value, dict) or set(value) != {"mean", "sd"}:
            raise ConfigError(f"{path}: key {key}: expected {{mean: days, sd: days}}")
        try:
            return gamma_days(float(value["mean"]), float(value["sd"]))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: key {key}: {exc}") from exc

    changes = []
    for i, text in enumerate(data.get("changes", [])):
        try:
            changes.append(date.fromisoformat(str(text)))
        except ValueError as exc:
            raise ConfigError(
                f"{path}: key changes[{i}]: expected YYYY-MM-DD, got {text!r}"
            ) from exc
    pathway = Pathway(
        admission_share=number("admission_share"),
        admission_delay=delay("admission_delay", (10.0, 5.0)),
        ward_days=int(number("ward_days", 8)),
        icu_share=number("icu_share", 0.2),
        days_before_icu=int(number("days_before_icu", 2)),
        icu_days=int(number("icu_days", 12)),
        days_after_icu=int(number("days_after_icu", 5)),
        ventilated_share=number("ventilated_share", 0.6),
        ventilated_days=int(number("ventilated_days", 9)),
    )
    try:
        pathway.check()
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return HealthModel(
        population=number("population"),
        pathway=pathway,
        changes=tuple(changes),
        ifr=number("ifr", 0.005),
        death_delay=delay("death_delay", (23.0, 10.0)),
        latent=number("latent_days", 4.0),
        infectious=number("infectious_days", 3.0),
    )
