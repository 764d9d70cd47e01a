"""The analysis commands on a local demo workspace (no server running)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from recoupe.cli import cli
from tests.api.conftest import cell_members, telecom_person


def run(workspace: Path, *args: str, as_json: bool = True) -> Any:
    extra = ["--json"] if as_json else []
    result = CliRunner().invoke(cli, ["--workspace", str(workspace), *args, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if as_json else result.output


def test_search_graph_timeline_near(cli_workspace: Path, truth: dict[str, Any]) -> None:
    members = cell_members(truth)
    name, first = telecom_person(members[0])
    _, second = telecom_person(members[1])
    found = run(cli_workspace, "search", name)
    assert first in [h["id"] for h in found["results"]]
    assert name.split()[0].lower() in run(cli_workspace, "search", name, as_json=False).lower()
    around = run(cli_workspace, "graph", "expand", first, "--depth", "2", "--cap", "50")
    assert len(around["nodes"]) <= 50
    assert "nodes" in run(cli_workspace, "graph", "expand", first, as_json=False)
    paths = run(cli_workspace, "graph", "path", first, second, "-k", "2")
    assert paths["paths"][0]["nodes"][0] == first
    assert "links:" in run(cli_workspace, "graph", "path", first, second, as_json=False)
    communities = run(cli_workspace, "graph", "communities", "--top", "3")
    assert len(communities["communities"]) == 3
    top = run(cli_workspace, "graph", "centrality", "--measure", "pagerank", "--top", "5")
    assert len(top["nodes"]) == 5
    timeline = run(cli_workspace, "timeline", first, "--limit", "5")
    assert timeline["total"] >= 1
    assert "events" in run(cli_workspace, "timeline", first, as_json=False)
    near = run(cli_workspace, "near", first, "--metres", "500", "--minutes", "30")
    assert near["neighbours"]
    assert "times" in run(cli_workspace, "near", first, as_json=False)


def test_index_is_current_after_ingest(cli_workspace: Path) -> None:
    report = run(cli_workspace, "index")
    assert report["index"]["documents"] == 0  # nothing new since the demo's own refresh
