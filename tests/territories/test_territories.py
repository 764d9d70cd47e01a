"""The built-in French départements and régions: lookups, outlines, which is where, and
loading them into a store so other datasets' records link to them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from recoupe import territories
from recoupe.cli import cli
from recoupe.errors import ConfigError, NotFound
from recoupe.security.reader import Reader
from recoupe.store.duckdb import DuckDBStore


def test_every_departement_belongs_to_a_region_that_exists() -> None:
    departements, regions = territories.departements(), territories.regions()
    assert len(departements) == 101
    assert len(regions) == 18
    codes = {r.code for r in regions}
    assert all(d.region in codes for d in departements)
    assert sum(len(territories.members(r.code)) for r in regions) == 101
    assert [d.code for d in territories.members("44")] == [
        "08",
        "10",
        "51",
        "52",
        "54",
        "55",
        "57",
        "67",
        "68",
        "88",
    ]
    total = sum(d.population for d in departements)
    assert 64_000_000 < total < 70_000_000
    assert total == sum(r.population for r in regions)


@pytest.mark.parametrize(
    ("text", "level", "code"),
    [
        ("67", None, "67"),
        ("Bas-Rhin", None, "67"),
        ("bas rhin", None, "67"),
        ("département 2A", None, "2A"),
        ("CORSE-DU-SUD", None, "2A"),
        ("Grand Est", None, "44"),
        ("région 44", None, "44"),
        ("ile de france", None, "11"),
        ("11", "departement", "11"),
        ("La Réunion", "departement", "974"),
    ],
)
def test_find_reads_codes_and_names_accents_and_case_aside(
    text: str, level: str | None, code: str
) -> None:
    assert territories.find(text, level=level).code == code


def test_a_code_of_two_levels_is_refused_naming_both() -> None:
    with pytest.raises(ConfigError, match=r"région Île-de-France \(11\) or the département Aude"):
        territories.find("11")
    with pytest.raises(NotFound, match="'Atlantis'"):
        territories.find("Atlantis")
    with pytest.raises(ConfigError, match="level 'canton'"):
        territories.find("67", level="canton")


def test_each_departement_point_inside_lies_in_its_own_outline() -> None:
    for d in territories.departements():
        found = territories.locate(d.latitude, d.longitude)
        assert found is not None and found.code == d.code, d.label


def test_cities_lie_in_their_departements() -> None:
    cities = {
        "Strasbourg": (48.5734, 7.7521, "67"),
        "Mulhouse": (47.7508, 7.3359, "68"),
        "Paris": (48.8566, 2.3522, "75"),
        "Ajaccio": (41.9192, 8.7386, "2A"),
        "Saint-Denis (La Réunion)": (-20.8789, 55.4481, "974"),
    }
    for city, (lat, lon, code) in cities.items():
        found = territories.locate(lat, lon)
        assert found is not None and found.code == code, city
    assert territories.locate(50.0, -3.0) is None  # the Channel
    with pytest.raises(ConfigError, match="not a latitude"):
        territories.locate(95.0, 2.0)


def test_outlines_are_geojson_of_both_levels() -> None:
    both = territories.outlines()
    assert len(both["features"]) == 119
    regions = territories.outlines("region")["features"]
    assert {f["properties"]["code"] for f in regions} == {r.code for r in territories.regions()}
    for feature in both["features"]:
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")


def run(workspace: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_load_makes_entities_other_records_link_to(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    run(ws, "init")
    first = json.loads(run(ws, "territories", "load", "--json"))
    assert first["entities"] == 119 and first["rows_rejected"] == 0
    again = json.loads(run(ws, "territories", "load", "--json"))
    assert again["statements_new"] == 0
    # A dataset ties its rows to a département by the built-in key literal and the code.
    (ws / "h.csv").write_text("id,name,dep\nH1,Hôpital civil,67\n", encoding="utf-8")
    (ws / "h.yml").write_text(
        "hopitaux:\n  queries:\n    - csv_url: h.csv\n      entities:\n"
        "        dep: {schema: FrenchTerritory, keys: [dep], key_literal: fr-departement,"
        " properties: {inseeCode: {column: dep}}}\n"
        "        h: {schema: Hospital, keys: [id], properties: {name: {column: name},"
        " territory: {entity: dep}}}\n",
        encoding="utf-8",
    )
    run(ws, "ingest", str(ws / "h.yml"))
    bas_rhin = territories.get("67", "departement")
    with DuckDBStore(ws, read_only=True) as store:
        links = store.con.execute(
            "SELECT DISTINCT schema, prop, value FROM statements WHERE prop IN "
            "('territory', 'partOf') AND entity_id IN (SELECT entity_id FROM statements "
            "WHERE prop = 'name' AND value IN ('Hôpital civil', 'Bas-Rhin'))"
        ).fetchall()
        assert set(links) == {
            ("Hospital", "territory", bas_rhin.entity_id),
            ("FrenchTerritory", "partOf", territories.get("44", "region").entity_id),
        }
        assert store.counts(Reader.system())["entities"] == 120


def test_the_commands_show_locate_and_export(tmp_path: Path) -> None:
    shown = json.loads(run(tmp_path, "territories", "show", "Haut-Rhin", "--json"))
    assert shown["code"] == "68" and shown["region_name"] == "Grand Est"
    where = json.loads(run(tmp_path, "territories", "locate", "48.58", "7.75", "--json"))
    assert where["departement"]["code"] == "67" and where["region"]["code"] == "44"
    listed = json.loads(run(tmp_path, "territories", "list", "--region", "Grand Est", "--json"))
    assert len(listed) == 10
    out = tmp_path / "fr.geojson"
    run(tmp_path, "territories", "outlines", "--level", "departement", "--out", str(out))
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == 101
    refused = CliRunner().invoke(cli, ["territories", "show", "11"])
    assert isinstance(refused.exception, ConfigError)
    assert "say which level" in str(refused.exception)
