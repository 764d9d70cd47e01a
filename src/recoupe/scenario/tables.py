"""Columns as Arrow arrays, CSV writing, and the deliberately bad rows of a source.

Every text column is built column-wise with Arrow compute functions; files are written
by Arrow's CSV writer (no quoting: the generator never puts a delimiter, a quote or a
line break inside a value, and Arrow refuses to write one if it did).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

#: first day of the period the scenario covers (calls, transfers, travels)
PERIOD_START = np.datetime64("2024-01-01", "D")
PERIOD_DAYS = 366
_EPOCH_DAY = int(PERIOD_START.astype(np.int64))

Column = Any  # a pyarrow Array (pyarrow ships no type information)
Columns = dict[str, Column]


def strings(values: Sequence[str | None] | npt.NDArray[Any]) -> Column:
    return pa.array(values, type=pa.string())


def digits(values: npt.NDArray[np.integer[Any]], width: int) -> Column:
    """Integers as zero-padded decimal strings of at least ``width`` digits."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0")


def concat(*parts: Column | str) -> Column:
    """Element-wise concatenation of string arrays and constant strings."""
    return pc.binary_join_element_wise(*parts, "")


def iso_dates(days: npt.NDArray[np.integer[Any]]) -> Column:
    """ISO dates from day numbers counted from PERIOD_START (negative: before it)."""
    absolute = np.asarray(days, dtype=np.int32) + _EPOCH_DAY
    return pc.cast(pa.array(absolute, type=pa.int32()).cast(pa.date32()), pa.string())


@functools.cache
def _clock() -> Column:
    seconds = np.arange(86_400)
    hours, minutes, secs = seconds // 3600, seconds // 60 % 60, seconds % 60
    return concat("T", digits(hours, 2), ":", digits(minutes, 2), ":", digits(secs, 2))


def iso_datetimes(seconds: npt.NDArray[np.integer[Any]]) -> Column:
    """'YYYY-MM-DDTHH:MM:SS' from seconds counted from PERIOD_START (non-negative)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    days = seconds // 86_400
    first = int(days.min()) if len(days) else 0
    calendar = iso_dates(np.arange(first, int(days.max()) + 1 if len(days) else 1))
    day_part = calendar.take(pa.array(days - first))
    return concat(day_part, _clock().take(pa.array(seconds % 86_400)))


def amounts(cents: npt.NDArray[np.integer[Any]]) -> Column:
    """Money amounts with two decimals ("9850.00") from integer cents."""
    cents = np.asarray(cents, dtype=np.int64)
    return concat(pc.cast(pa.array(cents // 100), pa.string()), ".", digits(cents % 100, 2))


def coordinates(values: npt.NDArray[np.floating[Any]]) -> Column:
    """Decimal degrees rounded to six places (about 10 cm)."""
    return pc.cast(pa.array(np.round(np.asarray(values, dtype=np.float64), 6)), pa.string())


def flags(values: npt.NDArray[np.bool_]) -> Column:
    return pc.if_else(pa.array(np.asarray(values, dtype=bool)), "true", "false")


def blank_where(column: Column, mask: npt.NDArray[np.bool_]) -> Column:
    """``column`` with empty values where ``mask`` is true."""
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), pa.scalar("", pa.string()), column)


@dataclass(frozen=True, slots=True)
class Defect:
    """A bad row to add to a source: a copy of a real row with one value spoilt."""

    column: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class BadRow:
    """A bad row as written: file, 1-based data row number (header excluded), reason."""

    file: str
    row: int
    reason: str


def with_defects(
    columns: Mapping[str, Column],
    defects: Sequence[Defect],
    rng: np.random.Generator,
    file: str,
    exclude: npt.NDArray[np.bool_] | None = None,
) -> tuple[Columns, list[BadRow]]:
    """Insert one spoilt copy of a random row per defect at random places.

    Copies keep the keys of the row they copy, so a rejected copy removes nothing that
    the ground truth expects; ``exclude`` marks rows not to copy.
    """
    size = len(next(iter(columns.values())))
    allowed = np.arange(size) if exclude is None else np.flatnonzero(~exclude)
    sources = rng.choice(allowed, len(defects), replace=False)
    positions = np.sort(rng.choice(size + len(defects), len(defects), replace=False))
    is_bad = np.zeros(size + len(defects), dtype=bool)
    is_bad[positions] = True
    order = np.empty(size + len(defects), dtype=np.int64)
    order[~is_bad] = np.arange(size)
    order[positions] = sources
    take = pa.array(order)
    result = {name: column.take(take) for name, column in columns.items()}
    for position, defect in zip(positions.tolist(), defects, strict=True):
        mask = np.zeros(size + len(defects), dtype=bool)
        mask[position] = True
        result[defect.column] = pc.replace_with_mask(
            result[defect.column], pa.array(mask), pa.array([defect.value], pa.string())
        )
    bad = [
        BadRow(file, position + 1, defect.reason)
        for position, defect in zip(positions.tolist(), defects, strict=True)
    ]
    return result, bad


def _header(names: Sequence[str], delimiter: str) -> str:
    for name in names:
        if delimiter in name or '"' in name or "\n" in name:
            raise ValueError(f"column name {name!r} would need quoting")
    return delimiter.join(names) + "\n"


def write_csv(
    path: Path, columns: Mapping[str, Column], delimiter: str = ",", encoding: str = "utf-8"
) -> int:
    """Write the columns (in order) with a header; returns the number of data rows."""
    table = pa.table(dict(columns))
    options = pacsv.WriteOptions(include_header=False, quoting_style="none", delimiter=delimiter)
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, options)
    text = _header(list(columns), delimiter).encode("utf-8") + buffer.getvalue()
    if encoding.replace("-", "").lower() != "utf8":
        text = text.decode("utf-8").encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    return int(table.num_rows)


class ChunkWriter:
    """Writes a large UTF-8 CSV chunk by chunk with the same columns (header once)."""

    def __init__(self, path: Path, names: Sequence[str], types: Sequence[Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.schema = pa.schema(list(zip(names, types, strict=True)))
        self.rows = 0
        self._file = path.open("wb")
        self._file.write(_header(names, ",").encode("utf-8"))
        self._writer = pacsv.CSVWriter(
            self._file,
            self.schema,
            write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )

    def write(self, columns: Mapping[str, Column]) -> None:
        batch = pa.record_batch(list(columns.values()), schema=self.schema)
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        self._writer.close()
        self._file.close()
