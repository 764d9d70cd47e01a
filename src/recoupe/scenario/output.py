"""Where the sources go: the output folder, the files written, the ground truth."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from recoupe.scenario.streams import stream
from recoupe.scenario.tables import Column, Defect, with_defects, write_csv
from recoupe.scenario.truth import Truth

Progress = Callable[[str, int, int], None]


@dataclass
class Output:
    """The folder being written, with what has been written to it so far."""

    root: Path
    seed: int
    scale: int
    progress: Progress
    truth: Truth = field(default_factory=Truth)
    files: list[tuple[str, int]] = field(default_factory=list)
    mappings: list[Path] = field(default_factory=list)

    def path(self, name: str) -> Path:
        return self.root / name

    def write(
        self,
        name: str,
        columns: Mapping[str, Column],
        defects: Sequence[Defect] = (),
        *,
        shuffle: bool = False,
        protect: npt.NDArray[np.bool_] | None = None,
        delimiter: str = ",",
        encoding: str = "utf-8",
    ) -> int:
        """Write one source file; ``protect`` marks rows that bad rows must not copy."""
        rng = stream(self.seed, name)
        table = dict(columns)
        if shuffle:
            order = rng.permutation(len(next(iter(table.values()))))
            take = pa.array(order)
            table = {key: column.take(take) for key, column in table.items()}
            if protect is not None:
                protect = protect[order]
        if defects:
            table, bad = with_defects(table, defects, rng, name, exclude=protect)
            self.truth.bad_rows.extend(bad)
        rows = write_csv(self.path(name), table, delimiter=delimiter, encoding=encoding)
        self.files.append((name, rows))
        return rows
