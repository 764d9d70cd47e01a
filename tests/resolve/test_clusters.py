"""Clusters from scored pairs and judgements: negative evidence stops chaining."""

from __future__ import annotations

import random

import pytest

from recoupe.errors import ConfigError
from recoupe.resolve.clusters import VERDICTS, Judgement, Pair, cluster, explain


def test_strong_pairs_join_and_weak_ones_do_not() -> None:
    found = cluster([Pair("a", "b", 0.99), Pair("b", "c", 0.95), Pair("c", "d", 0.5)])
    assert found.members() == {"a": ["a", "b", "c"]}
    assert found.cluster["d"] == "d"
    assert [(j.left, j.right, j.via) for j in found.joins] == [
        ("a", "b", "score"),
        ("b", "c", "score"),
    ]


def test_a_pair_scored_unlikely_stops_a_chain() -> None:
    """a~b and b~c are strong, but a and c were scored as clearly different."""
    pairs = [Pair("a", "b", 0.99), Pair("b", "c", 0.97), Pair("a", "c", 0.01)]
    found = cluster(pairs)
    assert found.cluster["a"] == found.cluster["b"] == "a"
    assert found.cluster["c"] == "c"  # the weaker link gives way


def test_judgements_override_scores() -> None:
    pairs = [Pair("a", "b", 0.99), Pair("c", "d", 0.2)]
    judged = [Judgement("a", "b", "different"), Judgement("c", "d", "same")]
    found = cluster(pairs, judged)
    assert found.members() == {"c": ["c", "d"]}
    assert found.joins[0].via == "judgement"
    # undoing is clustering again without the judgement
    assert cluster(pairs).members() == {"a": ["a", "b"]}


def test_the_latest_verdict_on_a_pair_wins() -> None:
    judged = [Judgement("a", "b", "same"), Judgement("b", "a", "unsure")]
    assert cluster([], judged).members() == {}
    assert cluster([], [*judged, Judgement("a", "b", "same")]).members() == {"a": ["a", "b"]}


def test_same_never_crosses_different() -> None:
    judged = [
        Judgement("a", "b", "same"),
        Judgement("c", "d", "same"),
        Judgement("a", "d", "different"),
        Judgement("b", "c", "same"),
    ]
    found = cluster([], judged)
    assert found.members() == {"a": ["a", "b"], "c": ["c", "d"]}
    assert [(c.left, c.right) for c in found.conflicts] == [("b", "c")]


def test_a_cluster_is_explained_link_by_link() -> None:
    found = cluster([Pair("x", "y", 0.93)], [Judgement("y", "z", "same")])
    links = explain(found, "z")
    assert {(j.left, j.right, j.via, j.probability) for j in links} == {
        ("y", "z", "judgement", None),
        ("x", "y", "score", 0.93),
    }
    assert explain(found, "nobody") == []


@pytest.mark.parametrize(
    ("join_at", "apart_below", "named"), [(0.0, 0.0, "join_at"), (0.5, 0.6, "apart_below")]
)
def test_bad_thresholds_are_named(join_at: float, apart_below: float, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        cluster([], join_at=join_at, apart_below=apart_below)


def test_bad_pairs_and_judgements_are_named() -> None:
    with pytest.raises(ConfigError, match=r"\(a, b\): probability 1.5"):
        cluster([Pair("a", "b", 1.5)])
    with pytest.raises(ConfigError, match="a record with itself"):
        cluster([Pair("a", "a", 0.9)])
    with pytest.raises(ConfigError, match="verdict 'maybe'"):
        cluster([], [Judgement("a", "b", "maybe")])  # type: ignore[arg-type]


def test_no_cluster_holds_two_records_kept_apart() -> None:
    """Random pairs and verdicts: the invariant holds whatever the order of evidence."""
    rng = random.Random(7)
    records = [f"r{i:03d}" for i in range(200)]
    for _ in range(20):
        pairs = []
        for _ in range(600):
            a, b = rng.sample(records, 2)
            pairs.append(Pair(a, b, rng.choice([rng.random(), 0.99, 0.01])))
        judged = []
        for _ in range(40):
            a, b = rng.sample(records, 2)
            judged.append(Judgement(a, b, rng.choice(VERDICTS[:2])))
        found = cluster(pairs, judged)
        latest: dict[tuple[str, ...], str] = {}
        for j in judged:
            latest[tuple(sorted((j.left, j.right)))] = j.verdict
        for p in pairs:
            key = tuple(sorted((p.left, p.right)))
            if latest.get(key) == "different" or (key not in latest and p.probability < 0.05):
                assert found.cluster[p.left] != found.cluster[p.right], p
        for (a, b), verdict in latest.items():
            if verdict == "different":
                assert found.cluster[a] != found.cluster[b]
            elif not any({c.left, c.right} == {a, b} for c in found.conflicts):
                assert found.cluster[a] == found.cluster[b]


def test_columns_cluster_like_pairs() -> None:
    import numpy as np

    from recoupe.resolve.clusters import cluster_columns

    pairs = [Pair("a", "b", 0.99), Pair("b", "c", 0.95), Pair("a", "c", 0.01), Pair("c", "d", 0.9)]
    by_pairs = cluster(pairs)
    by_columns = cluster_columns(
        [p.left for p in pairs], [p.right for p in pairs], np.array([p.probability for p in pairs])
    )
    assert by_columns == by_pairs
    assert by_pairs.cluster["c"] != by_pairs.cluster["a"]  # kept apart from a, joined to d
    with pytest.raises(ConfigError, match="different lengths"):
        cluster_columns(["a"], ["b", "c"], [0.5])
