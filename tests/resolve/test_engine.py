"""The scoring engine on a handful of records: pairs kept for review, pairs scored apart
kept as evidence, names compared word by word or part by part."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from recoupe.errors import ConfigError
from recoupe.resolve.clusters import cluster_columns
from recoupe.resolve.engine import link
from recoupe.resolve.names import name_form, name_keys
from recoupe.resolve.spec import ResolveSpec, spec_from_dict, splink_settings

PEOPLE = [
    # id, given name, surname, birth date, passport
    ("a1", "Claire", "Gilbert", "1980-04-02", "P123456"),
    ("a2", "Claire", "Gilbert", "1980-04-02", None),
    ("a3", "Clare", "Gilbert", "1980-02-04", None),
    ("b1", "Jean", "Gilbert", "1975-11-30", None),
    ("b2", "Jean", "Gilbert", "1975-11-30", None),
    ("c1", "Fatima", "Zerrouki", "1990-01-15", "P999999"),
    ("c2", "Fatma", "Zerouki", "1990-01-15", "P999999"),
    ("d1", "Claire", "Martin", "1980-04-02", None),
]


def records() -> pa.Table:
    listed = pa.list_(pa.string())
    full = [f"{g} {s}" for _, g, s, _, _ in PEOPLE]
    n = len(PEOPLE)
    return pa.table(
        {
            "unique_id": [p[0] for p in PEOPLE],
            "source_dataset": ["d"] * n,
            "name": [name_form(x) for x in full],
            "name_keys": pa.array([name_keys(x) for x in full], listed),
            "given_name": [name_form(p[1]) for p in PEOPLE],
            "surname": [name_form(p[2]) for p in PEOPLE],
            "birth_date": [p[3] for p in PEOPLE],
            "phones": pa.array([[]] * n, listed),
            "emails": pa.array([[]] * n, listed),
            "ids": pa.array([[f"passportNumber={p[4]}"] if p[4] else [] for p in PEOPLE], listed),
            "country": [None] * n,
        }
    )


def spec(comparisons: list[dict[str, object]], keep_above: float = 0.5) -> ResolveSpec:
    return spec_from_dict(
        {
            "keep_above": keep_above,
            "schemata": {
                "Person": {
                    "comparisons": comparisons,
                    "blocking": [["birth_date"], ["name_keys"], ["ids"]],
                    "rules": [{"name": "same identifier", "feature": "ids"}],
                }
            },
        }
    )


PARTS = [
    {"feature": "given_name", "kind": "part"},
    {"feature": "surname", "kind": "part"},
    {"feature": "birth_date", "kind": "date"},
    {"feature": "ids", "kind": "set"},
]


def test_pairs_below_keep_above_are_kept_apart_as_evidence() -> None:
    part = spec([{"feature": "name", "kind": "name"}, {"feature": "birth_date", "kind": "date"}])
    scored = link(records(), part.schema("Person"), keep_above=0.5)
    kept = set(zip(*scored.pairs.select(["left_id", "right_id"]).to_pydict().values(), strict=True))
    apart = scored.apart.to_pydict()
    assert ("a1", "a2") in kept
    assert apart["left_id"], "some pairs score below 0.5"
    assert max(apart["probability"]) < 0.5
    assert not kept & set(zip(apart["left_id"], apart["right_id"], strict=True))
    assert scored.evidence().num_rows == scored.pairs.num_rows + scored.apart.num_rows
    # The pair Claire Gilbert / Claire Martin (same birth date) was scored and is apart:
    # clustering on every scored pair never joins them, even through the Gilberts.
    ev = scored.evidence()
    found = cluster_columns(
        ev.column("left_id").to_pylist(),
        ev.column("right_id").to_pylist(),
        ev.column("probability").to_numpy(),
        [],
        join_at=0.5,
        apart_below=0.05,
    ).cluster
    assert found.get("a1", "a1") == found.get("a2", "a2")
    assert found.get("d1", "d1") != found.get("a1", "a1")


def test_name_parts_are_compared_apart() -> None:
    part = spec(PARTS, keep_above=0.0).schema("Person")
    scored = link(records(), part, keep_above=0.0)
    rows = {(r["left_id"], r["right_id"]): r for r in scored.pairs.to_pylist()}
    assert rows[("a1", "a2")]["probability"] > rows[("a1", "d1")]["probability"]
    levels = {e["feature"]: e["level"] for e in json.loads(rows[("a1", "a3")]["explanation"])}
    assert levels["given_name"] == "nearly the same"
    assert levels["surname"] == "the same"
    assert rows[("c1", "c2")]["rule"] == "same identifier"


def test_name_parts_compile_and_refuse_lists() -> None:
    part = spec(PARTS).schema("Person")
    settings = splink_settings(part, "spark")
    given = settings["comparisons"][0]["comparison_levels"]
    assert [lv["label_for_charts"] for lv in given][1:-1] == [
        "the same",
        "nearly the same",
        "alike",
        "somewhat alike",
    ]
    assert "jaro_winkler(given_name_l, given_name_r) >= 0.92" in given[2]["sql_condition"]
    with pytest.raises(ConfigError, match=r"comparisons\[0\]\.kind: 'part' does not suit 'phones'"):
        spec([{"feature": "phones", "kind": "part"}])
