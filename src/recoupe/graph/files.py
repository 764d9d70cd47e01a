"""The link graph on disk, written column by column and mapped back into memory.

A graph folder holds one ``.npy`` file per numeric array, each string column as two files
(``<name>.offsets.npy``: int64 offsets; ``<name>.utf8``: the bytes, as Arrow's large
strings lay them out) and ``meta.json``, written last: a folder without it is incomplete.
Loading maps every file (``mmap``): a graph of tens of millions of edges opens in
milliseconds, and processes sharing it share the pages.

:class:`GraphWriter` lets a builder write columns as they arrive (strings batch by batch),
so the biggest columns are never held in memory at once; :meth:`GraphWriter.finish`
computes the adjacency index from the saved edge ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from recoupe.graph.arrays import adjacency

FORMAT = 2
NUMERIC = (
    "node_kind",
    "node_schema",
    "label_ptr",
    "label_dataset",
    "label_schema",
    "src",
    "dst",
    "edge_kind",
    "edge_schema",
    "edge_prop",
    "edge_start",
    "edge_end",
    "edge_dataset",
    "indptr",
    "adj_node",
    "adj_edge",
)
STRINGS = ("node_ids", "label_caption", "edge_entity")


def large_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous large-string array; nulls become empty strings."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    if values.null_count:
        values = values.fill_null("")
    return values


class StringWriter:
    """A string column appended batch by batch (nulls written as empty strings)."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / name
        self._data: BinaryIO = (directory / f"{name}.utf8").open("wb")
        self._offsets: list[np.ndarray[Any, np.dtype[np.int64]]] = [np.zeros(1, np.int64)]
        self._size = 0

    def append(self, values: pa.Array | pa.ChunkedArray) -> None:
        array = large_strings(values)
        if len(array) == 0:
            return
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)
        offsets = offsets[array.offset : array.offset + len(array) + 1]
        data = array.buffers()[2]
        if data is not None:
            self._data.write(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
        self._offsets.append(offsets[1:] - offsets[0] + self._size)
        self._size += int(offsets[-1] - offsets[0])

    def close(self) -> None:
        self._data.close()
        np.save(self.path.with_name(f"{self.path.name}.offsets.npy"), np.concatenate(self._offsets))


class NumberWriter:
    """A numeric column appended chunk by chunk to a raw file, saved as ``.npy`` at the end
    (so no more than a chunk of it is ever in memory)."""

    def __init__(self, directory: Path, name: str, dtype: type[np.generic]) -> None:
        self.path = directory / f"{name}.npy"
        self.raw = directory / f"{name}.raw"
        self.dtype = np.dtype(dtype)
        self._file: BinaryIO = self.raw.open("wb")
        self.count = 0

    def append(self, values: np.ndarray[Any, Any]) -> None:
        chunk = np.ascontiguousarray(values, dtype=self.dtype)
        self._file.write(chunk.tobytes())
        self.count += len(chunk)

    def close(self) -> None:
        self._file.close()
        if self.count:
            np.save(self.path, np.memmap(self.raw, self.dtype, "r", shape=(self.count,)))
        else:
            np.save(self.path, np.zeros(0, dtype=self.dtype))
        self.raw.unlink()


def save_strings(directory: Path, name: str, values: pa.Array) -> None:
    writer = StringWriter(directory, name)
    writer.append(values)
    writer.close()


def load_strings(directory: Path, name: str) -> pa.Array:
    """A string column mapped from its files (no copy)."""
    offsets = np.load(directory / f"{name}.offsets.npy", mmap_mode="r")
    path = directory / f"{name}.utf8"
    if path.stat().st_size:
        data = pa.py_buffer(np.memmap(path, dtype=np.uint8, mode="r"))
    else:
        data = pa.py_buffer(b"")
    return pa.Array.from_buffers(
        pa.large_string(), len(offsets) - 1, [None, pa.py_buffer(offsets), data]
    )


def read_meta(directory: Path) -> dict[str, Any] | None:
    """The ``meta.json`` of a saved graph, or None when there is none we can read."""
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    return meta


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    text = json.dumps({"format": FORMAT, **meta}, indent=1)
    (directory / "meta.json").write_text(text, encoding="utf-8")


def load_arrays(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every array of a saved graph (mapped, read-only) and its meta."""
    meta = read_meta(directory)
    if meta is None:
        raise FileNotFoundError(f"{directory}: no saved link graph")
    arrays: dict[str, Any] = {}
    for name in NUMERIC:
        arrays[name] = np.load(directory / f"{name}.npy", mmap_mode="r")
    for name in STRINGS:
        arrays[name] = load_strings(directory, name)
    return arrays, meta


class GraphWriter:
    """Writes a graph folder column by column; :meth:`finish` indexes it and seals it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def array(self, name: str, values: np.ndarray[Any, Any]) -> None:
        if name not in NUMERIC:
            raise ValueError(f"no graph array {name!r}")
        np.save(self.directory / f"{name}.npy", np.ascontiguousarray(values))

    def numbers(self, name: str, dtype: type[np.generic]) -> NumberWriter:
        if name not in (*NUMERIC, "label_node"):
            raise ValueError(f"no graph array {name!r}")
        return NumberWriter(self.directory, name, dtype)

    def strings(self, name: str) -> StringWriter:
        if name not in STRINGS:
            raise ValueError(f"no graph string column {name!r}")
        return StringWriter(self.directory, name)

    def finish(self, meta: dict[str, Any]) -> None:
        """Compute the adjacency and label ranges (from ``label_node``, the node of each
        label row, ascending), then write ``meta.json``."""
        src = np.load(self.directory / "src.npy", mmap_mode="r")
        dst = np.load(self.directory / "dst.npy", mmap_mode="r")
        n = int(meta["nodes"])
        indptr, adj_node, adj_edge = adjacency(src, dst, n)
        self.array("indptr", indptr)
        del indptr
        self.array("adj_node", adj_node)
        del adj_node
        self.array("adj_edge", adj_edge)
        del adj_edge
        label_node = np.load(self.directory / "label_node.npy", mmap_mode="r")
        label_ptr = np.searchsorted(label_node, np.arange(n + 1)).astype(np.int64)
        del label_node
        self.array("label_ptr", label_ptr)
        (self.directory / "label_node.npy").unlink()
        write_meta(self.directory, {**meta, "edges": len(src)})
