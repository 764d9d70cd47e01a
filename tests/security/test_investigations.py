"""Investigations: saved, reopened, shared; each reader sees only what they may, and the
marking follows the content. The audit log is for auditors."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from recoupe.config import Settings
from recoupe.services.workspace import open_workspace


def _some(marked: Settings, dataset: str, n: int) -> list[str]:
    with open_workspace(marked) as store:
        rows = store.con.execute(
            "SELECT DISTINCT s.entity_id FROM statements s JOIN sources so USING (source_id) "
            "WHERE so.dataset = ? AND s.schema = 'Person' ORDER BY 1 LIMIT ?",
            [dataset, n],
        ).fetchall()
    assert len(rows) == n
    return [r[0] for r in rows]


def _save(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/investigations", json=body)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_an_investigation_is_saved_reopened_and_shared_by_clearance(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    secret = _some(marked, "telecom", 2)  # S in this workspace
    public = _some(marked, "civil_registry", 2)  # NP
    nodes = [{"id": i, "x": n * 1.5, "y": -n} for n, i in enumerate([*secret, *public])]
    saved = _save(
        clients["alice"],
        {
            "title": "Cellule",
            "notes": "piste : appels croisés",
            "nodes": nodes,
            "shares": ["user:bob"],
        },
    )
    assert saved["marking"] == "S" and saved["owner"] == "alice"
    opened = clients["alice"].get(f"/api/investigations/{saved['id']}").json()
    assert {n["id"] for n in opened["nodes"]} == {*secret, *public}
    assert opened["withheld"] == 0 and opened["reader_marking"] == "S"
    first = next(n for n in opened["nodes"] if n["id"] == secret[0])
    assert (first["x"], first["y"]) == (0.0, 0)
    # Bob (cleared DR) is shared it: he sees it listed, and only the public part inside.
    listed = clients["bob"].get("/api/investigations").json()
    assert [i["id"] for i in listed] == [saved["id"]]
    seen = clients["bob"].get(f"/api/investigations/{saved['id']}").json()
    assert {n["id"] for n in seen["nodes"]} == set(public)
    assert seen["withheld"] == 2 and seen["reader_marking"] == "NP"
    assert "telecom" not in seen["datasets"]
    assert seen["notes"] == "piste : appels croisés"
    # A viewer does not write; an investigation not shared with him does not exist for him.
    assert (
        clients["bob"].put(f"/api/investigations/{saved['id']}", json={"title": "x"}).status_code
        == 403
    )
    private = _save(clients["alice"], {"title": "Privée", "nodes": [{"id": public[0]}]})
    assert clients["bob"].get(f"/api/investigations/{private['id']}").status_code == 404
    assert clients["anonymous"].get("/api/investigations").status_code == 401


def test_only_the_owner_changes_shares_or_deletes(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    public = _some(marked, "civil_registry", 1)
    mine = _save(
        clients["operator"],
        {"title": "Op", "nodes": [{"id": public[0]}], "shares": ["group:analyst"]},
    )
    alice = clients["alice"]  # an analyst: in the group
    assert any(i["id"] == mine["id"] for i in alice.get("/api/investigations").json())
    again = alice.put(
        f"/api/investigations/{mine['id']}",
        json={"title": "Op", "notes": "vu", "nodes": [{"id": public[0]}]},
    )
    assert again.status_code == 200 and again.json()["updated_by"] == "alice"
    widened = alice.put(
        f"/api/investigations/{mine['id']}",
        json={"title": "Op", "nodes": [], "shares": ["group:analyst", "user:bob"]},
    )
    assert widened.status_code == 403
    assert alice.delete(f"/api/investigations/{mine['id']}").status_code == 403
    assert clients["operator"].delete(f"/api/investigations/{mine['id']}").status_code == 204


def test_bad_investigations_are_refused_naming_the_field(
    clients: dict[str, TestClient],
) -> None:
    alice = clients["alice"]
    for body, culprit in [
        ({"nodes": []}, "title"),
        ({"title": "t", "nodes": [{"x": 1}]}, "nodes[0]"),
        ({"title": "t", "nodes": [], "shares": ["everyone"]}, "shares"),
        ({"title": "t", "nodes": [{"id": "a", "x": "left"}]}, "nodes[0].x"),
    ]:
        answer = alice.post("/api/investigations", json=body)
        assert answer.status_code == 400, answer.text
        assert culprit in answer.json()["detail"]


def test_the_audit_log_is_for_auditors(clients: dict[str, TestClient]) -> None:
    log = clients["operator"].get("/api/audit", params={"limit": 5}).json()
    assert log["intact"] and len(log["events"]) == 5
    seqs = [e["seq"] for e in log["events"]]
    assert seqs == sorted(seqs, reverse=True)
    assert clients["bob"].get("/api/audit").status_code == 403
    only = clients["operator"].get("/api/audit", params={"actor": "bob"}).json()
    assert only["events"] and {e["actor"] for e in only["events"]} == {"bob"}
