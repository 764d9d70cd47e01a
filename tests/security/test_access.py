"""Two users with different clearances on the demo scenario, through the API.

The oracle: what a user sees must be exactly what the workspace operator sees when
restricted to the datasets that user is cleared for; nothing more (no leak), nothing less.
"""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from recoupe.config import Settings
from recoupe.security.audit import AuditLog
from tests.api.conftest import cell_members, telecom_person
from tests.security.conftest import VISIBLE, demo_truth


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
    assert everything == {
        "civil_registry",
        "companies",
        "travel",
        "telecom",
        "bank",
        "sante_hopitaux",
        "sante_cas",
        "territoires_fr",
    }  # not sante_tracage: alice lacks the SANTE compartment
    assert clients["bob"].get("/api/datasets/telecom").status_code == 404


def test_search_counts_and_facets_match_the_cleared_datasets(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    person = cell_members(demo_truth(marked))[0]
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
    _, telecom_id = telecom_person(cell_members(demo_truth(marked))[0])
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
    health = [r for r in all_rows if r["dataset"] == "sante_tracage"]  # the SANTE compartment
    assert health
    assert len(alice_rows) == len(all_rows) - len(health) > len(bob_rows)


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


def test_exports_and_compartments_are_checkpoints(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    alice, bob = clients["alice-unjustified"], clients["bob-unjustified"]
    # alice's whole scope holds bank data (DR//FININT): she must say why.
    refused = alice.get("/api/search", params={"q": "a"})
    assert refused.status_code == 428
    assert "FININT" in refused.json()["detail"]
    assert "X-Recoupe-Justification" in refused.json()["detail"]
    assert alice.get("/api/search", params={"q": "a", "dataset": "telecom"}).status_code == 200
    # bob holds no compartment: searching needs no reason, exporting does.
    assert bob.get("/api/search", params={"q": "a"}).status_code == 200
    assert bob.get("/api/export", params={"format": "csv"}).status_code == 428
    assert bob.get("/api/graph/export").status_code == 428
    done = clients["bob"].get("/api/export", params={"format": "csv"})
    assert done.status_code == 200
    log = AuditLog(marked.workspace / "audit.db")
    exports = [e for e in log.events() if e.action == "GET /api/export" and e.actor == "bob"]
    log.close()
    assert [e.status for e in exports[-2:]] == [428, 200]
    assert exports[-1].justification == "enquête n° 42"
