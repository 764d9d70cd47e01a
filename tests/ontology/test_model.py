"""The model check: FtM's schemata and ours load together and stay consistent."""

from __future__ import annotations

from pathlib import Path

import pytest
from followthemoney import model as ftm_model

from recoupe.errors import OntologyError
from recoupe.ontology import entity_id, load_model, model
from recoupe.ontology.describe import describe_schema, list_schemata, recoupe_schemata


def test_every_ftm_schema_is_unchanged() -> None:
    ours = model()
    for name, schema in ftm_model.schemata.items():
        mine = ours.get(name)
        assert mine is not None, name
        assert set(mine.properties) >= set(schema.properties), name
        assert mine.edge_source == schema.edge_source
        assert mine.edge_target == schema.edge_target


def test_recoupe_schemata_are_consistent() -> None:
    ours = model()
    names = recoupe_schemata()
    assert {"Phone", "CellTower", "PhoneCall", "Travel"} <= names
    for name in names:
        schema = ours.get(name)
        assert schema is not None
        for prop in schema.properties.values():
            assert prop.type is not None
            if prop.type.name == "entity" and prop.schema == schema:
                assert prop.range is not None, prop.qname
                assert prop.reverse is not None, prop.qname
                assert prop.reverse.range == schema or schema.is_a(prop.reverse.range)
        data = ours.to_dict()["schemata"][name]
        assert data["label"]
    call = ours.get("PhoneCall")
    assert call is not None and call.edge and call.is_a("Call")
    assert call.source_prop is not None and call.source_prop.range == ours.get("Phone")


def test_duplicate_schema_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("Person:\n  label: Again\n", encoding="utf-8")
    with pytest.raises(OntologyError, match=r"x\.yaml: schema 'Person' is already defined"):
        load_model([tmp_path])


def test_extra_schema_directory_extends_ftm(tmp_path: Path) -> None:
    (tmp_path / "vehicle.yaml").write_text(
        "Scooter:\n  extends: [Vehicle]\n  label: Scooter\n  properties:\n"
        "    plate:\n      label: Plate\n      type: identifier\n",
        encoding="utf-8",
    )
    extended = load_model([tmp_path])
    scooter = extended.get("Scooter")
    assert scooter is not None and scooter.is_a("Asset")
    assert scooter.get("plate") is not None


def test_broken_schema_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("Thing2: [1, 2\n", encoding="utf-8")
    with pytest.raises(OntologyError, match=r"bad\.yaml: invalid YAML"):
        load_model([tmp_path])


def test_entity_id_matches_followthemoney_mapping() -> None:
    mapping = {
        "queries": [
            {
                "csv_url": "unused.csv",
                "entities": {
                    "p": {
                        "schema": "Person",
                        "keys": ["b", "a"],
                        "key_literal": "lit",
                        "properties": {"name": {"column": "a"}},
                    }
                },
            }
        ]
    }
    query = ftm_model.make_mapping(mapping["queries"][0])
    record = {"a": " x ", "b": "y"}
    (ftm_entity,) = query.map(record).values()
    assert entity_id("lit", [" x ", "y"]) == ftm_entity.id
    assert entity_id("lit", ["", None]) is None


def test_describe_lists_and_shows_edge_roles() -> None:
    names = [s["name"] for s in list_schemata()]
    assert "Phone" in names and "Person" in names
    info = describe_schema("PhoneCall")
    roles = {p["name"]: p["edge_role"] for p in info["properties"]}
    assert roles["callerPhone"] == "edge source"
    assert roles["receiverPhone"] == "edge target"
    assert roles["callerCell"] == "link"
    with pytest.raises(OntologyError, match="no schema 'Persn'"):
        describe_schema("Persn")
