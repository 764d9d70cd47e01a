"""Person resolution on Recoupe's own scenario, against plain Splink on the same records.

The scenario (:func:`recoupe.scenario.generate`) writes telecom, bank, travel, registry and
other sources that describe the same people with the spellings real files have: Arabic and
Cyrillic script next to Latin transliterations, words reordered, initials, and some
records under a false name (the truth says they are the person; nothing in the record may
show it). ``truth.json`` gives every person record's entity id, so both runs are scored on
the same truth.

Both runs take the records the product builds after ingestion
(:func:`recoupe.store.resolution.build_records` on a workspace filled by
:func:`recoupe.services.demo.run_demo`):

- **Recoupe**: :func:`recoupe.resolve.engine.link` with ``DEFAULT_SPEC.schema("Person")``
  and the default ``keep_above``, then :func:`recoupe.resolve.clusters.cluster` at
  ``join_at`` (0.9) with negative evidence below ``apart_below``;
- **plain Splink**: a standard model on the raw name as ingested (lower case; no
  transliteration, no word sorting, no name keys): Jaro-Winkler name levels
  (``NameComparison``), ``DateOfBirthComparison``, phones, e-mails and ids as arrays;
  blocking on the name, the birth date and each phone/e-mail/id; u by random sampling, m
  by EM; connected components at the same threshold.

Pairwise precision/recall/F1 are over the pairs scored at least ``join_at``; cluster
figures over the pairs of records put in one cluster. Each is given overall, for the
cross-script pairs (one side written in Arabic or Cyrillic script) and for the pairs with
a false-name record (expected to be mostly unmatchable). Only records in the truth count.

    .venv/bin/python benchmarks/resolve_scenario.py --scale 20000 200000
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa

from recoupe.config import Settings
from recoupe.resolve.clusters import Pair, cluster
from recoupe.resolve.engine import link
from recoupe.resolve.spec import DEFAULT_SPEC
from recoupe.services.demo import run_demo
from recoupe.store import open_store
from recoupe.store.resolution import build_records

T = TypeVar("T")
JOIN_AT = 0.9
APART_BELOW = 0.05
SUBSETS = ("all", "cross-script", "false name")


def script_of(name: str) -> str:
    """The script: "arabic", "cyrillic" or "latin", the first non-Latin script among the letters."""
    for ch in name:
        if ch.isalpha():
            label = unicodedata.name(ch, "")
            if label.startswith("ARABIC"):
                return "arabic"
            if label.startswith("CYRILLIC"):
                return "cyrillic"
    return "latin"


def _timed(seconds: dict[str, float], name: str, fn: Callable[[], T]) -> T:
    started = time.perf_counter()
    out = fn()
    seconds[name] = round(time.perf_counter() - started, 1)
    return out


def prf(tp: int, predicted: int, actual: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


# -- the truth ------------------------------------------------------------------------------


class Truth:
    """Person, script and false-name flag of every truth record, as arrays by record."""

    def __init__(self, path: Path, ids: list[str]) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        known: dict[str, tuple[int, bool, bool]] = {}
        self.conflicts = 0
        for index, person in enumerate(data["people"]):
            for rec in person["records"]:
                if rec.get("schema") != "Person" or rec.get("entity_id") is None:
                    continue
                eid = str(rec["entity_id"])
                flags = (
                    index,
                    script_of(rec["written_as"]) != "latin",
                    bool(rec.get("false_name")),
                )
                if eid in known and known[eid][0] != index:
                    self.conflicts += 1
                known[eid] = flags
        self.index = {u: i for i, u in enumerate(ids) if u in known}
        self.ids = [u for u in ids if u in known]
        self.person = np.array([known[u][0] for u in self.ids], np.int64)
        self.flag = {
            "all": np.ones(len(self.ids), bool),
            "cross-script": np.array([known[u][1] for u in self.ids], bool),
            "false name": np.array([known[u][2] for u in self.ids], bool),
        }
        self.unknown = len(ids) - len(self.ids)

    def pairs_in_groups(self, groups: np.ndarray, subset: str) -> int:
        """Pairs of records sharing a group, at least one of them in ``subset``."""
        _, all_counts = np.unique(groups, return_counts=True)
        total = int((all_counts * (all_counts - 1) // 2).sum())
        if subset == "all":
            return total
        outside = groups[~self.flag[subset]]
        _, counts = np.unique(outside, return_counts=True)
        return total - int((counts * (counts - 1) // 2).sum())

    def score_pairs(self, left: list[str], right: list[str], prob: np.ndarray, at: float) -> dict:
        keep = [
            (self.index[a], self.index[b])
            for a, b, p in zip(left, right, prob.tolist(), strict=True)
            if p >= at and a in self.index and b in self.index
        ]
        li = np.array([a for a, _ in keep], np.int64)
        ri = np.array([b for _, b in keep], np.int64)
        same = self.person[li] == self.person[ri]
        out = {}
        for subset in SUBSETS:
            inside = self.flag[subset][li] | self.flag[subset][ri]
            actual = self.pairs_in_groups(self.person, subset)
            out[subset] = prf(int((same & inside).sum()), int(inside.sum()), actual)
        return out

    def score_clusters(self, found: dict[str, str]) -> dict:
        labels = {c: i for i, c in enumerate(sorted(set(found.values()) | set(self.ids)))}
        codes = np.array([labels[found.get(u, u)] for u in self.ids], np.int64)
        both = codes * (int(self.person.max()) + 1) + self.person
        out = {}
        for subset in SUBSETS:
            out[subset] = prf(
                self.pairs_in_groups(both, subset),
                self.pairs_in_groups(codes, subset),
                self.pairs_in_groups(self.person, subset),
            )
        return out


# -- the two runs ---------------------------------------------------------------------------


def recoupe_run(records: pa.Table, join_at: float, threads: int | None) -> tuple[Any, dict]:
    part = DEFAULT_SPEC.schema("Person")
    scored = link(records, part, keep_above=DEFAULT_SPEC.keep_above, threads=threads)
    p = scored.evidence()
    pairs = map(
        Pair,
        p.column("left_id").to_pylist(),
        p.column("right_id").to_pylist(),
        p.column("probability").to_pylist(),
    )
    found = cluster(pairs, join_at=join_at, apart_below=APART_BELOW).cluster
    return scored, found


def splink_run(
    raw: pa.Table, join_at: float, threads: int | None
) -> tuple[pa.Table, dict[str, str]]:
    """Plain Splink: a standard model on raw names, connected components at ``join_at``."""
    import splink.comparison_library as cl
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    con = duckdb.connect(":memory:", config={"threads": threads} if threads else {})
    con.register("__raw", raw)
    con.execute("CREATE TABLE raw_records AS SELECT * FROM __raw")
    settings = {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": [
            cl.NameComparison("raw_name"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ArrayIntersectAtSizes("phones", [1]),
            cl.ArrayIntersectAtSizes("emails", [1]),
            cl.ArrayIntersectAtSizes("ids", [1]),
        ],
        "blocking_rules_to_generate_predictions": [
            block_on("raw_name"),
            block_on("birth_date"),
            block_on("phones", arrays_to_explode=["phones"]),
            block_on("emails", arrays_to_explode=["emails"]),
            block_on("ids", arrays_to_explode=["ids"]),
        ],
    }
    api = DuckDBAPI(connection=con)
    linker = Linker(api.register("raw_records"), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("raw_name", "birth_date")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1_000_000, seed=42)
    for rule in (block_on("birth_date"), block_on("raw_name")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predicted = linker.inference.predict(threshold_match_probability=0.001)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predicted, threshold_match_probability=join_at
    )
    pairs = con.execute(
        f"SELECT unique_id_l AS left_id, unique_id_r AS right_id, "
        f"match_probability AS probability FROM {predicted.physical_name}"
    ).to_arrow_table()
    rows = con.execute(f"SELECT unique_id, cluster_id FROM {clusters.physical_name}").fetchall()
    con.close()
    return pairs, {str(u): str(c) for u, c in rows}


def raw_records(store: Any, records: pa.Table) -> pa.Table:
    """The product's records with the raw name (the first ``name`` statement, lower case)."""
    names = store.con.execute(
        "SELECT entity_id, min(lower(trim(value))) FROM statements "
        "WHERE schema = 'Person' AND prop = 'name' GROUP BY entity_id"
    ).fetchall()
    by_id = dict(names)
    raw = [by_id.get(u) for u in records.column("unique_id").to_pylist()]
    return records.select(["unique_id", "birth_date", "phones", "emails", "ids"]).append_column(
        "raw_name", pa.array(raw, pa.string())
    )


def run_scale(scale: int, join_at: float, threads: int | None) -> dict[str, Any]:
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="recoupe-scenario-") as tmp:
        workspace = Path(tmp) / "ws"
        settings = Settings(workspace=workspace)
        report = _timed(
            seconds, "generate + ingest", lambda: run_demo(settings, scale=scale, resolve=False)
        )
        store = open_store(workspace)
        try:
            part = DEFAULT_SPEC.schema("Person")
            records = _timed(seconds, "build records", lambda: build_records(store, part))
            raw = raw_records(store, records)
        finally:
            store.close()
        ids = records.column("unique_id").to_pylist()
        truth = Truth(report.scenario / "truth.json", ids)
        scored, found = _timed(
            seconds, "recoupe: link + cluster", lambda: recoupe_run(records, join_at, threads)
        )
        base_pairs, base_found = _timed(
            seconds, "splink: train + predict + cc", lambda: splink_run(raw, join_at, threads)
        )

    def figures(pairs: pa.Table, clusters: dict[str, str]) -> dict[str, Any]:
        prob = pairs.column("probability").to_numpy()
        left = pairs.column("left_id").to_pylist()
        right = pairs.column("right_id").to_pylist()
        return {
            "pairs": truth.score_pairs(left, right, prob, join_at),
            "clusters": truth.score_clusters(clusters),
        }

    flags = truth.flag
    return {
        "scale": scale,
        "records": records.num_rows,
        "truth_records": len(truth.ids),
        "not_in_truth": truth.unknown,
        "people": int(np.unique(truth.person).size),
        "cross_script_records": int(flags["cross-script"].sum()),
        "false_name_records": int(flags["false name"].sum()),
        "true_pairs": {s: truth.pairs_in_groups(truth.person, s) for s in SUBSETS},
        "recoupe_compared": scored.compared,
        "seconds": seconds,
        "recoupe": figures(scored.pairs, found),
        "splink": figures(base_pairs, base_found),
    }


def print_result(r: dict[str, Any], join_at: float) -> None:
    print(
        f"### scale {r['scale']:,}: {r['records']:,} person records ({r['not_in_truth']} not "
        f"in the truth), {r['people']:,} people; {r['cross_script_records']:,} records in "
        f"Arabic/Cyrillic script, {r['false_name_records']:,} under a false name"
    )
    print()
    print("| stage | wall s |")
    print("| --- | ---: |")
    for stage, s in r["seconds"].items():
        print(f"| {stage} | {s} |")
    print()
    print("| run | measure | subset | true pairs | precision | recall | F1 |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for run in ("recoupe", "splink"):
        for measure, label in (("pairs", f"pairs at {join_at}"), ("clusters", "clusters")):
            for subset in SUBSETS:
                m = r[run][measure][subset]
                print(
                    f"| {run} | {label} | {subset} | {r['true_pairs'][subset]:,} | "
                    f"{m['precision']} | {m['recall']} | {m['f1']} |"
                )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, nargs="+", default=[20_000], help="call records")
    parser.add_argument("--join-at", type=float, default=JOIN_AT)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default all)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda r: not r.name.startswith("splink") or r.levelno >= logging.ERROR)
    results = [run_scale(scale, args.join_at, args.threads) for scale in args.scale]
    for r in results:
        print_result(r, args.join_at)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
