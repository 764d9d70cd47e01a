"""Attacks on need-to-know, each one tried for real against the demo scenario.

bob (DR, no compartment) attacks what only alice (TS + FININT) may see: the Secret call
records (telecom) and the bank data (DR//FININT). docs/security.md lists each attack with
what stops it; session attacks (CSRF, fixation, brute force) are in test_sessions.py.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoupe.api.app import create_app
from recoupe.config import Settings
from recoupe.security.identity import Identities
from recoupe.security.secret import ensure_secret
from recoupe.services.workspace import open_workspace
from tests.api.conftest import cell_members, telecom_person
from tests.security.conftest import VISIBLE, demo_truth

BOB = VISIBLE["bob"]


def hidden_ids(clients: dict[str, TestClient], truth: dict[str, Any]) -> list[str]:
    """Telecom subscriber records of the cell: alice sees them, bob must not."""
    found = [telecom_person(p)[1] for p in cell_members(truth)]
    for entity_id in found:
        assert clients["alice"].get(f"/api/entities/{entity_id}").status_code == 200
    return found


def no_server_error(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    assert "Traceback" not in answer.text


def test_guessing_entity_ids_tells_nothing(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    bob = clients["bob"]
    for entity_id in [*hidden_ids(clients, demo_truth(marked)), "made-up-id", "0" * 40]:
        answer = bob.get(f"/api/entities/{entity_id}")
        assert answer.status_code == 404
        body = answer.json()
        assert body["detail"] == f"no entity {entity_id!r}"  # the same words for both cases
        for path in ("timeline", "near"):
            assert bob.get(f"/api/entities/{entity_id}/{path}").status_code == 404


def test_search_counts_and_facets_betray_no_hidden_value(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    """A value only the hidden datasets hold (a subscriber's phone number) finds nothing."""
    bob, alice = clients["bob"], clients["alice"]
    for entity_id in hidden_ids(clients, demo_truth(marked))[:3]:
        record = alice.get(f"/api/entities/{entity_id}").json()
        phones = [s["value"] for s in record["statements"] if s["prop"] == "phone"]
        for phone in phones[:1]:
            seen = alice.get("/api/search", params={"q": phone, "fuzzy": False}).json()
            ours = bob.get("/api/search", params={"q": phone, "fuzzy": False}).json()
            oracle = (
                clients["operator"]
                .get("/api/search", params={"q": phone, "fuzzy": False, "dataset": sorted(BOB)})
                .json()
            )
            assert seen["total"] >= 1
            assert ours["total"] == oracle["total"]
            assert ours["facets"] == oracle["facets"]
            assert entity_id not in {h["id"] for h in ours["results"]}
            assert "telecom" not in str(ours["facets"])


@pytest.mark.parametrize(
    "q",
    [
        "datasets:telecom",
        "dataset:telecom",
        "telecom",
        "* OR datasets:telecom",
        "id:*",
        '"unbalanced',
        ")))(((",
        "\\",
        "name:/.*/",
        "*",
        "' OR '1'='1",
        "caption:* AND NOT datasets:civil_registry",
    ],
)
def test_query_syntax_cannot_widen_the_scope(clients: dict[str, TestClient], q: str) -> None:
    answer = clients["bob"].get("/api/search", params={"q": q, "limit": 100})
    no_server_error(answer)
    if answer.status_code != 200:
        assert answer.status_code in (400, 422)
        return
    ours = answer.json()
    oracle = (
        clients["operator"]
        .get("/api/search", params={"q": q, "limit": 100, "dataset": sorted(BOB)})
        .json()
    )
    assert ours["total"] == oracle["total"]
    assert ours["facets"] == oracle["facets"]
    for hit in ours["results"]:
        assert set(hit["datasets"]) <= BOB


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/search", {"q": "a", "dataset": "telecom' OR '1'='1"}),
        ("/api/search", {"q": "a", "schema": "Person' OR 1=1 --"}),
        ("/api/runs", {"dataset": "x' OR 1=1 --"}),
        ("/api/export", {"format": "csv", "dataset": "civil_registry' OR 'a'='a"}),
        ("/api/export", {"format": "csv; DROP TABLE statements"}),
        ("/api/graph/expand", {"id": "x' OR '1'='1"}),
        ("/api/graph/expand", {"id": "x", "dataset": 'telecom" OR 1=1'}),
        ("/api/entities/x'%20OR%20'1'='1", {}),
        ("/api/places/bbox", {"west": "0 OR 1=1", "south": 0, "east": 1, "north": 1}),
    ],
)
def test_filter_parameters_are_never_sql(
    clients: dict[str, TestClient], path: str, params: dict[str, Any]
) -> None:
    answer = clients["bob"].get(path, params=params)
    no_server_error(answer)
    assert answer.status_code in (400, 404, 422), answer.text
    assert clients["operator"].get("/api/datasets").status_code == 200  # nothing dropped


def test_no_path_runs_through_hidden_data(clients: dict[str, TestClient], marked: Settings) -> None:
    """Between two people bob may see, alice's path uses the call records; bob's may not."""
    truth = demo_truth(marked)
    ends = [r["entity_id"] for p in cell_members(truth) for r in p["records"]]
    ends = [e for e in ends if clients["bob"].get(f"/api/entities/{e}").status_code == 200]
    assert len(ends) >= 2
    through_hidden = 0
    for a, b in itertools.pairwise(ends):
        seen = clients["alice"].get("/api/graph/paths", params={"source": a, "target": b, "k": 3})
        ours = clients["bob"].get("/api/graph/paths", params={"source": a, "target": b, "k": 3})
        no_server_error(ours)
        if seen.status_code == 200:
            datasets = {d for p in seen.json()["paths"] for e in p["edges"] for d in _sets(e)}
            through_hidden += bool(datasets - BOB)
        if ours.status_code != 200:
            continue
        for path in ours.json()["paths"]:
            for edge in path["edges"]:
                assert set(_sets(edge)) <= BOB, edge
        for node in ours.json()["nodes"]:
            if ":" not in node["id"]:  # an entity, not a shared value such as phone:+33...
                assert clients["bob"].get(f"/api/entities/{node['id']}").status_code == 200
    assert through_hidden, "the scenario should link the cell through its call records"


def _sets(record: dict[str, Any]) -> list[str]:
    value = record.get("datasets", record.get("dataset"))
    return [value] if isinstance(value, str) else list(value or [])


def test_exports_carry_nothing_hidden(clients: dict[str, TestClient], marked: Settings) -> None:
    bob = clients["bob"]
    assert bob.get("/api/export", params={"format": "csv", "dataset": "telecom"}).status_code == 404
    hidden = hidden_ids(clients, demo_truth(marked))
    for fmt in ("gexf", "graphml", "cypher"):
        answer = bob.get("/api/graph/export", params={"format": fmt})
        assert answer.status_code == 200
        assert not [h for h in hidden if h in answer.text], fmt
    assert bob.get("/api/graph/export", params={"id": hidden[0]}).status_code == 404
    ftm = bob.get("/api/export", params={"format": "ftm"})
    assert not [h for h in hidden if h in ftm.text]
    assert ftm.headers["X-Recoupe-Marking"] == "DR"


def test_a_revoked_or_disabled_token_is_dead(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    ids = Identities(marked.workspace / "security.db", marked.scale)
    ids.add_user("eve", roles=["viewer"], clearance="DR")
    token = ids.issue_token("eve")
    later = ids.issue_token("eve")
    anonymous = clients["anonymous"]

    def status(with_token: str) -> int:
        answer = anonymous.get("/api/datasets", headers={"Authorization": f"Bearer {with_token}"})
        return answer.status_code

    assert status(token) == 200
    ids.revoke_token(token.split("_")[1])
    assert status(token) == 401
    assert status(later) == 200
    # Guessing: a real token id with made-up secrets.
    token_id = later.split("_")[1]
    assert {status(f"rcp_{token_id}_{'A' * n}") for n in (1, 43, 44, 200)} == {401}
    ids.disable("eve")
    assert status(later) == 401
    ids.close()


# -- uploads ------------------------------------------------------------------------------
MAPPING = """\
watchlist:
  queries:
    - csv_url: people.csv
      entities:
        person:
          schema: Person
          keys: [id]
          key_literal: watch
          properties:
            name: {column: name, required: true}
"""


def test_ingest_paths_never_leave_the_upload(
    clients: dict[str, TestClient], marked: Settings
) -> None:
    alice = clients["alice"]  # an analyst may import
    for source in ("../../security.db", "/etc/passwd", "sub/../../../audit.db"):
        mapping = MAPPING.replace("people.csv", source)
        answer = alice.post(
            "/api/ingest",
            files=[
                ("mapping", ("m.yml", mapping.encode())),
                ("files", ("people.csv", b"id,name\n")),
            ],
        )
        assert answer.status_code == 422, source
        assert "outside the uploaded files" in answer.json()["detail"]
    for name in ("../escaped.csv", "/tmp/escaped.csv", "..\\escaped.csv"):
        answer = alice.post(
            "/api/ingest",
            files=[("mapping", ("m.yml", MAPPING.encode())), ("files", (name, b"id,name\n"))],
        )
        assert answer.status_code == 400, name
    assert not list(marked.workspace.rglob("escaped.csv"))
    assert clients["bob"].post(
        "/api/ingest", files=[("mapping", ("m.yml", MAPPING.encode()))]
    ).status_code in (403, 422)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A server that takes uploads of 64 KiB at most."""
    settings = Settings(
        workspace=tmp_path_factory.mktemp("tiny") / "ws", threads=2, max_upload=64 * 1024
    )
    open_workspace(settings, create=True).close()
    ensure_secret(settings.workspace)
    app = create_app(settings)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {app.state.operator_token}"
        yield client


def test_oversized_uploads_are_cut_off(tiny: TestClient, tmp_path: Path) -> None:
    big = b"id,name\n" + b"1,A\n" * 40_000
    declared = tiny.post(
        "/api/ingest",
        files=[("mapping", ("m.yml", MAPPING.encode())), ("files", ("people.csv", big))],
    )
    assert declared.status_code == 413
    assert "65,536 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'--b\r\nContent-Disposition: form-data; name="mapping"; filename="m.yml"\r\n\r\n'
        yield MAPPING.encode()
        yield b'\r\n--b\r\nContent-Disposition: form-data; name="files"; filename="p.csv"\r\n\r\n'
        for _ in range(100):
            yield b"1,A\n" * 1000

    streamed = tiny.post(
        "/api/ingest", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert streamed.status_code == 413
    small = tiny.post(
        "/api/auth/login",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert small.status_code == 413
    uploads = tiny.get("/api/health")
    assert uploads.status_code == 200
    assert not re.search("Traceback", declared.text + streamed.text)
