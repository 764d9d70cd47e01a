"""The Python client against the API (in process), and the CLI against a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from recoupe.cli import cli
from recoupe.client import Client
from recoupe.errors import ConfigError, NotFound, ServerError
from tests.api.conftest import cell_members, telecom_person, write


def test_client_returns_dicts_and_frames(api: TestClient, truth: dict[str, Any]) -> None:
    name, first = telecom_person(cell_members(truth)[0])
    client = Client("http://testserver", http=api)  # the fixture sends the operator token
    assert client.health()["status"] == "ok"
    assert first in [h["id"] for h in client.search(name)["results"]]
    frame = client.search_frame(name, limit=5)
    assert {"id", "schema", "caption"} <= set(frame.columns)
    nodes, edges = client.graph_frames(first, depth=1)
    assert first in set(nodes["id"])
    assert len(edges) >= 1
    assert client.timeline_frame(first, limit=3).shape[0] >= 1
    assert client.entity(first)["id"] == first
    with pytest.raises(NotFound, match="nope"):
        client.entity("nope")
    with pytest.raises(ConfigError, match="Persn"):
        client.search("x", schema=["Persn"])
    ids = [h["id"] for h in client.iter_search("", page=50, schema=["Company"])]
    assert len(ids) == len(set(ids)) > 50


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(ServerError, match="cannot reach"):
        Client("http://127.0.0.1:9", timeout=1).health()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_cli_ingests_and_searches_through_a_running_server(tmp_path: Path) -> None:
    """While `recoupe serve` holds the workspace, CLI commands go through it."""
    workspace = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(cli, ["--workspace", str(workspace), "init"]).exit_code == 0
    port = _free_port()
    env = {**os.environ, "RECOUPE_MEMORY_LIMIT": "1GB"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "recoupe.cli",
            "--workspace",
            str(workspace),
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 401:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        assert (workspace / "server.json").exists()
        write(tmp_path / "src" / "people.csv", "id,name\n1,Anselme Vautrin\n2,Bertille Ozanne\n")
        mapping = write(
            tmp_path / "src" / "people.yml",
            "people:\n  queries:\n    - csv_url: people.csv\n      entities:\n"
            "        p:\n          schema: Person\n          keys: [id]\n"
            "          properties:\n            name: {column: name}\n",
        )
        ws = ["--workspace", str(workspace)]
        ingested = runner.invoke(cli, [*ws, "ingest", str(mapping), "--json"])
        assert ingested.exit_code == 0, ingested.output
        assert '"rows_loaded": 2' in ingested.output
        found = runner.invoke(cli, [*ws, "search", "anselme vautrin", "--json"])
        assert found.exit_code == 0, found.output
        assert "Anselme Vautrin" in found.output
        listed = runner.invoke(cli, [*ws, "datasets"])
        assert listed.exit_code == 0, listed.output
        assert "people" in listed.output
        assert runner.invoke(cli, [*ws, "runs"]).exit_code == 0
        hit = json.loads(found.output)["results"][0]["id"]
        shown = runner.invoke(cli, [*ws, "entity", hit])
        assert shown.exit_code == 0, shown.output
        assert "Anselme Vautrin" in shown.output
        out = tmp_path / "all.ftm.json"
        exported = runner.invoke(cli, [*ws, "export", "--out", str(out)])
        assert exported.exit_code == 0, exported.output
        assert "Wrote 2 records" in exported.output
        assert len(out.read_text().splitlines()) == 2
        # A remote viewer: --server with a token, bound by that user's rights.
        added = runner.invoke(
            cli, [*ws, "users", "add", "vera", "--role", "viewer", "--clearance", "NP"]
        )
        assert added.exit_code == 0, added.output
        token = runner.invoke(cli, [*ws, "users", "token", "vera"]).output.strip()
        remote = runner.invoke(
            cli,
            ["--server", url, "search", "anselme", "--json"],
            env={"RECOUPE_TOKEN": token},
        )
        assert remote.exit_code == 0, remote.output
        assert "Anselme Vautrin" in remote.output
        refused = runner.invoke(
            cli, ["--server", url, "datasets"], env={"RECOUPE_TOKEN": token + "x"}
        )
        assert refused.exit_code != 0
        assert "unknown, expired or revoked" in str(refused.exception)
        twice = runner.invoke(cli, [*ws, "serve", "--port", str(_free_port())])
        assert twice.exit_code != 0
        assert "already runs" in str(twice.exception or twice.output)
    finally:
        server.terminate()
        server.communicate(timeout=20)
    assert not (workspace / "server.json").exists()
