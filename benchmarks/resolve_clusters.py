"""The clustering step of entity resolution alone, on synthetic scored pairs.

Records fall into true clusters of 1 to 4. Each true pair is scored 0.99 (or 0.6, missed
by the model, one time in ten); random pairs of strangers are scored too: most as clearly
different (0.01), some as doubtful (0.3) and a few as false matches (0.95); a false match's
stranger was compared with the record's true cluster mates as well (they share a blocking
key) and scored apart from them (0.01), as a blocked linkage model does. The run compares
:func:`recoupe.resolve.clusters.cluster` (strong pairs join unless negative evidence keeps
clusters apart) with plain connected components of the pairs at 0.5, on cluster precision,
recall and F1 (over the pairs of records put in one cluster), time and peak memory.

    .venv/bin/python benchmarks/resolve_clusters.py --records 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Any

from recoupe.resolve.clusters import Pair, cluster


def scenario(records: int, strangers: int, seed: int) -> tuple[list[Pair], dict[str, int]]:
    rng = random.Random(seed)
    ids = [f"r{i:08d}" for i in range(records)]
    truth: dict[str, int] = {}
    pairs: list[Pair] = []
    i = 0
    while i < records:
        members = ids[i : i + rng.choice((1, 2, 2, 3, 4))]
        for m in members:
            truth[m] = i
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                score = 0.99 if rng.random() < 0.9 else 0.6
                pairs.append(Pair(members[a], members[b], score))
        i += len(members)
    clusters: dict[int, list[str]] = {}
    for record, c in truth.items():
        clusters.setdefault(c, []).append(record)
    for _ in range(strangers):
        a, b = rng.sample(ids, 2)
        if truth[a] == truth[b]:
            continue
        r = rng.random()
        if r >= 0.02:
            pairs.append(Pair(a, b, 0.01 if r < 0.7 else 0.3))
            continue
        # a false match: b shares a block with a, so the model compared it with a's
        # cluster mates too, and scored them apart
        pairs.append(Pair(a, b, 0.95))
        for mate in clusters[truth[a]]:
            if mate != a:
                pairs.append(Pair(mate, b, 0.01))
    return pairs, truth


def _together(groups: Iterable[Hashable]) -> int:
    return sum(n * (n - 1) // 2 for n in Counter(groups).values())


def scores(found: dict[str, str], truth: dict[str, int]) -> dict[str, float]:
    """Precision, recall and F1 over the pairs of records that share a cluster."""
    every = list(truth)
    predicted = _together(found.get(r, r) for r in every)
    actual = _together(truth[r] for r in every)
    both = _together((found.get(r, r), truth[r]) for r in every)
    precision = both / predicted if predicted else 1.0
    recall = both / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def timed(pairs: list[Pair], **kwargs: float) -> tuple[dict[str, str], float]:
    started = time.perf_counter()
    found = cluster(pairs, **kwargs)
    return found.cluster, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--strangers", type=int, default=None, help="default: --records")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pairs, truth = scenario(args.records, args.strangers or args.records, args.seed)
    result: dict[str, Any] = {"records": args.records, "pairs": len(pairs)}
    found, seconds = timed(pairs)
    result["recoupe"] = {"seconds": round(seconds, 1), **scores(found, truth)}
    found, seconds = timed(pairs, join_at=0.5, apart_below=0.0)
    result["components_at_0.5"] = {"seconds": round(seconds, 1), **scores(found, truth)}
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
