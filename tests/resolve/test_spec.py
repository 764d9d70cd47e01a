"""The resolution spec: plain data in, checked with errors that name the key; compiled to
Splink settings for DuckDB and Spark; names compared across scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recoupe.errors import ConfigError
from recoupe.resolve.names import name_form, name_keys
from recoupe.resolve.spec import DEFAULT_SPEC, load_spec, spec_from_dict, splink_settings


def test_the_default_spec_round_trips() -> None:
    assert spec_from_dict(DEFAULT_SPEC.to_dict()) == DEFAULT_SPEC
    assert DEFAULT_SPEC.auto_merge_at is None  # no merge without a person by default


@pytest.mark.parametrize(
    ("change", "culprit"),
    [
        ({"version": 9}, "key version"),
        ({"auto_merge_at": 0.3}, "key auto_merge_at"),
        ({"keep_above": 2}, "key keep_above"),
        (
            {
                "schemata": {
                    "Person": {
                        "comparisons": [{"feature": "nme", "kind": "name"}],
                        "blocking": [["name"]],
                    }
                }
            },
            "key schemata.Person.comparisons[0].feature: unknown feature 'nme'",
        ),
        (
            {
                "schemata": {
                    "Person": {
                        "comparisons": [{"feature": "phones", "kind": "date"}],
                        "blocking": [["name"]],
                    }
                }
            },
            "key schemata.Person.comparisons[0].kind",
        ),
        (
            {
                "schemata": {
                    "Person": {"comparisons": [{"feature": "name", "kind": "name"}], "blocking": []}
                }
            },
            "key schemata.Person.blocking",
        ),
        (
            {
                "schemata": {
                    "Person": {
                        "comparisons": [{"feature": "name", "kind": "name"}],
                        "blocking": [["name"]],
                        "colour": 1,
                    }
                }
            },
            "unknown key 'colour'",
        ),
    ],
)
def test_a_bad_spec_names_the_key(change: dict[str, Any], culprit: str) -> None:
    data = {**DEFAULT_SPEC.to_dict(), **change}
    with pytest.raises(ConfigError, match=culprit.replace("[", r"\[").replace("]", r"\]")):
        spec_from_dict(data)


def test_a_spec_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "resolve.yaml"
    path.write_text("version: 1\nschemata: []\n")
    with pytest.raises(ConfigError, match=r"resolve\.yaml: key schemata"):
        load_spec(path)


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_the_spec_compiles_for_each_engine(dialect: Any) -> None:
    settings = splink_settings(DEFAULT_SPEC.schema("Person"), dialect)
    assert settings["sql_dialect"] == dialect
    names = [c["output_column_name"] for c in settings["comparisons"]]
    assert names[:2] == ["name", "birth_date"]
    levels = settings["comparisons"][0]["comparison_levels"]
    assert levels[0]["is_null_level"]
    assert levels[-1]["sql_condition"] == "ELSE"
    assert all(0 < lv["m_probability"] < 1 for lv in levels[1:])
    sql = " ".join(lv["sql_condition"] for lv in levels)
    assert ("list_intersect" in sql) == (dialect == "duckdb")
    rules = settings["blocking_rules_to_generate_predictions"]
    assert {"blocking_rule": "l.phones = r.phones", "arrays_to_explode": ["phones"]} in rules


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("مهدي عبد القادر", "Mehdi ABDELKADER"),
        ("Онуфрий Федотов", "FEDOTOV/ONOUFRI"),
        ("ليلى زروقي", "Leila Zerrouki"),
        ("Mme GILBERT Claire", "Claire Gilbert"),
    ],
)
def test_names_meet_across_scripts_and_orders(a: str, b: str) -> None:
    assert len(set(name_keys(a)) & set(name_keys(b))) >= 2


def test_name_forms_drop_titles_and_sort_words() -> None:
    assert name_form("Mme GILBERT Claire") == name_form("Claire Gilbert") == "claire gilbert"
    assert name_form("   ") is None
    assert not set(name_keys("Jean Martin")) & set(name_keys("Fatima Zerrouki"))


def test_extra_columns_keep_the_schema_name_and_training_refuses_lists() -> None:
    body = {
        "extra": ["postcode", "tags"],
        "extra_lists": ["tags"],
        "comparisons": [{"feature": "name", "kind": "name"}, {"feature": "tags", "kind": "set"}],
        "blocking": [["postcode"], ["tags"]],
    }
    spec = spec_from_dict({"schemata": {"Person": body}})
    part = spec.schema("Person")
    assert part.extra == ("postcode", "tags")
    rules = splink_settings(part)["blocking_rules_to_generate_predictions"]
    assert {"blocking_rule": "l.tags = r.tags", "arrays_to_explode": ["tags"]} in rules
    with pytest.raises(ConfigError, match=r"em_blocking\[0\]: 'tags' holds lists"):
        spec_from_dict({"schemata": {"Person": {**body, "training": {"em_blocking": [["tags"]]}}}})
