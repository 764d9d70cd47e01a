"""The whole entity resolution run on 1,000,000 synthetic person records, with the truth.

People are drawn with real name frequencies (FAKER's US census weights for half of them,
French, German and Spanish names for the rest), so common names make strangers collide.
Each person has 1 to 5 records (about 420,000 people for 1M records) written with the
noise of real sources: a typing error in a name, the words in another order, the surname
in capitals, the given name cut to an initial, a title, the birth date missing, one digit
off or day and month swapped; phones, e-mail addresses, nationality and a passport number
are present only sometimes, and some phones are shared by two people of one household.

The run is Recoupe's pipeline as the store would call it: the name columns
(:func:`~recoupe.resolve.names.name_form` and :func:`~recoupe.resolve.names.name_keys`,
once per distinct name), :func:`recoupe.resolve.engine.link` with training, then
:func:`recoupe.resolve.clusters.cluster`. Wall time per stage, peak RSS (the process's
maximum resident set, generation included), pairwise precision/recall/F1 of the pairs at
``join_at``, and cluster precision/recall/F1 over the pairs of records put in one cluster.

    .venv/bin/python benchmarks/resolve_scale.py --records 1000000
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import random
import resource
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from recoupe.resolve.clusters import Pair, cluster
from recoupe.resolve.engine import link
from recoupe.resolve.names import name_form, name_keys
from recoupe.resolve.spec import spec_from_dict

T = TypeVar("T")

SPEC: dict[str, Any] = {
    "keep_above": 0.001,  # the default: pairs scored lower are kept as evidence apart
    "schemata": {
        "Person": {
            "comparisons": [
                {"feature": "name", "kind": "name", "term_frequency": True},
                {"feature": "birth_date", "kind": "date"},
                {"feature": "phones", "kind": "set"},
                {"feature": "emails", "kind": "set"},
                {"feature": "ids", "kind": "set"},
                {"feature": "country", "kind": "exact"},
            ],
            "blocking": [
                ["birth_date", "name_keys"],
                ["name"],
                ["phones"],
                ["emails"],
                ["ids"],
            ],
            "rules": [{"name": "same identifier", "feature": "ids"}],
            "training": {"em_blocking": [["birth_date", "country"], ["name"]]},
        }
    },
}
JOIN_AT = 0.5
"""Joins at "more likely than not" (an ``auto_merge_at`` of 0.5; the scenario and demo use
0.9). A sweep at 1M records (seed 7) gives cluster F1 0.9758 at 0.4, 0.9751 at 0.5 and
0.9729 at 0.6 (docs/benchmarks.md). The pairs scored below ``keep_above`` (the default
0.001) are kept apart as negative evidence (``Scored.apart``)."""
APART_BELOW = 0.05
COUNTRIES = ("us", "us", "us", "fr", "de", "es", "gb", "mx", "ca", "it")
TITLES = ("Mr", "Mrs", "Ms", "Dr")
NOISE = {"typo": 0.10, "initial": 0.03, "no_date": 0.06, "digit": 0.04, "day_month": 0.02}
"""Chances per record (the first record of a person keeps its birth date); ``--noise``
multiplies them. Capitals, word order and titles come on top: the name form undoes them."""


# -- the synthetic population ------------------------------------------------------------


def _name_pools() -> tuple[list[str], list[float], list[str], list[float]]:
    """Given names and surnames with weights: half US census weights, half uniform."""
    from faker.providers.person.de_DE import Provider as De
    from faker.providers.person.en_US import Provider as Us
    from faker.providers.person.es_ES import Provider as Es
    from faker.providers.person.fr_FR import Provider as Fr

    def pool(weighted: dict[str, float], others: list[str]) -> tuple[list[str], list[float]]:
        names = list(weighted)
        total = sum(weighted.values())
        weights = [0.5 * w / total for w in weighted.values()]
        rest = sorted(set(others) - set(names))
        names += rest
        weights += [0.5 / len(rest)] * len(rest)
        return names, weights

    us_given = {**Us.first_names_male, **Us.first_names_female}
    given_other = [n for p in (Fr, De, Es) for n in p.first_names]
    last_other = [n for p in (Fr, De, Es) for n in p.last_names]
    given, gw = pool(us_given, [n for n in given_other if " " not in n and "-" not in n])
    last, lw = pool(Us.last_names, [n for n in last_other if " " not in n])
    return given, gw, last, lw


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    kind = rng.random()
    if kind < 0.3:
        return word[:i] + word[i + 1 :]
    if kind < 0.55:
        return word[:i] + word[i] + word[i:]
    if kind < 0.8 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice("aeiourstnlm") + word[i + 1 :]


def _date_noise(dob: date, rng: random.Random, noise: dict[str, float]) -> str | None:
    r = rng.random()
    if r < noise["no_date"]:
        return None
    text = dob.isoformat()
    r -= noise["no_date"]
    if r < noise["digit"]:  # one digit of the year or the day off
        pos = rng.choice((3, 9))
        digit = str((int(text[pos]) + rng.choice((1, 9))) % 10)
        candidate = text[:pos] + digit + text[pos + 1 :]
        try:
            date.fromisoformat(candidate)
        except ValueError:
            return text
        return candidate
    r -= noise["digit"]
    if r < noise["day_month"] and dob.day <= 12 and dob.day != dob.month:
        return f"{dob.year:04d}-{dob.day:02d}-{dob.month:02d}"
    return text


def generate(
    records: int, seed: int, scale: float = 1.0
) -> tuple[dict[str, list[Any]], np.ndarray]:
    """Records as columns (full name as a source writes it, birth date, phones, e-mails,
    ids, country) and the true person of each record."""
    rng = random.Random(seed)
    noise = {k: v * scale for k, v in NOISE.items()}
    given, gw, last, lw = _name_pools()
    gw, lw = list(itertools.accumulate(gw)), list(itertools.accumulate(lw))
    start = date(1930, 1, 1)
    cols: dict[str, list[Any]] = {
        "unique_id": [],
        "full_name": [],
        "birth_date": [],
        "phones": [],
        "emails": [],
        "ids": [],
        "country": [],
    }
    truth: list[int] = []
    person = 0
    shared_phone: str | None = None
    while len(truth) < records:
        n = rng.choices((1, 2, 3, 4, 5), (30, 30, 20, 12, 8))[0]
        first = rng.choices(given, cum_weights=gw)[0]
        surname = rng.choices(last, cum_weights=lw)[0]
        if rng.random() < 0.08:  # a second surname, Spanish style
            surname = f"{surname} {rng.choices(last, cum_weights=lw)[0]}"
        dob = start + timedelta(days=rng.randrange(79 * 365))
        phones = [f"{rng.randrange(10**8, 10**9)}" for _ in range(rng.choice((1, 1, 2)))]
        if shared_phone is not None and rng.random() < 0.5:
            phones.append(shared_phone)  # a household phone, also another person's
            shared_phone = None
        elif rng.random() < 0.02:
            shared_phone = phones[0]
        email = f"{first}.{surname.replace(' ', '')}{rng.randrange(100)}@example.org".lower()
        passport = f"passport=P{rng.randrange(10**8):08d}"
        country = rng.choice(COUNTRIES)
        for k in range(min(n, records - len(truth))):
            g, s = first, surname
            if rng.random() < noise["typo"]:
                if rng.random() < 0.5:
                    g = _typo(g, rng)
                else:
                    s = _typo(s, rng)
            if rng.random() < noise["initial"]:
                g = g[0] + "."
            if rng.random() < 0.1:
                s = s.upper()
            full = f"{s} {g}" if rng.random() < 0.2 else f"{g} {s}"
            if rng.random() < 0.05:
                full = f"{rng.choice(TITLES)} {full}"
            cols["unique_id"].append(f"r{len(truth):08d}")
            cols["full_name"].append(full)
            cols["birth_date"].append(_date_noise(dob, rng, noise) if k else dob.isoformat())
            cols["phones"].append([p for p in phones if rng.random() < 0.4])
            cols["emails"].append([email] if rng.random() < 0.3 else [])
            cols["ids"].append([passport] if rng.random() < 0.1 else [])
            cols["country"].append(country if rng.random() < 0.5 else None)
            truth.append(person)
        person += 1
    return cols, np.array(truth)


# -- the pipeline -------------------------------------------------------------------------


def records_table(cols: dict[str, list[Any]]) -> pa.Table:
    """Recoupe's record columns: name_form and name_keys once per distinct written name."""
    distinct = {n: (name_form(n), name_keys(n)) for n in set(cols["full_name"])}
    listed = pa.list_(pa.string())
    return pa.table(
        {
            "unique_id": pa.array(cols["unique_id"], pa.string()),
            "source_dataset": pa.array(["synthetic"] * len(cols["unique_id"]), pa.string()),
            "name": pa.array([distinct[n][0] for n in cols["full_name"]], pa.string()),
            "name_keys": pa.array([distinct[n][1] for n in cols["full_name"]], listed),
            "birth_date": pa.array(cols["birth_date"], pa.string()),
            "phones": pa.array(cols["phones"], listed),
            "emails": pa.array(cols["emails"], listed),
            "ids": pa.array(cols["ids"], listed),
            "country": pa.array(cols["country"], pa.string()),
        }
    )


def splink_baseline(cols: dict[str, list[Any]], join_at: float, threads: int | None) -> Any:
    """Plain Splink 5 on the same records: the written name lower-cased (Splink's
    ``NameComparison``), ``DateOfBirthComparison``, phones, e-mails and ids by
    ``ArrayIntersectAtSizes``, country exact; blocking on the birth date and on the name;
    u by random sampling, EM on each blocking column; connected components at
    ``join_at``. Returns (scored pairs, cluster of each record, pairs compared)."""
    import duckdb
    import splink.comparison_library as cl
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    listed = pa.list_(pa.string())
    table = pa.table(
        {
            "unique_id": pa.array(cols["unique_id"], pa.string()),
            "name": pa.array([n.lower() for n in cols["full_name"]], pa.string()),
            "birth_date": pa.array(cols["birth_date"], pa.string()),
            "phones": pa.array(cols["phones"], listed),
            "emails": pa.array(cols["emails"], listed),
            "ids": pa.array(cols["ids"], listed),
            "country": pa.array(cols["country"], pa.string()),
        }
    )
    con = duckdb.connect(":memory:", config={"threads": threads} if threads else {})
    con.register("__t", table)
    con.execute("CREATE TABLE people AS SELECT * FROM __t")
    settings = {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": [
            cl.NameComparison("name"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ArrayIntersectAtSizes("phones", [1]),
            cl.ArrayIntersectAtSizes("emails", [1]),
            cl.ArrayIntersectAtSizes("ids", [1]),
            cl.ExactMatch("country"),
        ],
        "blocking_rules_to_generate_predictions": [
            block_on("birth_date"),
            block_on("name"),
        ],
    }
    linker = Linker(DuckDBAPI(connection=con).register("people"), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name", "birth_date")], recall=0.5
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1_000_000, seed=42)
    for rule in (block_on("birth_date"), block_on("name")):
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


def _timed(seconds: dict[str, float], name: str, fn: Callable[[], T]) -> T:
    started = time.perf_counter()
    out = fn()
    seconds[name] = round(time.perf_counter() - started, 1)
    return out


def _together(codes: np.ndarray) -> int:
    _, counts = np.unique(codes, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def prf(tp: int, predicted: int, actual: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--noise", type=float, default=1.0, help="multiplies NOISE's chances")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default all)")
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--join-at", type=float, default=JOIN_AT)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--sweep",
        nargs="*",
        default=[],
        metavar="JOIN_AT:APART_BELOW",
        help="more thresholds to score (not timed), e.g. 0.4:0.2",
    )
    parser.add_argument("--apart-below", type=float, default=APART_BELOW)
    parser.add_argument(
        "--method",
        choices=("recoupe", "splink"),
        default="recoupe",
        help="splink: the plain Splink baseline on the same records (run apart, so each "
        "run's peak RSS is its own)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:  # Splink's notes on untrained levels
        handler.addFilter(lambda r: not r.name.startswith("splink") or r.levelno >= logging.ERROR)
    seconds: dict[str, float] = {}
    cols, truth = _timed(seconds, "generate", lambda: generate(args.records, args.seed, args.noise))
    started = time.perf_counter()
    if args.method == "splink":
        pairs_table, found = _timed(
            seconds, "splink", lambda: splink_baseline(cols, args.join_at, args.threads)
        )
        compared = pairs_table.num_rows  # kept from 0.001; Splink does not count the rest

        def clustering(join_at: float, apart_below: float = 0.0) -> dict[str, str]:
            return found  # connected components, at --join-at only
    else:
        records = _timed(seconds, "name columns", lambda: records_table(cols))
        part = spec_from_dict(SPEC).schema("Person")
        scored = _timed(
            seconds,
            "link",
            lambda: link(
                records,
                part,
                keep_above=SPEC["keep_above"],
                threads=args.threads,
                memory_limit=args.memory_limit,
            ),
        )
        for stage, s in scored.seconds.items():
            seconds[f"  link: {stage}"] = s
        pairs_table, compared = scored.pairs, scored.compared

        def clustering(join_at: float, apart_below: float = args.apart_below) -> dict[str, str]:
            p = scored.evidence()
            pairs = map(
                Pair,
                p.column("left_id").to_pylist(),
                p.column("right_id").to_pylist(),
                p.column("probability").to_pylist(),
            )
            return cluster(pairs, join_at=join_at, apart_below=apart_below).cluster

        found = _timed(seconds, "cluster", lambda: clustering(args.join_at))
    seconds["pipeline"] = round(time.perf_counter() - started, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    index = {u: i for i, u in enumerate(cols["unique_id"])}
    left = np.array([index[u] for u in pairs_table.column("left_id").to_pylist()], np.int64)
    right = np.array([index[u] for u in pairs_table.column("right_id").to_pylist()], np.int64)
    prob = pairs_table.column("probability").to_numpy()
    actual = _together(truth)
    same = truth[left] == truth[right]

    def at(join_at: float) -> dict[str, float]:
        joined = prob >= join_at
        return prf(int(same[joined].sum()), int(joined.sum()), actual)

    def scores(found: dict[str, str]) -> dict[str, float]:
        codes = np.array([index[found.get(u, u)] for u in cols["unique_id"]], np.int64)
        both = _together(codes * (int(truth.max()) + 1) + truth)
        return prf(both, _together(codes), actual)

    rows = [(f"pairs at {args.join_at}", at(args.join_at)), ("clusters", scores(found))]
    if (
        args.join_at != 0.9 and args.method == "recoupe"
    ):  # a stricter threshold, for comparison (not timed)
        rows += [("pairs at 0.9", at(0.9)), ("clusters", scores(clustering(0.9)))]
    for combo in args.sweep if args.method == "recoupe" else ():
        join, apart = (float(x) for x in combo.split(":"))
        rows += [
            (f"pairs at {join} (sweep)", at(join)),
            (f"clusters, apart below {apart}", scores(clustering(join, apart))),
        ]
    pairwise, clusters = rows[0][1], rows[1][1]
    reachable = int(same.sum())
    result = {
        "records": args.records,
        "people": int(truth.max()) + 1,
        "true_pairs": actual,
        "method": args.method,
        "compared": compared,
        "kept_pairs": pairs_table.num_rows,
        "true_pairs_compared": reachable,
        "seconds": seconds,
        "peak_rss_mib": peak,
        "pairwise": pairwise,
        "cluster": clusters,
        "join_at": args.join_at,
        "apart_below": args.apart_below,
    }
    print(
        f"{args.records:,} records, {result['people']:,} people, {actual:,} true pairs; "
        f"{compared:,} pairs compared ({reachable:,} true, "
        f"{reachable / actual:.2%} of the true pairs), {pairs_table.num_rows:,} kept; "
        f"peak RSS {peak:,} MiB"
    )
    print()
    print("| stage | wall s |")
    print("| --- | ---: |")
    for stage, s in seconds.items():
        print(f"| {stage} | {s} |")
    print()
    print("| measure | precision | recall | F1 |")
    print("| --- | ---: | ---: | ---: |")
    for label, m in rows:
        print(f"| {label} | {m['precision']} | {m['recall']} | {m['f1']} |")
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
