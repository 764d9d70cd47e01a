"""Clusters of records that are one entity, from scored pairs and analysts' judgements.

Joining every pair above a threshold (connected components) chains strangers together at
scale: A looks like B, B like C, and A and C end up one person although they were scored
as clearly different. Here the negative evidence counts too:

- a "same" judgement joins its two records whatever the scores (a must-link);
- a "different" judgement keeps their clusters apart for good (a cannot-link);
- a scored pair below ``apart_below`` keeps its clusters apart as well: two records the
  model found unlikely to match never share a cluster through others;
- the other pairs, at least ``join_at``, join clusters strongest first, unless that would
  put records kept apart into one cluster.

Every join is recorded with what made it (:class:`Join`), so a cluster can be explained
link by link, and undoing a judgement is clustering again without it.

Pure code over plain sequences (numpy inside): no database, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from recoupe.errors import ConfigError

Verdict = Literal["same", "different", "unsure"]
VERDICTS: tuple[Verdict, ...] = ("same", "different", "unsure")


@dataclass(frozen=True)
class Pair:
    """Two records the model compared, with the probability that they are one entity."""

    left: str
    right: str
    probability: float


@dataclass(frozen=True)
class Judgement:
    """An analyst's (or the system's) verdict on two records."""

    left: str
    right: str
    verdict: Verdict


@dataclass(frozen=True)
class Join:
    """One link that put two clusters together: a judgement, or a pair's score."""

    left: str
    right: str
    via: Literal["judgement", "score"]
    probability: float | None


@dataclass(frozen=True)
class Conflict:
    """A "same" judgement that would join records judged (or scored) to be apart."""

    left: str
    right: str
    reason: str


@dataclass(frozen=True)
class Clustering:
    """Which cluster each record is in, the joins that made the clusters, and conflicts.

    ``cluster`` maps every record named in a pair or judgement to its cluster's id (the
    smallest record id in it); records alone are their own cluster.
    """

    cluster: dict[str, str]
    joins: list[Join]
    conflicts: list[Conflict]

    def members(self) -> dict[str, list[str]]:
        """Records of each cluster with more than one, sorted."""
        found: dict[str, list[str]] = {}
        for record, cluster in self.cluster.items():
            found.setdefault(cluster, []).append(record)
        return {c: sorted(m) for c, m in sorted(found.items()) if len(m) > 1}


class _Forest:
    """Union-find over integer record codes, with the set of clusters each cluster is
    kept from (sets of old roots, resolved through ``find``)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        self.apart: dict[int, set[int]] = {}

    def find(self, record: int) -> int:
        parent = self.parent
        root = record
        while parent[root] != root:
            root = parent[root]
        while parent[record] != root:  # path compression
            parent[record], record = root, parent[record]
        return root

    def keep_apart(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        self.apart.setdefault(ra, set()).add(rb)
        self.apart.setdefault(rb, set()).add(ra)

    def kept_apart(self, ra: int, rb: int) -> bool:
        """Whether roots ``ra`` and ``rb`` must stay apart (their sets hold old roots too)."""
        a, b = self.apart.get(ra), self.apart.get(rb)
        if a is None or b is None:
            return False
        small, other = (a, rb) if len(a) <= len(b) else (b, ra)
        find = self.find
        return any(find(x) == other for x in small)

    def union(self, ra: int, rb: int) -> None:
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        moved = self.apart.pop(rb, None)
        if moved:
            self.apart.setdefault(ra, set()).update(moved)


def cluster(
    pairs: Iterable[Pair],
    judgements: Iterable[Judgement] = (),
    *,
    join_at: float = 0.9,
    apart_below: float = 0.05,
    _columns: tuple[Sequence[str], Sequence[str], npt.NDArray[np.float64]] | None = None,
) -> Clustering:
    """Cluster records from ``pairs`` and ``judgements``, oldest judgement first: the
    latest verdict on a pair wins, and of two "same" verdicts that cannot both hold, the
    later is reported as a conflict. See the module docstring for the rules.

    Records are coded as integers (in id order) and the pairs sorted as arrays, so a
    million pairs cluster in seconds.
    """
    if not 0.0 < join_at <= 1.0:
        raise ConfigError(f"join_at must be more than 0 and at most 1 (got {join_at})")
    if not 0.0 <= apart_below < join_at:
        raise ConfigError(
            f"apart_below must be at least 0 and below join_at={join_at} (got {apart_below})"
        )
    verdicts: dict[tuple[str, str], Verdict] = {}
    for j in judgements:
        if j.verdict not in VERDICTS:
            raise ConfigError(f"verdict {j.verdict!r} ({j.left}, {j.right}): use {VERDICTS}")
        if j.left == j.right:
            raise ConfigError(f"judgement on {j.left!r} with itself")
        key = _key(j.left, j.right)
        verdicts.pop(key, None)  # a later verdict also comes later in time order
        verdicts[key] = j.verdict
    if _columns is not None:
        return _cluster(*_columns, verdicts, join_at, apart_below)
    listed = pairs if isinstance(pairs, list) else list(pairs)
    return _cluster(
        [p.left for p in listed],
        [p.right for p in listed],
        np.fromiter((p.probability for p in listed), np.float64, len(listed)),
        verdicts,
        join_at,
        apart_below,
    )


def cluster_columns(
    left: Sequence[str],
    right: Sequence[str],
    probability: npt.ArrayLike,
    judgements: Iterable[Judgement] = (),
    *,
    join_at: float = 0.9,
    apart_below: float = 0.05,
) -> Clustering:
    """:func:`cluster` over columns (pair i is ``left[i]``, ``right[i]``,
    ``probability[i]``): the same clusters, without a :class:`Pair` per pair."""
    scores = np.asarray(probability, dtype=np.float64)
    if not len(left) == len(right) == len(scores):
        raise ConfigError(f"columns of different lengths: {len(left)}, {len(right)}, {len(scores)}")
    return cluster(
        [], judgements, join_at=join_at, apart_below=apart_below, _columns=(left, right, scores)
    )


def _cluster(
    lefts: Sequence[str],
    rights: Sequence[str],
    probability: npt.NDArray[np.float64],
    verdicts: dict[tuple[str, str], Verdict],
    join_at: float,
    apart_below: float,
) -> Clustering:
    bad = np.flatnonzero(~((probability >= 0.0) & (probability <= 1.0)))
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            f"pair ({lefts[i]}, {rights[i]}): probability {probability[i]} is not between 0 and 1"
        )
    names = sorted({*lefts, *rights, *(r for key in verdicts for r in key)})
    code = {name: i for i, name in enumerate(names)}
    left = np.fromiter((code[x] for x in lefts), np.int64, len(lefts))
    right = np.fromiter((code[x] for x in rights), np.int64, len(rights))
    same = np.flatnonzero(left == right)
    if same.size:
        i = int(same[0])
        raise ConfigError(f"pair ({lefts[i]}, {rights[i]}): a record with itself")
    low, high = np.minimum(left, right), np.maximum(left, right)
    n = len(names)
    judged = np.zeros(len(lefts), dtype=bool)
    if verdicts:
        keys = np.array([code[a] * n + code[b] for a, b in verdicts], dtype=np.int64)
        judged = np.isin(low * n + high, keys)  # a judgement overrides the model on that pair
    forest = _Forest(n)
    joinable = (probability >= join_at) & ~judged
    # keeping apart matters only between records some join or "same" could bring together
    involved = np.zeros(n, dtype=bool)
    involved[left[joinable]] = True
    involved[right[joinable]] = True
    for (a, b), verdict in verdicts.items():
        if verdict == "same":
            involved[code[a]] = involved[code[b]] = True
    apart = np.flatnonzero((probability < apart_below) & ~judged & involved[low] & involved[high])
    sets = forest.apart
    for a, b in zip(low[apart].tolist(), high[apart].tolist(), strict=True):
        sets.setdefault(a, set()).add(b)  # no union yet: every record is its own root
        sets.setdefault(b, set()).add(a)
    for (a, b), verdict in verdicts.items():
        if verdict == "different":
            forest.keep_apart(code[a], code[b])
    joins: list[Join] = []
    conflicts: list[Conflict] = []
    for (a, b), verdict in verdicts.items():  # oldest first: the later one conflicts
        if verdict != "same":
            continue
        ra, rb = forest.find(code[a]), forest.find(code[b])
        if ra == rb:
            continue
        if forest.kept_apart(ra, rb):
            conflicts.append(
                Conflict(a, b, "their clusters hold records judged or scored as different")
            )
            continue
        forest.union(ra, rb)
        joins.append(Join(a, b, "judgement", None))
    scored = np.flatnonzero(joinable)
    order = scored[np.lexsort((high[scored], low[scored], -probability[scored]))]
    find, kept_apart, union = forest.find, forest.kept_apart, forest.union
    codes_l, codes_r = left.tolist(), right.tolist()
    for i in order.tolist():
        ra, rb = find(codes_l[i]), find(codes_r[i])
        if ra == rb or kept_apart(ra, rb):
            continue
        union(ra, rb)
        joins.append(Join(lefts[i], rights[i], "score", float(probability[i])))
    roots = [find(i) for i in range(n)]
    smallest: dict[int, int] = {}
    for i, root in enumerate(roots):  # codes are in id order: the first seen is smallest
        smallest.setdefault(root, i)
    return Clustering(
        {name: names[smallest[roots[i]]] for i, name in enumerate(names)},
        joins,
        conflicts,
    )


def explain(clustering: Clustering, record: str) -> list[Join]:
    """The joins that hold ``record``'s cluster together, as a list of links."""
    target = clustering.cluster.get(record)
    if target is None:
        return []
    return [j for j in clustering.joins if clustering.cluster[j.left] == target]


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)
