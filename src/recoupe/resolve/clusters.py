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

Pure Python over plain sequences: no database, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

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
    """Union-find over record ids, with the set of clusters each cluster is kept from."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}
        self.apart: dict[str, set[str]] = {}

    def add(self, *records: str) -> None:
        for record in records:
            self.parent.setdefault(record, record)

    def find(self, record: str) -> str:
        parent = self.parent.setdefault(record, record)
        if parent == record:
            return record
        root = record
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[record] != root:  # path compression
            self.parent[record], record = root, self.parent[record]
        return root

    def keep_apart(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        self.apart.setdefault(ra, set()).add(rb)
        self.apart.setdefault(rb, set()).add(ra)

    def kept_apart(self, ra: str, rb: str) -> bool:
        """Whether roots ``ra`` and ``rb`` must stay apart (their sets hold old roots too)."""
        a, b = self.apart.get(ra, set()), self.apart.get(rb, set())
        small, other = (a, rb) if len(a) <= len(b) else (b, ra)
        return any(self.find(x) == other for x in small)

    def union(self, ra: str, rb: str) -> None:
        if self.size.get(ra, 1) < self.size.get(rb, 1):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] = self.size.get(ra, 1) + self.size.get(rb, 1)
        moved = self.apart.pop(rb, None)
        if moved:
            self.apart.setdefault(ra, set()).update(moved)


def cluster(
    pairs: Iterable[Pair],
    judgements: Iterable[Judgement] = (),
    *,
    join_at: float = 0.9,
    apart_below: float = 0.05,
) -> Clustering:
    """Cluster records from ``pairs`` and ``judgements``, oldest judgement first: the
    latest verdict on a pair wins, and of two "same" verdicts that cannot both hold, the
    later is reported as a conflict. See the module docstring for the rules."""
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
    forest = _Forest()
    scored: list[Pair] = []
    for pair in pairs:
        if not 0.0 <= pair.probability <= 1.0:
            raise ConfigError(
                f"pair ({pair.left}, {pair.right}): probability {pair.probability} "
                "is not between 0 and 1"
            )
        if pair.left == pair.right:
            raise ConfigError(f"pair ({pair.left}, {pair.right}): a record with itself")
        forest.add(pair.left, pair.right)
        if _key(pair.left, pair.right) in verdicts:
            continue  # a judgement overrides the model on that pair
        if pair.probability < apart_below:
            forest.keep_apart(pair.left, pair.right)
        elif pair.probability >= join_at:
            scored.append(pair)
    for (a, b), verdict in verdicts.items():
        forest.add(a, b)
        if verdict == "different":
            forest.keep_apart(a, b)
    joins: list[Join] = []
    conflicts: list[Conflict] = []
    for (a, b), verdict in verdicts.items():  # oldest first: the later one conflicts
        if verdict != "same":
            continue
        ra, rb = forest.find(a), forest.find(b)
        if ra == rb:
            continue
        if forest.kept_apart(ra, rb):
            conflicts.append(
                Conflict(a, b, "their clusters hold records judged or scored as different")
            )
            continue
        forest.union(ra, rb)
        joins.append(Join(a, b, "judgement", None))
    scored.sort(key=lambda p: (-p.probability, _key(p.left, p.right)))
    for pair in scored:
        ra, rb = forest.find(pair.left), forest.find(pair.right)
        if ra == rb or forest.kept_apart(ra, rb):
            continue
        forest.union(ra, rb)
        joins.append(Join(pair.left, pair.right, "score", pair.probability))
    smallest: dict[str, str] = {}
    for record in forest.parent:
        root = forest.find(record)
        if root not in smallest or record < smallest[root]:
            smallest[root] = record
    return Clustering(
        {record: smallest[forest.find(record)] for record in sorted(forest.parent)},
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
