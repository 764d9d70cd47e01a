"""Entity resolution on the demo scenario, through the command line and the API.

The same person seen by the phone operator, the bank and the border is three records;
after review they are one entity (search, entity, graph), the merge is explained, and
undoing it gives the three records back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from recoupe.api.app import create_app
from recoupe.cli import cli
from recoupe.config import Settings
from recoupe.errors import NotFound
from recoupe.services.demo import run_demo

SOURCES = ("telecom", "bank", "travel")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    workspace = tmp_path_factory.mktemp("resolve") / "ws"
    found = Settings(workspace=workspace, memory_limit="1GB", threads=2)
    run_demo(found, scale=1_000, resolve=False)  # the tests run it from the command line
    return found


@pytest.fixture(scope="module")
def truth(settings: Settings) -> dict[str, Any]:
    data = json.loads((settings.workspace / "scenario" / "truth.json").read_text())
    assert isinstance(data, dict)
    return data


def recoupe(settings: Settings, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--workspace", str(settings.workspace), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def scored(settings: Settings) -> list[dict[str, Any]]:
    reports = json.loads(recoupe(settings, "resolve", "run", "--json"))
    assert {r["schema"] for r in reports} >= {"Person"}
    person = next(r for r in reports if r["schema"] == "Person")
    assert person["mode"] == "full"
    assert person["trained"]
    assert person["records"] > 1_000
    pairs = json.loads(
        recoupe(
            settings, "resolve", "pairs", "--min-probability", "0.5", "--limit", "10000", "--json"
        )
    )
    assert isinstance(pairs, list)
    return pairs


@pytest.fixture(scope="module")
def api(settings: Settings, scored: list[dict[str, Any]]) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {app.state.operator_token}"
        yield client


def person_of(truth: dict[str, Any]) -> dict[str, str]:
    return {r["entity_id"]: p["person"] for p in truth["people"] for r in p["records"]}


def test_pairs_follow_the_contract_and_are_right(
    scored: list[dict[str, Any]], truth: dict[str, Any]
) -> None:
    assert scored
    assert {"left", "right", "probability"} <= set(scored[0])
    assert all(0.5 <= p["probability"] <= 1 for p in scored)
    who = person_of(truth)
    likely = [p for p in scored if p["probability"] >= 0.9]
    right = sum(who.get(p["left"]) == who.get(p["right"]) for p in likely)
    assert right / len(likely) >= 0.98
    true_pairs = {
        tuple(sorted(pair))
        for p in truth["people"]
        for pair in combinations([r["entity_id"] for r in p["records"]], 2)
    }
    found = {(p["left"], p["right"]) for p in scored}
    assert len(found & true_pairs) / len(true_pairs) >= 0.85
    weights = scored[0]["explanation"]
    assert {w["feature"] for w in weights} >= {"name", "birth_date"}


def test_later_runs_compare_only_what_changed(settings: Settings, scored: object) -> None:
    again = json.loads(recoupe(settings, "resolve", "run", "--json"))
    assert {r["mode"] for r in again} == {"unchanged"}
    travel = json.loads(recoupe(settings, "resolve", "run", "--dataset", "travel", "--json"))
    person = next(r for r in travel if r["schema"] == "Person")
    assert person["mode"] == "incremental"
    assert 0 < person["new_records"] < person["records"]
    pairs = json.loads(
        recoupe(
            settings, "resolve", "pairs", "--min-probability", "0.5", "--limit", "10000", "--json"
        )
    )
    assert abs(len(pairs) - len(scored)) <= len(scored) * 0.02


def test_a_run_over_the_api_is_a_job_with_progress(api: TestClient) -> None:
    import time

    answer = api.post("/api/resolve/runs", json={"datasets": [], "full": False})
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    for _ in range(600):
        job = api.get(location).json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert job["state"] == "done", job
    assert job["kind"] == "resolve"
    assert job["stage"] == "resolving"
    assert {r["schema"] for r in job["result"]["reports"]} >= {"Person"}
    bad = api.post("/api/resolve/runs", json={"full": "perhaps"})
    assert bad.status_code == 422
    assert "full" in bad.text


def three_sources(truth: dict[str, Any], scored: list[dict[str, Any]]) -> dict[str, str]:
    """A person whose phone, bank and travel records are all paired by the model."""
    paired = {(p["left"], p["right"]) for p in scored if p["probability"] >= 0.9}
    for person in truth["people"]:
        records = {r["dataset"]: r["entity_id"] for r in person["records"]}
        if not set(SOURCES) <= set(records) or person.get("cell"):
            continue
        ids = [records[s] for s in SOURCES]
        if all(tuple(sorted(pair)) in paired for pair in combinations(ids, 2)):
            return {s: records[s] for s in SOURCES}
    raise AssertionError("no person with phone, bank and travel records paired")


def test_review_merges_explains_and_undo_restores(
    api: TestClient, settings: Settings, truth: dict[str, Any], scored: list[dict[str, Any]]
) -> None:
    records = three_sources(truth, scored)
    phone, bank, travel = (records[s] for s in SOURCES)
    name = api.get(f"/api/entities/{phone}").json()["properties"]["name"][0]
    before = api.get("/api/search", params={"q": name}).json()["results"]
    assert {phone, bank, travel} <= {hit["id"] for hit in before}

    queue = api.get("/api/resolve/queue", params={"limit": 500}).json()
    assert queue and queue[0]["usefulness"] >= queue[-1]["usefulness"]
    assert queue[0]["left_entity"]["properties"]

    for left, right in ((phone, bank), (bank, travel)):
        judged = api.post(
            "/api/resolve/judgements",
            json={"left": left, "right": right, "verdict": "same", "reason": "same DOB, name"},
        )
        assert judged.status_code == 200, judged.text
    canonical = min(records.values())
    assert judged.json()["entity"] == canonical

    # one entity everywhere: entity view, search, graph, export
    entity = api.get(f"/api/entities/{travel}").json()
    assert entity["id"] == canonical
    assert sorted(entity["referents"]) == sorted(records.values())
    assert set(SOURCES) <= set(entity["datasets"])
    origins = {s["entity_id"]: s["dataset"] for s in entity["statements"]}
    assert origins == {v: k for k, v in records.items()}  # each value keeps its record
    after = api.get("/api/search", params={"q": name}).json()["results"]
    ids = [hit["id"] for hit in after]
    assert canonical in ids
    assert not ({phone, bank, travel} - {canonical}) & set(ids)
    merged_hit = next(hit for hit in after if hit["id"] == canonical)
    assert set(SOURCES) <= set(merged_hit["datasets"])
    around = api.get("/api/graph/expand", params={"id": canonical}).json()
    schemata = {n.get("schema") for n in around["nodes"]}
    assert {"Phone", "BankAccount"} <= schemata

    # explained: who, when, why, and the scores
    why = api.get(f"/api/resolve/entities/{bank}").json()
    assert why["merged"]
    assert {r["id"] for r in why["records"]} == set(records.values())
    assert all(r["sources"] for r in why["records"])
    assert [j["reason"] for j in why["judgements"]] == ["same DOB, name"] * 2
    assert all(j["author"] for j in why["judgements"])
    assert why["pairs"] and why["pairs"][0]["explanation"]

    # undo: the three records come back as they were
    undone = api.post(f"/api/resolve/entities/{canonical}/undo", params={"reason": "test"})
    assert undone.status_code == 200, undone.text
    assert len(undone.json()["undone"]) == 2
    for dataset, record in records.items():
        back = api.get(f"/api/entities/{record}").json()
        assert back["id"] == record
        assert back["datasets"] == [dataset]
        assert "referents" not in back
    again = api.get("/api/search", params={"q": name}).json()["results"]
    assert {phone, bank, travel} <= {hit["id"] for hit in again}
    history = api.get("/api/resolve/judgements", params={"entity_id": phone}).json()
    assert history and all(j["undone_at"] for j in history)


def test_a_different_verdict_keeps_records_apart(
    api: TestClient, truth: dict[str, Any], scored: list[dict[str, Any]]
) -> None:
    records = list(three_sources(truth, scored).values())
    a, b, c = records
    assert (
        api.post(
            "/api/resolve/judgements", json={"left": a, "right": b, "verdict": "different"}
        ).status_code
        == 200
    )
    assert (
        api.post(
            "/api/resolve/judgements", json={"left": b, "right": c, "verdict": "same"}
        ).status_code
        == 200
    )
    refused = api.post("/api/resolve/judgements", json={"left": a, "right": c, "verdict": "same"})
    assert refused.status_code == 400
    assert "different" in refused.json()["detail"]
    pending = {
        (q["left"], q["right"])
        for q in api.get("/api/resolve/queue", params={"limit": 500, "min_probability": 0}).json()
    }
    assert tuple(sorted((a, b))) not in pending
    for j in api.get("/api/resolve/judgements", params={"entity_id": b}).json():
        if j["undone_at"] is None:
            assert api.delete(f"/api/resolve/judgements/{j['judgement_id']}").status_code == 200


def test_bad_judgements_name_the_culprit(api: TestClient, scored: list[dict[str, Any]]) -> None:
    left = scored[0]["left"]
    missing = api.post(
        "/api/resolve/judgements", json={"left": left, "right": "nope", "verdict": "same"}
    )
    assert missing.status_code == 404
    assert "nope" in missing.json()["detail"]
    itself = api.post(
        "/api/resolve/judgements", json={"left": left, "right": left, "verdict": "same"}
    )
    assert itself.status_code == 400
    assert api.delete("/api/resolve/judgements/999999").status_code == 404


def test_the_spec_prints_and_reads_back(settings: Settings, tmp_path: Path) -> None:
    from recoupe.resolve.spec import DEFAULT_SPEC, load_spec

    text = recoupe(settings, "resolve", "spec")
    path = tmp_path / "resolve.yaml"
    path.write_text(text)
    assert load_spec(path) == DEFAULT_SPEC


def test_a_merged_entity_shows_a_reader_only_what_they_may_see(
    api: TestClient, truth: dict[str, Any], scored: list[dict[str, Any]]
) -> None:
    from recoupe.security.reader import Reader
    from recoupe.services import resolve

    records = three_sources(truth, scored)
    phone, bank, travel = (records[s] for s in SOURCES)
    for left, right in ((phone, bank), (bank, travel)):
        assert (
            api.post(
                "/api/resolve/judgements", json={"left": left, "right": right, "verdict": "same"}
            ).status_code
            == 200
        )
    session = api.app.state.runtime.session()  # type: ignore[attr-defined]
    try:
        # Diffusion Restreinte, no compartment: travel only, neither calls nor bank data
        viewer = Reader(
            "viewer", roles=frozenset({"viewer"}), clearance=1, compartments=frozenset()
        )
        entity = session.entity(viewer, phone)
        assert entity is not None
        assert entity.datasets == ["travel"]
        assert {s.entity_id for s in entity.statements} == {travel}
        seen = resolve.pairs(session, viewer, min_probability=0, limit=None)
        for pair in seen:
            for record in (pair["left"], pair["right"]):
                assert session.record(viewer, record) is not None
        assert all(phone not in (p["left"], p["right"]) for p in seen)
        queued = resolve.queue(session, viewer, limit=500, min_probability=0)
        assert all(q["left_entity"] and q["right_entity"] for q in queued)
        with pytest.raises(NotFound):
            resolve.judge(session, viewer, phone, travel, "different")
        why = resolve.explain(session, viewer, travel)
        assert [r["id"] for r in why["records"]] == [travel]
        assert why["judgements"] == []  # judgements on records they cannot see stay hidden
    finally:
        resolve.undo_entity(session, Reader.system(), phone)
        session.con.close()
    api.app.state.runtime.refresh()  # type: ignore[attr-defined]


def test_a_merge_updates_only_its_documents_in_the_index(
    api: TestClient, truth: dict[str, Any], scored: list[dict[str, Any]]
) -> None:
    from recoupe.search.query import SearchQuery
    from recoupe.security.reader import Reader
    from recoupe.services import resolve

    runtime = api.app.state.runtime  # type: ignore[attr-defined]
    operator = Reader.system()
    records = three_sources(truth, scored)
    phone, bank, travel = (records[s] for s in SOURCES)
    session = runtime.session()
    try:
        name = session.record(operator, phone).properties()["name"][0]

        def hits() -> list[tuple[str, list[str]]]:
            found = runtime.search.search(session, operator, SearchQuery(q=name, limit=50))
            return sorted((h.id, h.datasets) for h in found.results)

        resolve.judge(session, operator, phone, bank, "same")
        resolve.judge(session, operator, bank, travel, "same")
        report = runtime.search.refresh(session)
        assert not report.full
        assert 0 < report.documents <= 10
        updated = hits()
        assert min(records.values()) in [i for i, _ in updated]
        assert runtime.search.refresh(session, rebuild=True).full
        assert hits() == updated
        resolve.undo_entity(session, operator, phone)
        assert not runtime.search.refresh(session).full
        assert {phone, bank, travel} <= {i for i, _ in hits()}
    finally:
        session.con.close()
    runtime.refresh()


def test_exports_write_merged_entities(
    api: TestClient, truth: dict[str, Any], scored: list[dict[str, Any]], tmp_path: Path
) -> None:
    import csv

    from recoupe.security.reader import Reader
    from recoupe.services import resolve

    operator = Reader.system()
    records = three_sources(truth, scored)
    phone, bank, travel = (records[s] for s in SOURCES)
    canonical = min(records.values())
    session = api.app.state.runtime.session()  # type: ignore[attr-defined]
    try:
        resolve.judge(session, operator, phone, bank, "same")
        resolve.judge(session, operator, bank, travel, "same")
        session.export(operator, "ftm", tmp_path / "all.json")
        with (tmp_path / "all.json").open() as fh:
            entities = [json.loads(line) for line in fh]
        ids = [e["id"] for e in entities]
        merged = next(e for e in entities if e["id"] == canonical)
        assert sorted(merged["referents"]) == sorted(records.values())
        assert set(SOURCES) <= set(merged["datasets"])
        assert not (set(records.values()) - {canonical}) & set(ids)
        session.export(operator, "csv", tmp_path / "all.csv")
        with (tmp_path / "all.csv").open() as fh:
            rows = [r for r in csv.DictReader(fh) if r["entity_id"] in records.values()]
        assert {r["entity_id"] for r in rows} == set(records.values())
        assert {r["canonical_id"] for r in rows} == {canonical}
        session.export(operator, "gexf", tmp_path / "links.gexf")
        gexf = (tmp_path / "links.gexf").read_text()
        assert f'id="{canonical}"' in gexf
        assert not any(f'"{r}"' in gexf for r in set(records.values()) - {canonical})
    finally:
        resolve.undo_entity(session, operator, phone)
        session.con.close()


def test_automatic_merges_are_judgements_by_the_system(
    api: TestClient, truth: dict[str, Any], scored: list[dict[str, Any]]
) -> None:
    from dataclasses import replace

    from recoupe.resolve.spec import DEFAULT_SPEC
    from recoupe.security.reader import Reader
    from recoupe.services import resolve

    operator = Reader.system()
    records = three_sources(truth, scored)
    phone, bank, _ = (records[s] for s in SOURCES)
    session = api.app.state.runtime.session()  # type: ignore[attr-defined]
    try:
        resolve.judge(session, operator, phone, bank, "different", reason="two people")
        spec = replace(DEFAULT_SPEC, auto_merge_at=0.99)
        reports = resolve.run(session, spec, full=True)
        merged = sum(r.merged for r in reports)
        assert merged > 50
        history = resolve.judgements(session, operator, limit=None)
        system = [
            j for j in history if j["author"] == "system:auto-merge" and j["undone_at"] is None
        ]
        from collections import Counter

        assert len(system) == merged, Counter(j["reason"].split("(")[-1] for j in system)
        assert all("automatic merge threshold 0.99" in j["reason"] for j in system)
        assert session.members(phone)[0] != session.members(bank)[0]  # never across it
        who = person_of(truth)
        right = sum(who.get(j["left"]) == who.get(j["right"]) for j in system)
        assert right / len(system) >= 0.98
    finally:  # withdraw them all at once (one recluster, not one per judgement)
        session.con.execute(
            "UPDATE resolve_judgements SET undone_by = 'test', undone_at = now() "
            "WHERE undone_at IS NULL"
        )
        resolve.recluster(session)
        session.con.close()
    api.app.state.runtime.refresh()  # type: ignore[attr-defined]
