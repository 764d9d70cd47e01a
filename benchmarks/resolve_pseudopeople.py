"""Person resolution on pseudopeople's simulated census and Social Security records.

pseudopeople (1.3.1, offline with its bundled sample population) writes the records a
simulated US population leaves in the 2020 decennial census and in the Social Security
Administration's files, with realistic noise: typos, phonetic and OCR errors, nicknames,
swapped or missing fields, wrong dates of birth. Every row carries the ``simulant_id`` of
the person it describes: the ground truth.

The two datasets are put together (the census row and the SSA events of one simulant are
one entity; SSA's several events of one person are too) and resolved twice:

- **Recoupe, default spec**: records with Recoupe's features (``name`` and ``name_keys``
  from the written first and last name, ``given_name``, ``surname``, ``birth_date``, the
  SSN as an id), then :func:`recoupe.resolve.engine.link` with
  ``DEFAULT_SPEC.schema("Person")`` (the whole name compared) and
  :func:`recoupe.resolve.clusters.cluster` at ``join_at``;
- **Recoupe, name parts**: the same records and engine, with the spec's ``part``
  comparisons on given name and surname instead of the whole name (:data:`PARTS_SPEC`),
  the spec a data engineer writes for sources that keep the two apart;
- **plain Splink**: first and last name apart (``NameComparison`` each), the date of
  birth (``DateOfBirthComparison``), the SSN exact; blocking on first + last name, on the
  date of birth, on the SSN; connected components at the same threshold.

Pairwise precision/recall/F1 are over the pairs scored at least ``join_at``, cluster
figures over the pairs of records put in one cluster, overall and for the pairs across the
two datasets; seconds are wall time of each run.

pseudopeople needs packages the project does not pin, so it runs in a venv of its own that
sees the project's (nothing is installed into ``.venv``)::

    /work/main/.venv/bin/python -m venv /tmp/ppvenv
    printf '%s\\n' /work/main/.venv/lib/python3.11/site-packages /work/main/src \\
        > /tmp/ppvenv/lib/python3.11/site-packages/recoupe_project.pth
    /tmp/ppvenv/bin/pip install pseudopeople==1.3.1
    /tmp/ppvenv/bin/python benchmarks/resolve_pseudopeople.py
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from recoupe.resolve.clusters import Pair, cluster
from recoupe.resolve.engine import link
from recoupe.resolve.names import name_form, name_keys
from recoupe.resolve.spec import DEFAULT_SPEC, SchemaSpec, spec_from_dict

JOIN_AT = 0.9
APART_BELOW = 0.05

PARTS_SPEC = spec_from_dict(
    {
        "schemata": {
            "Person": {
                "comparisons": [
                    {"feature": "given_name", "kind": "part", "term_frequency": True},
                    {"feature": "surname", "kind": "part", "term_frequency": True},
                    {"feature": "birth_date", "kind": "date"},
                    {"feature": "ids", "kind": "set"},
                ],
                "blocking": [["given_name", "surname"], ["birth_date"], ["ids"], ["name_keys"]],
                "rules": [{"name": "same identifier", "feature": "ids"}],
                "training": {"em_blocking": [["birth_date"], ["given_name", "surname"]]},
            }
        }
    }
)


def load(seed: int) -> pd.DataFrame:
    """Census and SSA rows as one frame: uid, dataset, simulant, first, last, dob, ssn."""
    import pseudopeople as psp

    census = psp.generate_decennial_census(seed=seed)
    ssa = psp.generate_social_security(seed=seed)

    def frame(df: pd.DataFrame, dataset: str, fmt: str, ssn: pd.Series | None) -> pd.DataFrame:
        dob = pd.to_datetime(df["date_of_birth"], format=fmt, errors="coerce")
        return pd.DataFrame(
            {
                "dataset": dataset,
                "simulant": df["simulant_id"].astype(str).to_numpy(),
                "first": df["first_name"].astype("string").to_numpy(),
                "last": df["last_name"].astype("string").to_numpy(),
                "dob": dob.dt.strftime("%Y-%m-%d").to_numpy(),
                "ssn": (
                    ssn.astype("string") if ssn is not None else pd.Series([None] * len(df))
                ).to_numpy(),
            }
        )

    both = pd.concat(
        [
            frame(census, "census", "%m/%d/%Y", None),
            frame(ssa, "ssa", "%Y%m%d", ssa["ssn"]),
        ],
        ignore_index=True,
    )
    both["uid"] = [f"{d[0]}{i:07d}" for i, d in enumerate(both["dataset"])]
    return both


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) or not str(value).strip() else str(value)


def recoupe_records(df: pd.DataFrame) -> pa.Table:
    full = [
        " ".join(w for w in (_text(f), _text(s)) if w)
        for f, s in zip(df["first"], df["last"], strict=True)
    ]
    distinct = {n: (name_form(n), name_keys(n)) for n in set(full)}
    listed = pa.list_(pa.string())
    ssn = [[f"ssn={s}"] if _text(s) else [] for s in df["ssn"]]
    n = len(df)
    return pa.table(
        {
            "unique_id": pa.array(df["uid"].tolist(), pa.string()),
            "source_dataset": pa.array(df["dataset"].tolist(), pa.string()),
            "name": pa.array([distinct[x][0] for x in full], pa.string()),
            "name_keys": pa.array([distinct[x][1] for x in full], listed),
            "given_name": pa.array([_text(f) and name_form(f) for f in df["first"]]),
            "surname": pa.array([_text(x) and name_form(x) for x in df["last"]]),
            "birth_date": pa.array([_text(d) for d in df["dob"]], pa.string()),
            "phones": pa.array([[]] * n, listed),
            "emails": pa.array([[]] * n, listed),
            "ids": pa.array(ssn, listed),
            "country": pa.array([None] * n, pa.string()),
        }
    )


def recoupe_run(df: pd.DataFrame, join_at: float) -> tuple[pa.Table, dict[str, str]]:
    return _recoupe(df, DEFAULT_SPEC.schema("Person"), join_at)


def recoupe_parts_run(df: pd.DataFrame, join_at: float) -> tuple[pa.Table, dict[str, str]]:
    return _recoupe(df, PARTS_SPEC.schema("Person"), join_at)


def _recoupe(df: pd.DataFrame, part: SchemaSpec, join_at: float) -> tuple[pa.Table, dict[str, str]]:
    scored = link(recoupe_records(df), part, keep_above=DEFAULT_SPEC.keep_above)
    p = scored.evidence()
    pairs = map(
        Pair,
        p.column("left_id").to_pylist(),
        p.column("right_id").to_pylist(),
        p.column("probability").to_pylist(),
    )
    found = cluster(pairs, join_at=join_at, apart_below=APART_BELOW).cluster
    return scored.pairs.select(["left_id", "right_id", "probability"]), found


def splink_run(df: pd.DataFrame, join_at: float) -> tuple[pa.Table, dict[str, str]]:
    import splink.comparison_library as cl
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    table = pa.table(
        {
            "unique_id": pa.array(df["uid"].tolist(), pa.string()),
            "first_name": pa.array([_text(x) and str(x).lower() for x in df["first"]]),
            "last_name": pa.array([_text(x) and str(x).lower() for x in df["last"]]),
            "date_of_birth": pa.array([_text(d) for d in df["dob"]], pa.string()),
            "ssn": pa.array([_text(s) for s in df["ssn"]], pa.string()),
        }
    )
    con = duckdb.connect(":memory:")
    con.register("__t", table)
    con.execute("CREATE TABLE people AS SELECT * FROM __t")
    settings = {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": [
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.ExactMatch("ssn"),
        ],
        "blocking_rules_to_generate_predictions": [
            block_on("first_name", "last_name"),
            block_on("date_of_birth"),
            block_on("ssn"),
        ],
    }
    linker = Linker(DuckDBAPI(connection=con).register("people"), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1_000_000, seed=42)
    for rule in (block_on("date_of_birth"), block_on("first_name", "last_name")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predicted = linker.inference.predict(threshold_match_probability=0.001)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predicted, threshold_match_probability=join_at
    )
    pairs = con.execute(
        "SELECT unique_id_l AS left_id, unique_id_r AS right_id, match_probability AS "
        f"probability FROM {predicted.physical_name}"
    ).to_arrow_table()
    rows = con.execute(f"SELECT unique_id, cluster_id FROM {clusters.physical_name}").fetchall()
    con.close()
    return pairs, {str(u): str(c) for u, c in rows}


def prf(tp: int, predicted: int, actual: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _pairs(groups: np.ndarray, census: np.ndarray, subset: str) -> int:
    """Pairs of records sharing a group (``across``: one census record, one SSA record)."""
    if subset == "all":
        _, counts = np.unique(groups, return_counts=True)
        return int((counts * (counts - 1) // 2).sum())
    labels, inverse = np.unique(groups, return_inverse=True)
    in_census = np.bincount(inverse, weights=census, minlength=labels.size)
    in_ssa = np.bincount(inverse, weights=~census, minlength=labels.size)
    return int((in_census * in_ssa).sum())


def score(df: pd.DataFrame, pairs: pa.Table, found: dict[str, str], join_at: float) -> dict:
    uids = df["uid"].tolist()
    index = {u: i for i, u in enumerate(uids)}
    person = pd.factorize(df["simulant"])[0].astype(np.int64)
    census = (df["dataset"] == "census").to_numpy()
    prob = pairs.column("probability").to_numpy()
    li = np.array([index[u] for u in pairs.column("left_id").to_pylist()], np.int64)
    ri = np.array([index[u] for u in pairs.column("right_id").to_pylist()], np.int64)
    joined = prob >= join_at
    li, ri = li[joined], ri[joined]
    same = person[li] == person[ri]
    across = census[li] != census[ri]
    codes = pd.factorize(pd.Series([found.get(u, u) for u in uids]))[0].astype(np.int64)
    both = codes * (int(person.max()) + 1) + person
    out: dict[str, Any] = {}
    for subset, mask in (("all", np.ones_like(same)), ("census-SSA", across)):
        actual = _pairs(person, census, subset)
        out[subset] = {
            "true_pairs": actual,
            "pairs": prf(int((same & mask).sum()), int(mask.sum()), actual),
            "clusters": prf(_pairs(both, census, subset), _pairs(codes, census, subset), actual),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="pseudopeople's noise seed")
    parser.add_argument("--join-at", type=float, default=JOIN_AT)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda r: not r.name.startswith("splink") or r.levelno >= logging.ERROR)
    started = time.perf_counter()
    df = load(args.seed)
    load_s = round(time.perf_counter() - started, 1)
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    runs = (
        ("recoupe", recoupe_run),
        ("recoupe, name parts", recoupe_parts_run),
        ("splink", splink_run),
    )
    for run, fn in runs:
        started = time.perf_counter()
        pairs, found = fn(df, args.join_at)
        seconds[run] = round(time.perf_counter() - started, 1)
        results[run] = score(df, pairs, found, args.join_at)
    counts = df["dataset"].value_counts().to_dict()
    print(
        f"{len(df):,} records ({counts.get('census', 0):,} census, {counts.get('ssa', 0):,} "
        f"SSA), {df['simulant'].nunique():,} simulants; generated in {load_s} s"
    )
    print()
    print("| run | subset | true pairs | measure | precision | recall | F1 | seconds |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for run, by_subset in results.items():
        for subset, r in by_subset.items():
            for measure, label in (("pairs", f"pairs at {args.join_at}"), ("clusters", "clusters")):
                m = r[measure]
                print(
                    f"| {run} | {subset} | {r['true_pairs']:,} | {label} | {m['precision']} | "
                    f"{m['recall']} | {m['f1']} | {seconds[run]} |"
                )
    if args.json:
        print(json.dumps({"seconds": seconds, "results": results}, indent=2))


if __name__ == "__main__":
    main()
