"""The HTTP API on the demo scenario: the hidden cell is found with the API alone."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoupe.config import Settings
from recoupe.services.jobs import Job
from tests.api.conftest import cell_members, telecom_person, write

ENDPOINTS = [
    "/api/health/forecast",
    "/api/health/backtest",
    "/api/health/alerts",
    "/api/health/transfers",
    "/api/health/scenarios",
    "/api/health/trace",
    "/api/health/rt",
    "/api/resolve/runs",
    "/api/resolve/pairs",
    "/api/resolve/queue",
    "/api/resolve/judgements",
    "/api/resolve/judgements/{judgement_id}",
    "/api/resolve/entities/{entity_id}",
    "/api/resolve/entities/{entity_id}/undo",
    "/api/auth/login",
    "/api/auth/logout",
    "/api/auth/me",
    "/api/health",
    "/api/datasets",
    "/api/datasets/{name}",
    "/api/datasets/{name}/marking",
    "/api/runs",
    "/api/runs/{run_id}",
    "/api/runs/{run_id}/rejected",
    "/api/entities/{entity_id}",
    "/api/entities/{entity_id}/timeline",
    "/api/entities/{entity_id}/near",
    "/api/search",
    "/api/graph/expand",
    "/api/graph/paths",
    "/api/graph/common",
    "/api/graph/communities",
    "/api/graph/centrality",
    "/api/graph/export",
    "/api/timeline/histogram",
    "/api/places/bbox",
    "/api/places/radius",
    "/api/territories",
    "/api/territories/outlines",
    "/api/territories/locate",
    "/api/marking",
    "/api/ontology/labels",
    "/api/investigations",
    "/api/investigations/{investigation_id}",
    "/api/audit",
    "/api/entities/{entity_id}/track",
    "/api/export",
    "/api/ingest",
    "/api/ingest/preview",
    "/api/jobs",
    "/api/jobs/{job_id}",
]


def test_openapi_lists_every_endpoint(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert sorted(paths) == sorted(ENDPOINTS)
    assert api.get("/docs").status_code == 200


def test_the_hidden_cell_is_found_with_the_api_alone(
    api: TestClient, truth: dict[str, Any]
) -> None:
    members = cell_members(truth)
    name, first = telecom_person(members[0])
    # 1. search a known member by name
    found = api.get("/api/search", params={"q": name}).json()
    assert first in [hit["id"] for hit in found["results"][:10]]
    # 2. expand around them: their phone line and the lines it called
    around = api.get("/api/graph/expand", params={"id": first, "depth": 2}).json()
    schemata = {n.get("schema") for n in around["nodes"]}
    assert "Phone" in schemata
    # 3. a path to a second member
    _, second = telecom_person(members[1])
    paths = api.get("/api/graph/paths", params={"source": first, "target": second}).json()
    assert paths["paths"], "no path between two cell members"
    steps = paths["paths"][0]["nodes"]
    assert steps[0] == first
    assert steps[-1] == second
    assert {n["id"] for n in paths["nodes"]} >= set(steps)
    # 4. the co-location of their phones
    near = api.get(f"/api/entities/{first}/near", params={"metres": 500, "minutes": 30}).json()
    near_ids = {n["entity_id"] for n in near["neighbours"]}
    others = {
        r["entity_id"] for m in members[1:] for r in m["records"] if r["dataset"] == "telecom"
    }
    assert near_ids & others, "no other cell member was seen near the first one"


def test_entity_timeline_and_export(api: TestClient, truth: dict[str, Any]) -> None:
    _, first = telecom_person(cell_members(truth)[0])
    entity = api.get(f"/api/entities/{first}").json()
    assert entity["id"] == first
    assert entity["statements"][0]["dataset"] == "telecom"
    timeline = api.get(f"/api/entities/{first}/timeline", params={"limit": 5}).json()
    assert timeline["total"] >= 1
    assert len(timeline["items"]) <= 5
    response = api.get("/api/export", params={"format": "ftm", "dataset": "companies"})
    assert response.status_code == 200
    assert response.text.count("\n") > 10


def test_errors_are_problem_documents(api: TestClient) -> None:
    missing = api.get("/api/entities/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "nope" in missing.json()["detail"]
    bad = api.get("/api/search", params={"q": "x", "limit": 0})
    assert bad.status_code == 422
    assert "limit" in bad.json()["detail"]
    schema = api.get("/api/search", params={"q": "x", "schema": "Persn"})
    assert schema.status_code == 400
    assert "Persn" in schema.json()["detail"]
    assert "Traceback" not in schema.text


def _upload(api: TestClient, folder: Path, mapping: str, files: dict[str, str]) -> Any:
    write(folder / "m.yml", mapping)
    for name, text in files.items():
        write(folder / name, text)
    parts = [("mapping", ("m.yml", (folder / "m.yml").read_bytes()))]
    parts += [("files", (name, (folder / name).read_bytes())) for name in files]
    return api.post("/api/ingest", files=parts)


MAPPING = """\
watchlist:
  queries:
    - csv_url: data/people.csv
      entities:
        person:
          schema: Person
          keys: [id]
          key_literal: watch
          properties:
            name: {column: name, required: true}
"""


def test_ingest_through_the_api_is_atomic_for_readers(
    api: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "id,name\n" + "".join(f"{i},Zéphyrin Quintal{i}\n" for i in range(2000))
    paused = threading.Event()
    resume = threading.Event()
    original = Job.progress

    def pausing(self: Job, stage: str, done: int, total: int) -> None:
        original(self, stage, done, total)
        if stage == "deriving edges" and not paused.is_set():
            paused.set()
            resume.wait(timeout=30)

    monkeypatch.setattr(Job, "progress", pausing)
    accepted = _upload(api, tmp_path, MAPPING, {"data/people.csv": rows})
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["id"]
    assert paused.wait(timeout=30), "the run never wrote its statements"
    # mid-run: the run is announced, but none of its data is visible
    sizes = {d["name"]: d["statements"] for d in api.get("/api/datasets").json()}
    assert sizes.get("watchlist", 0) == 0
    mid = api.get("/api/search", params={"q": "Zephyrin Quintal7"}).json()["results"]
    assert not [h for h in mid if "Zéphyrin" in (h["caption"] or "")]
    running = api.get(f"/api/jobs/{job_id}").json()
    assert running["state"] == "running"
    assert running["stage"] == "deriving edges"
    resume.set()
    job = _wait(api, job_id)
    assert job["state"] == "done", job
    assert job["result"]["run"]["rows_loaded"] == 2000
    found = api.get("/api/search", params={"q": "Zephyrin Quintal7"}).json()
    assert found["results"][0]["caption"] == "Zéphyrin Quintal7"


def _wait(api: TestClient, job_id: str) -> dict[str, Any]:
    import time

    for _ in range(600):
        job = api.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_ingest_refuses_files_outside_the_upload(api: TestClient, tmp_path: Path) -> None:
    escape = MAPPING.replace("data/people.csv", "/etc/passwd")
    refused = _upload(api, tmp_path, escape, {"data/people.csv": "id,name\n1,A\n"})
    assert refused.status_code == 422
    assert "outside the uploaded files" in refused.json()["detail"]
    sneaky = api.post(
        "/api/ingest",
        files=[
            ("mapping", ("m.yml", MAPPING.encode())),
            ("files", ("../../x.csv", b"id,name\n")),
        ],
    )
    assert sneaky.status_code == 400
    assert "'..'" in sneaky.json()["detail"]
    missing = _upload(api, tmp_path / "b", MAPPING, {"other.csv": "id,name\n1,A\n"})
    assert missing.status_code == 422
    assert "was not uploaded" in missing.json()["detail"]


def test_failed_run_is_reported_by_its_job(api: TestClient, tmp_path: Path) -> None:
    broken = MAPPING.replace("key_literal: watch", "key_literal: watch\n          nonsense: 1")
    response = _upload(api, tmp_path, broken, {"data/people.csv": "id,name\n1,A\n"})
    assert response.status_code == 422
    assert "nonsense" in response.json()["detail"]


def test_settings_are_those_of_the_workspace(demo_settings: Settings) -> None:
    assert (demo_settings.workspace / "index").is_dir()


def test_the_builtin_territories_are_served_with_their_outlines(api: TestClient) -> None:
    regions = api.get("/api/territories", params={"level": "region"}).json()
    assert len(regions) == 18
    grand_est = next(r for r in regions if r["code"] == "44")
    # The demo loads them: the région is an entity of the store, with its départements.
    entity = api.get(f"/api/entities/{grand_est['entity_id']}").json()
    assert entity["schema"] == "FrenchTerritory"
    outlines = api.get("/api/territories/outlines", params={"level": "departement"})
    assert outlines.headers["content-type"] == "application/geo+json"
    assert len(outlines.json()["features"]) == 101
    where = api.get("/api/territories/locate", params={"lat": 47.75, "lon": 7.34}).json()
    assert where["departement"]["name"] == "Haut-Rhin"
    assert api.get("/api/territories", params={"level": "canton"}).status_code == 422
    assert api.get("/api/territories", headers={"Authorization": ""}).status_code == 401


def test_a_preview_maps_the_first_rows_and_stores_nothing(api: TestClient, tmp_path: Path) -> None:
    write(tmp_path / "m.yml", MAPPING.replace("watchlist:", "apercu:"))
    rows = "id,name\n1,Zoé Apercu\n,Sans Identifiant\n" + "".join(
        f"{i},Personne {i}\n" for i in range(3, 100)
    )
    write(tmp_path / "data" / "people.csv", rows)
    parts = [
        ("mapping", ("m.yml", (tmp_path / "m.yml").read_bytes())),
        ("files", ("data/people.csv", (tmp_path / "data" / "people.csv").read_bytes())),
    ]
    answer = api.post("/api/ingest/preview", files=parts, data={"rows": "10"})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["run"]["rows_read"] == 10
    names = [e["properties"]["name"][0] for e in found["entities"]]
    assert "Zoé Apercu" in names
    assert found["rejected_rows"] and found["rejected_rows"][0]["source_file"] == "people.csv"
    assert "apercu" not in {d["name"] for d in api.get("/api/datasets").json()}


def test_ontology_labels_are_served_in_french_and_english(api: TestClient) -> None:
    fr = api.get("/api/ontology/labels", params={"lang": "fr"})
    assert fr.status_code == 200, fr.text
    assert fr.json()["schemata"]["Person"]["label"] == "Personne"
    assert fr.json()["properties"]["birthDate"] == "Date de naissance"
    en = api.get("/api/ontology/labels", params={"lang": "en"}).json()
    assert en["schemata"]["Phone"]["label"] == "Phone line"
    bad = api.get("/api/ontology/labels", params={"lang": "de"})
    assert bad.status_code == 400
    assert "lang 'de'" in bad.json()["detail"]


def test_problem_titles_follow_the_accept_language(api: TestClient) -> None:
    missing = "/api/entities/no-such-entity"
    french = api.get(missing, headers={"Accept-Language": "fr-FR, fr;q=0.9, en;q=0.5"})
    assert french.status_code == 404
    assert french.json()["title"] == "Introuvable"
    english = api.get(missing, headers={"Accept-Language": "en-GB"})
    assert english.json()["title"] == "Not found"
    # The detail names the culprit in every language.
    assert french.json()["detail"] == english.json()["detail"]
    assert "no-such-entity" in french.json()["detail"]
