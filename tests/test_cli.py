"""The command line, end to end on a real workspace; and its reference stays current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from recoupe.cli import cli
from recoupe.docgen import render
from tests.conftest import write
from tests.store.test_ingest import MAPPING, PEOPLE


def run(args: list[str], workspace: Path) -> dict[str, object] | list[object]:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace), *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] | list[object] = json.loads(result.output)
    return data


def test_ingest_then_read_everything_back(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write(tmp_path / "people.csv", PEOPLE)
    mapping = write(tmp_path / "people.yml", MAPPING)
    summary = run(["ingest", str(mapping)], ws)
    assert isinstance(summary, dict)
    for key in ("run_id", "dataset", "rows_read", "rows_loaded", "rows_rejected", "entities",
                "statements", "seconds"):  # fmt: skip
        assert key in summary
    assert summary["rows_read"] == 7 and summary["rows_rejected"] == 3
    datasets = run(["datasets"], ws)
    assert isinstance(datasets, list) and datasets[0]["title"] == "Fichier des personnes"  # type: ignore[index]
    runs = run(["runs"], ws)
    assert isinstance(runs, list) and len(runs) == 1
    rejected = run(["rejected", str(summary["run_id"])], ws)
    assert isinstance(rejected, dict) and len(rejected["rejected_rows"]) == 3  # type: ignore[arg-type]
    out = tmp_path / "e.json"
    exported = run(["export", "--format", "ftm", "--out", str(out)], ws)
    assert isinstance(exported, dict) and exported["records"] == 4
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    entity = run(["entity", first["id"]], ws)
    assert isinstance(entity, dict) and entity["properties"] == first["properties"]
    copy = run(["import-ftm", str(out), "--dataset", "copy"], tmp_path / "ws2")
    assert isinstance(copy, dict) and copy["rows_loaded"] == 4


def test_text_output_is_readable(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write(tmp_path / "people.csv", PEOPLE)
    mapping = write(tmp_path / "people.yml", MAPPING)
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", str(mapping)])
    assert result.exit_code == 0
    assert "rows read 7 = loaded 4 + rejected 3 + filtered 0" in result.output
    assert "recoupe rejected" in result.output


def test_ontology_commands() -> None:
    listing = CliRunner().invoke(cli, ["ontology", "--json"])
    names = {s["name"] for s in json.loads(listing.output)}
    assert {"Person", "Phone", "PhoneCall"} <= names
    shown = CliRunner().invoke(cli, ["ontology", "PhoneCall"])
    assert "callerPhone" in shown.output and "edge source" in shown.output


def test_generate_writes_a_scenario(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["generate", "--scale", "1000", "--out", str(tmp_path / "s"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / "truth.json").is_file()
    assert json.loads(result.output)["calls"] == 1000


@pytest.fixture(scope="module")
def empty_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One initialised workspace for the commands that fail before they change anything."""
    ws = tmp_path_factory.mktemp("cli-errors") / "ws"
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "init"])
    assert result.exit_code == 0, result.output
    return ws


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["entity", "nope"], 2, "error: no entity 'nope'"),
        (["ingest", "missing.yml"], 2, "missing.yml: mapping file not found"),
        (["rejected", "r1"], 2, "error: no run 'r1'"),
        (["ontology", "Persn"], 2, "no schema 'Persn'"),
    ],
)
def test_errors_are_one_clear_line(
    empty_workspace: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    ws = empty_workspace
    proc = subprocess.run(
        [sys.executable, "-m", "recoupe.cli", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == code
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_workspace_is_explained(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "recoupe.cli", "--workspace", str(tmp_path / "none"), "datasets"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "not a Recoupe workspace" in proc.stderr and "recoupe init" in proc.stderr


def test_cli_reference_is_current() -> None:
    doc = Path(__file__).parents[1] / "docs" / "cli.md"
    assert doc.read_text(encoding="utf-8") == render(), "run `make docs` to update docs/cli.md"
