"""Array helpers the graph modules share: ragged ranges, distinct nodes, the adjacency index."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Int = npt.NDArray[np.int64]
IntArray = npt.NDArray[np.integer[Any]]
Mask = npt.NDArray[np.bool_]


def ragged(starts: IntArray, lengths: IntArray) -> Int:
    """Positions ``starts[i] .. starts[i] + lengths[i] - 1`` for every ``i``, concatenated."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.asarray(starts, dtype=np.int64) - np.cumsum(lengths) + lengths
    return np.repeat(shift, lengths) + np.arange(total, dtype=np.int64)


def unique_nodes(values: IntArray, n: int) -> Int:
    """The distinct indices below ``n`` in ``values``, ascending (a bitmap when many)."""
    if len(values) * 16 > n:
        seen = np.zeros(n, dtype=bool)
        seen[values] = True
        return np.flatnonzero(seen)
    return np.unique(np.asarray(values, dtype=np.int64))


def sorted_unique(values: IntArray) -> Int:
    """The distinct values of an ascending array."""
    ordered: Int = np.asarray(values, dtype=np.int64)
    if len(ordered) == 0:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def adjacency(src: IntArray, dst: IntArray, n: int) -> tuple[Int, IntArray, IntArray]:
    """CSR over both directions (``indptr``, ``adj_node``, ``adj_edge``), neighbours
    ascending within each node. Peak memory: four 8-byte words per edge."""
    m = len(src)
    key = np.empty(2 * m, dtype=np.int64)  # (node << 32 | neighbour) of both directions
    np.left_shift(src, 32, out=key[:m], dtype=np.int64)
    key[:m] |= dst
    np.left_shift(dst, 32, out=key[m:], dtype=np.int64)
    key[m:] |= src
    order = np.argsort(key, kind="stable")
    key.sort()  # the same as key[order], without a second copy
    adj_node = (key & 0xFFFFFFFF).astype(np.int32)
    del key
    np.remainder(order, max(m, 1), out=order)
    adj_edge = order.astype(np.int32)
    del order
    indptr = np.zeros(n + 1, dtype=np.int64)
    degree = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    np.cumsum(degree, out=indptr[1:])
    return indptr, adj_node, adj_edge
