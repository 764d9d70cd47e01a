"""The security commands on a workspace folder: users, datasets mark, audit verify/export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from recoupe.cli import cli


def test_users_marking_and_audit_verify(tmp_path: Path) -> None:
    ws = ["--workspace", str(tmp_path / "ws")]
    runner = CliRunner()
    assert runner.invoke(cli, [*ws, "init"]).exit_code == 0
    added = runner.invoke(
        cli, [*ws, "users", "add", "ana", "--role", "analyst", "--clearance", "TS", "--json"]
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["clearance"] == "TS"
    token = runner.invoke(cli, [*ws, "users", "token", "ana"])
    assert token.exit_code == 0
    assert token.output.startswith("rcp_")
    bad = runner.invoke(cli, [*ws, "users", "add", "bo", "--role", "viewer", "--clearance", "X"])
    assert bad.exit_code != 0
    assert "'X'" in str(bad.exception)
    missing = runner.invoke(cli, [*ws, "datasets", "mark", "nope", "--level", "S"])
    assert "no dataset 'nope'" in str(missing.exception)
    verified = runner.invoke(cli, [*ws, "audit", "verify", "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["events"] >= 2
    out = tmp_path / "audit.jsonl"
    assert runner.invoke(cli, [*ws, "audit", "export", "--out", str(out)]).exit_code == 0
    assert len(out.read_text().splitlines()) >= 2
    con = sqlite3.connect(tmp_path / "ws" / "audit.db", isolation_level=None)
    con.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 1")
    con.close()
    broken = runner.invoke(cli, [*ws, "audit", "verify"])
    assert broken.exit_code == 1
    assert "event 1" in broken.output
