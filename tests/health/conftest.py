"""Helpers to read the public reference data copied under ``tests/health/data``."""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).parent / "data"


def rows(relative: str) -> list[dict[str, str]]:
    with (DATA / relative).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def column(relative: str, name: str) -> list[float]:
    return [float(r[name]) for r in rows(relative)]
