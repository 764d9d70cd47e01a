"""Parsing mapping files: FtM's format plus our source block; errors name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from recoupe.errors import MappingError
from recoupe.mapping.spec import load_mapping
from recoupe.ontology import model
from tests.conftest import write


def load(tmp_path: Path, text: str, dataset: str | None = None):  # type: ignore[no-untyped-def]
    return load_mapping(write(tmp_path / "m.yml", text), model(), dataset=dataset)


def test_ftm_form_with_metadata(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        "fadettes:\n  title: Fadettes\n  owner: DGSI\n  marking: DR\n  queries:\n"
        "    - csv_url: calls.csv\n      entities:\n"
        "        call:\n          schema: PhoneCall\n          keys: [id]\n"
        "          properties:\n            callerPhone: {entity: line}\n"
        "        line:\n          schema: Phone\n          keys: [a]\n"
        "          properties: {number: a}\n",
    )
    assert spec.dataset.name == "fadettes"
    assert (spec.dataset.title, spec.dataset.owner, spec.dataset.marking) == (
        "Fadettes",
        "DGSI",
        "DR",
    )
    (query,) = spec.queries
    assert query.source.paths == (str(tmp_path / "calls.csv"),)
    assert [e.name for e in query.entities] == ["line", "call"]  # dependency order
    assert query.entities[0].properties[0].columns == ("a",)


def test_flat_form_needs_a_name(tmp_path: Path) -> None:
    text = "queries:\n  - csv_url: x.csv\n    entities:\n      p: {schema: Person, keys: [id]}\n"
    with pytest.raises(MappingError, match="no dataset name"):
        load(tmp_path, text)
    assert load(tmp_path, text, dataset="given").dataset.name == "given"


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        ("schema: Persn\n          keys: [id]", "entities.p.schema", "unknown schema 'Persn'"),
        ("schema: Thing\n          keys: [id]", "entities.p.schema", "is abstract"),
        ("schema: Person", "entities.p", "needs `keys:` or `id_column:`"),
        (
            "schema: Person\n          keys: [id]\n          properties: {age: {column: a}}",
            "entities.p.properties.age",
            "has no property 'age'",
        ),
        (
            "schema: Person\n          keys: [id]\n          properties: {name: {}}",
            "entities.p.properties.name",
            "no value",
        ),
        (
            "schema: Person\n          keys: [id]\n          properties: {addressEntity: "
            "{entity: ghost}}",
            "entities.p.properties.addressEntity.entity",
            "no entity named 'ghost'",
        ),
        (
            "schema: Person\n          keys: [id]\n          properties: {name: {colum: a}}",
            "entities.p.properties.name.colum",
            "unknown key",
        ),
        (
            "schema: Person\n          keys: [id]\n          properties: {name: {column: a, "
            "required: maybe}}",
            "entities.p.properties.name.required",
            "expected true or false",
        ),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, body: str, key: str, message: str) -> None:
    text = f"d:\n  queries:\n    - csv_url: x.csv\n      entities:\n        p:\n          {body}\n"
    with pytest.raises(MappingError) as info:
        load(tmp_path, text)
    assert info.value.file == str(tmp_path / "m.yml")
    assert info.value.key == f"d.queries[0].{key}"
    assert message in str(info.value)


def test_range_mismatch(tmp_path: Path) -> None:
    text = (
        "d:\n  queries:\n    - csv_url: x.csv\n      entities:\n"
        "        a: {schema: Address, keys: [id]}\n"
        "        p:\n          schema: Passport\n          keys: [id]\n"
        "          properties: {holder: {entity: a}}\n"
    )
    with pytest.raises(MappingError, match="holder must point to a LegalEntity"):
        load(tmp_path, text)


def test_cycle(tmp_path: Path) -> None:
    text = (
        "d:\n  queries:\n    - csv_url: x.csv\n      entities:\n"
        "        a:\n          schema: Company\n          keys: [id]\n"
        "          properties: {parent: {entity: b}}\n"
        "        b:\n          schema: Company\n          keys: [id2]\n"
        "          properties: {parent: {entity: a}}\n"
    )
    with pytest.raises(MappingError, match="circular entity references between: a, b"):
        load(tmp_path, text)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="invalid YAML"):
        load(tmp_path, "d: [\n")
    with pytest.raises(MappingError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yml", model())


def test_source_options_are_checked(tmp_path: Path) -> None:
    base = (
        "d:\n  queries:\n    - source: {src}\n      entities:\n"
        "        p: {{schema: Person, keys: [id]}}\n"
    )
    with pytest.raises(MappingError, match="unknown encoding 'klingon'"):
        load(tmp_path, base.format(src="{path: x.csv, encoding: klingon}"))
    with pytest.raises(MappingError, match="cannot guess the format"):
        load(tmp_path, base.format(src="x.dat"))
    with pytest.raises(MappingError, match="remote sources are not read"):
        load(tmp_path, base.format(src="https://example.org/x.csv"))
    spec = load(tmp_path, base.format(src="{path: x.txt, delimiter: ';', encoding: cp1252}"))
    source = spec.queries[0].source
    assert (source.format, source.delimiter, source.encoding) == ("csv", ";", "cp1252")
