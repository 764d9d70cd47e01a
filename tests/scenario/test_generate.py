"""The scenario generator: files, determinism, ground truth, hidden patterns, mappings."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from followthemoney.types import registry

from recoupe.errors import ConfigError
from recoupe.ontology import entity_id, model
from recoupe.scenario import ScenarioSummary, generate
from recoupe.scenario.identifiers import iban_is_valid

SCALE = 1000
Report = tuple[str, int, int]  # (stage, done, total) as given to the progress callback

DATA_FILES = (
    "civil_registry/population.csv",
    "telecom/subscribers.csv",
    "telecom/cell_towers.csv",
    "telecom/calls.csv",
    "bank/accounts.csv",
    "bank/transfers.csv",
    "companies/companies.csv",
    "companies/directors.csv",
    "travel/travels.csv",
)
CP1252_FILES = ("companies/companies.csv", "companies/directors.csv")
#: how each file writes a person's name, from its columns
NAME_OF: dict[str, Any] = {
    "civil_registry/population.csv": lambda r: f"{r['first_name']} {r['last_name']}",
    "telecom/subscribers.csv": lambda r: r["holder_name"],
    "bank/accounts.csv": lambda r: r["holder_name"],
    "companies/directors.csv": lambda r: r["director_name"],
    "travel/travels.csv": lambda r: r["passenger_name"],
}


def read(root: Path, name: str) -> list[dict[str, str]]:
    cp1252 = name in CP1252_FILES
    with (root / name).open(encoding="cp1252" if cp1252 else "utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";" if cp1252 else ","))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScenarioSummary, list[Report]]:
    calls: list[Report] = []
    root = tmp_path_factory.mktemp("scenario")
    summary = generate(root, SCALE, seed=7, progress=lambda *args: calls.append(args))
    return summary, calls


@pytest.fixture(scope="module")
def root(scenario: tuple[ScenarioSummary, list[Report]]) -> Path:
    return scenario[0].out_dir


@pytest.fixture(scope="module")
def truth(root: Path) -> dict[str, Any]:
    with (root / "truth.json").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@pytest.fixture(scope="module")
def rows(root: Path) -> dict[str, list[dict[str, str]]]:
    return {name: read(root, name) for name in DATA_FILES}


def test_every_file_written_with_the_rows_announced(
    scenario: tuple[ScenarioSummary, list[Report]], rows: dict[str, list[dict[str, str]]]
) -> None:
    summary, _ = scenario
    assert {f.name for f in summary.files} == set(DATA_FILES)
    for written in summary.files:
        assert len(rows[written.name]) == written.rows, written.name
    assert len(rows["telecom/calls.csv"]) == SCALE == summary.calls
    assert summary.people == 300
    assert summary.transfers >= 400
    assert summary.travels >= 300
    assert 300 <= len(rows["telecom/cell_towers.csv"]) <= 3000
    assert sorted(p.parent.name for p in summary.mappings) == sorted(
        ["civil_registry", "telecom", "bank", "companies", "travel"]
    )
    assert summary.truth.is_file()


def test_progress_is_reported(scenario: tuple[ScenarioSummary, list[Report]]) -> None:
    _, calls = scenario
    assert ("calls", SCALE, SCALE) in calls
    assert {stage for stage, _, _ in calls} >= {"people", "calls", "bank", "truth"}
    assert all(0 <= done <= total for _, done, total in calls)


def test_same_seed_same_bytes_other_seed_other_calls(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", SCALE, seed=3)
    second = generate(tmp_path / "b", SCALE, seed=3)
    third = generate(tmp_path / "c", SCALE, seed=4)
    names = [f.name for f in first.files] + ["truth.json"]
    names += [str(p.relative_to(first.out_dir)) for p in first.mappings]
    for name in names:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name
    calls = "telecom/calls.csv"
    assert (first.out_dir / calls).read_bytes() != (third.out_dir / calls).read_bytes()


def test_bad_parameters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scale"):
        generate(tmp_path / "x", 999)
    with pytest.raises(ConfigError, match="seed"):
        generate(tmp_path / "x", SCALE, seed=-1)
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match="out_dir"):
        generate(a_file, SCALE)


def test_truth_records_match_the_files(
    truth: dict[str, Any], rows: dict[str, list[dict[str, str]]]
) -> None:
    assert truth["scale"] == SCALE
    assert truth["seed"] == 7
    bad = {(b["file"], b["row"]) for b in truth["bad_rows"]}
    index: dict[tuple[str, str, str], dict[str, str]] = {}
    for name, table in rows.items():
        for number, row in enumerate(table, start=1):
            if (name, number) in bad:
                continue
            for column, value in row.items():
                if column.endswith("_id") and value:
                    index.setdefault((name, column, value), row)
    seen_ids: set[str] = set()
    for person in truth["people"]:
        assert re.fullmatch(r"P\d{6}", person["person"])
        for record in person["records"]:
            ((column, value),) = record["keys"].items()
            row = index[(record["file"], column, value)]
            assert NAME_OF[record["file"]](row) == record["written_as"]
            assert record["entity_id"] == entity_id(record["key_literal"], [value])
            assert record["schema"] == "Person"
            assert record["dataset"] == record["file"].split("/")[0]
            assert record["entity_id"] not in seen_ids
            seen_ids.add(record["entity_id"])
    assert len(seen_ids) > 1000


def test_people_are_spelt_differently_across_sources(truth: dict[str, Any]) -> None:
    names = [r["written_as"] for p in truth["people"] for r in p["records"]]
    assert any(re.search("[\u0600-\u06ff]", n) for n in names), "no Arabic script"
    assert any(re.search("[\u0400-\u04ff]", n) for n in names), "no Cyrillic script"
    assert any(re.fullmatch(r"[A-Z' -]+/[A-Z' -]+", n) for n in names), "no passport style"
    varied = [p for p in truth["people"] if len({r["written_as"] for r in p["records"]}) > 1]
    assert len(varied) > len(truth["people"]) // 2
    linked = [p for p in truth["people"] if len({r["dataset"] for r in p["records"]}) >= 3]
    assert len(linked) > len(truth["people"]) // 2


def test_the_cell_leaves_its_patterns(
    truth: dict[str, Any], rows: dict[str, list[dict[str, str]]]
) -> None:
    cell = truth["cell"]
    members = set(cell["members"])
    assert 11 <= len(members) <= 13
    assert members == {p["person"] for p in truth["people"] if p["cell"]}
    # burners: prepaid, activated just before use, calling other burners
    burners = set(cell["burner_phones"])
    assert len(burners) >= len(members)
    lines = {r["msisdn"]: r for r in rows["telecom/subscribers.csv"] if r["msisdn"]}
    assert all(lines[b]["prepaid"] == "true" for b in burners)
    burner_calls = [c for c in rows["telecom/calls.csv"] if c["caller_msisdn"] in burners]
    assert len(burner_calls) >= 40
    to_burner = sum(c["callee_msisdn"] in burners for c in burner_calls)
    assert to_burner / len(burner_calls) > 0.7
    first_use: dict[str, str] = {}
    for c in burner_calls:
        first_use.setdefault(c["caller_msisdn"], c["start_time"][:10])
    for number, day in first_use.items():
        assert lines[number]["activated"] <= day
    # structured transfers: many just under 10,000 EUR, in a few weeks
    transfers = {t["transfer_id"]: t for t in rows["bank/transfers.csv"]}
    structured = [transfers[i] for i in cell["structured_transfers"]]
    assert len(structured) >= 30
    amounts = [float(t["amount"]) for t in structured]
    assert max(amounts) < 10_000
    assert sum(a >= 9000 for a in amounts) >= 12
    dates = sorted(t["date"] for t in structured)
    assert dates[0][:4] == dates[-1][:4] == "2024"
    # co-travel: same service, same departure, separate bookings
    travels = {t["booking_ref"]: t for t in rows["travel/travels.csv"]}
    groups = Counter(
        (travels[ref]["transport_number"], travels[ref]["departure_time"])
        for ref in cell["co_travel"]
    )
    assert len(cell["co_travel"]) == len(set(cell["co_travel"])) >= 9
    assert all(count >= 3 for count in groups.values())
    # co-location: several members' lines under the same site within the hour
    owner = {n: p["person"] for p in truth["people"] for n in p["phones"]}
    for meeting in cell["co_location"]:
        there = {
            owner[c["caller_msisdn"]]
            for c in rows["telecom/calls.csv"]
            if c["caller_cell_id"] in meeting["cell_ids"]
            and c["start_time"][:10] == meeting["date"]
        }
        assert len(there & members) >= 2
    assert cell["front_companies"]
    assert len(cell["shared_home"]) == 2


def test_bad_rows_are_recorded_and_really_bad(
    truth: dict[str, Any], rows: dict[str, list[dict[str, str]]]
) -> None:
    per_file = defaultdict(list)
    for bad in truth["bad_rows"]:
        per_file[bad["file"]].append(bad)
    assert set(per_file) == set(DATA_FILES) - {"telecom/calls.csv"}
    for name, bads in per_file.items():
        assert 2 <= len(bads) <= 5, name
        for bad in bads:
            row = rows[name][bad["row"] - 1]
            if bad["reason"].startswith("empty"):
                assert "" in row.values(), (name, bad)
            else:
                assert bad["reason"].startswith("invalid")
                assert any(re.search(r"-(13-45|02-30)|^N/A$", v) for v in row.values()), bad


def test_calls_are_clean_and_in_time_order(rows: dict[str, list[dict[str, str]]]) -> None:
    calls = rows["telecom/calls.csv"]
    numbers = {r["msisdn"] for r in rows["telecom/subscribers.csv"] if r["msisdn"]}
    starts = [c["start_time"] for c in calls]
    assert starts == sorted(starts)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", s) for s in starts)
    assert len({c["call_id"] for c in calls}) == len(calls)
    towers = {t["cell_id"] for t in rows["telecom/cell_towers.csv"]}
    for call in calls:
        assert all(call[k] for k in call), call
        assert call["caller_cell_id"] in towers
        assert call["callee_cell_id"] in towers
        assert re.fullmatch(r"33[67]\d{8}", call["caller_msisdn"])
    known = sum(c["caller_msisdn"] in numbers for c in calls)
    assert known / len(calls) > 0.8


def test_phone_numbers_parse_as_french_numbers(rows: dict[str, list[dict[str, str]]]) -> None:
    for row in rows["telecom/subscribers.csv"]:
        if row["msisdn"]:
            assert registry.phone.clean(row["msisdn"], format="fr") == f"+{row['msisdn']}"
    for row in rows["civil_registry/population.csv"]:
        if row["phone"]:
            assert registry.phone.clean(row["phone"], format="fr"), row["phone"]


def test_companies_are_cp1252_with_semicolons(root: Path) -> None:
    for name in CP1252_FILES:
        raw = (root / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        text = raw.decode("cp1252")
        assert text.splitlines()[0].count(";") >= 5
        assert "é" in text


def test_identifiers_carry_valid_check_digits(rows: dict[str, list[dict[str, str]]]) -> None:
    ibans = [r["iban"] for r in rows["bank/accounts.csv"] if r["iban"]]
    ibans += [r["to_iban"] for r in rows["bank/transfers.csv"]]
    assert len(ibans) > 500
    for iban in ibans:
        assert re.fullmatch(r"FR\d{25}", iban)
        assert int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1
        bank, branch, account, key = iban[4:9], iban[9:14], iban[14:25], iban[25:]
        assert (89 * int(bank) + 15 * int(branch) + 3 * int(account) + int(key)) % 97 == 0
        assert iban_is_valid(iban)
    assert not iban_is_valid("FR7630006000011234567890188")
    for row in rows["companies/companies.csv"]:
        if row["siren"]:
            digits = [int(d) for d in row["siren"]]
            total = sum(d if i % 2 == 0 else d * 2 // 10 + d * 2 % 10 for i, d in enumerate(digits))
            assert total % 10 == 0, row["siren"]


def _mapping_columns(spec: dict[str, Any]) -> list[str]:
    """Every column a property mapping reads."""
    columns: list[str] = [spec["column"]] if "column" in spec else []
    columns += spec.get("columns", [])
    columns += re.findall(r"{{(\w+)}}", spec.get("template", ""))
    return columns


def test_mappings_use_existing_schemata_properties_and_columns(root: Path) -> None:
    ontology = model()
    for path in sorted(root.glob("*/mapping.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert list(data) == [path.parent.name]
        dataset = data[path.parent.name]
        assert dataset["title"]
        assert dataset["queries"]
        for query in dataset["queries"]:
            source = query.get("source", {"path": query.get("csv_url")})
            header = read(root, f"{path.parent.name}/{source['path']}")[0].keys()
            for name, entity in query["entities"].items():
                schema = ontology.get(entity["schema"])
                assert schema is not None, (path, name)
                assert set(entity["keys"]) <= set(header), (path, name)
                for prop_name, spec in entity["properties"].items():
                    prop = schema.get(prop_name)
                    assert prop is not None, (path, name, prop_name)
                    assert not prop.stub, (path, name, prop_name)
                    assert set(_mapping_columns(spec)) <= set(header), (path, prop_name)
                    if "entity" in spec:
                        target = ontology.get(query["entities"][spec["entity"]]["schema"])
                        assert target is not None, (path, prop_name)
                        assert target.is_a(prop.range), (path, prop_name)
                if entity["schema"] == "Person" and "name" in entity["properties"]:
                    assert entity["properties"]["name"].get("required"), (path, name)


def test_followthemoney_runs_the_telecom_mapping(
    root: Path, truth: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load((root / "telecom" / "mapping.yml").read_text(encoding="utf-8"))
    monkeypatch.chdir(root / "telecom")  # csv_url is relative to the mapping file
    ontology = model()
    queries = data["telecom"]["queries"]
    calls = [e for e in ontology.map_entities(queries[2]) if e.schema.name == "PhoneCall"]
    assert len(calls) == SCALE
    assert all(c.get("callerPhone") and c.get("receiverCell") for c in calls)
    holders = {e.id for e in ontology.map_entities(queries[0]) if e.schema.name == "Person"}
    expected = {
        r["entity_id"] for p in truth["people"] for r in p["records"] if r["dataset"] == "telecom"
    }
    assert expected <= holders
