"""Two users with different clearances on the demo scenario, through the API.

The oracle: what a user sees must be exactly what the workspace operator sees when
restricted to the datasets that user is cleared for; nothing more (no leak), nothing less.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoupe.api.app import create_app
from recoupe.config import Settings
from recoupe.security.identity import Identities
from recoupe.services.demo import run_demo
from recoupe.services.workspace import open_workspace
from tests.api.conftest import cell_members, telecom_person

VISIBLE = {"bob": {"civil_registry", "companies", "travel"}}


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(
        workspace=tmp_path_factory.mktemp("marked") / "ws", memory_limit="1GB", threads=2
    )
    run_demo(settings, scale=5_000)
    with open_workspace(settings) as store:
        store.set_marking("telecom", "S")
        store.set_marking("bank", "DR//FININT")
        store.set_marking("travel", "DR")
    return settings


@pytest.fixture(scope="module")
def clients(marked: Settings) -> Iterator[dict[str, TestClient]]:
    ids = Identities(marked.workspace / "security.db", marked.scale)
    ids.add_user("alice", roles=["analyst"], clearance="TS", compartments=["FININT"])
    ids.add_user("bob", roles=["viewer"], clearance="Diffusion Restreinte")
    tokens = {login: ids.issue_token(login) for login in ("alice", "bob")}
    ids.close()
    app = create_app(marked)
    with TestClient(app, raise_server_exceptions=False) as base:
        made: dict[str, TestClient] = {}
        for login, token in [*tokens.items(), ("operator", app.state.operator_token)]:
            client = TestClient(app, raise_server_exceptions=False)
            client.headers["Authorization"] = f"Bearer {token}"
            made[login] = client
        made["anonymous"] = base
        yield made


def _truth(marked: Settings) -> dict[str, Any]:
    import json

    data = json.loads((marked.workspace / "scenario" / "truth.json").read_text())
    assert isinstance(data, dict)
    return data


def test_every_data_endpoint_needs_a_token(clients: dict[str, TestClient]) -> None:
    anonymous = clients["anonymous"]
    for path in ("/api/datasets", "/api/search?q=a", "/api/entities/x", "/api/export"):
        answer = anonymous.get(path)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"].startswith("Bearer")
    wrong = anonymous.get("/api/datasets", headers={"Authorization": "Bearer rcp_00_nope"})
    assert wrong.status_code == 401


def test_datasets_listed_are_the_cleared_ones(clients: dict[str, TestClient]) -> None:
    names = {d["name"] for d in clients["bob"].get("/api/datasets").json()}
    assert names == VISIBLE["bob"]
    everything = {d["name"] for d in clients["alice"].get("/api/datasets").json()}
    assert everything == {"civil_registry", "companies", "travel", "telecom", "bank"}
    assert clients["bob"].get("/api/datasets/telecom").status_code == 404


def test_search_counts_and_facets_match_the_cleared_datasets(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    person = cell_members(_truth(marked))[0]
    name, _ = telecom_person(person)
    for q in (name, name.split()[-1], ""):
        bob = clients["bob"].get("/api/search", params={"q": q, "limit": 50}).json()
        oracle = (
            clients["operator"]
            .get("/api/search", params={"q": q, "limit": 50, "dataset": sorted(VISIBLE["bob"])})
            .json()
        )
        assert bob["total"] == oracle["total"], q
        assert [h["id"] for h in bob["results"]] == [h["id"] for h in oracle["results"]]
        assert bob["facets"] == oracle["facets"], q
        for hit in bob["results"]:
            assert set(hit["datasets"]) <= VISIBLE["bob"]
        alice = clients["alice"].get("/api/search", params={"q": q, "limit": 50}).json()
        assert alice["total"] >= bob["total"]
    facet_values = {f["value"] for f in bob["facets"].get("datasets", [])}
    assert facet_values <= VISIBLE["bob"]
    hidden = clients["bob"].get("/api/search", params={"q": name, "dataset": "telecom"})
    assert hidden.status_code == 404


def test_entity_expand_and_export_differ_by_clearance(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    _, telecom_id = telecom_person(cell_members(_truth(marked))[0])
    assert clients["alice"].get(f"/api/entities/{telecom_id}").status_code == 200
    hidden = clients["bob"].get(f"/api/entities/{telecom_id}")
    missing = clients["bob"].get("/api/entities/no-such-entity")
    assert hidden.status_code == missing.status_code == 404
    assert "telecom" not in hidden.text
    assert clients["bob"].get("/api/graph/expand", params={"id": telecom_id}).status_code == 404
    around = clients["alice"].get("/api/graph/expand", params={"id": telecom_id, "depth": 2})
    assert around.status_code == 200
    assert any(n.get("schema") == "Phone" for n in around.json()["nodes"])
    bob_rows = _csv(clients["bob"].get("/api/export", params={"format": "csv"}).text)
    all_rows = _csv(clients["operator"].get("/api/export", params={"format": "csv"}).text)
    assert {r["dataset"] for r in bob_rows} == VISIBLE["bob"]
    expected = [r for r in all_rows if r["dataset"] in VISIBLE["bob"]]
    assert sorted(map(_key, bob_rows)) == sorted(map(_key, expected))
    alice_rows = _csv(clients["alice"].get("/api/export", params={"format": "csv"}).text)
    assert len(alice_rows) == len(all_rows) > len(bob_rows)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _key(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(sorted(row.items()))  # type: ignore[arg-type]


def test_accesses_are_audited(clients: dict[str, TestClient], marked: Settings) -> None:
    clients["bob"].get("/api/search", params={"q": "audit probe"})
    from recoupe.security.audit import AuditLog

    log = AuditLog(marked.workspace / "audit.db")
    try:
        events = log.events()
        assert log.verify().ok
    finally:
        log.close()
    mine = [e for e in events if e.actor == "bob" and e.action == "GET /api/search"]
    assert mine
    assert "audit+probe" in (mine[-1].query or "") or "audit probe" in (mine[-1].query or "")
    assert mine[-1].status == 200
