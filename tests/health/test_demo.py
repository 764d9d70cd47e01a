"""The health commands on the demo's health data: forecasts, alerts, transfer plans,
scenario comparisons, charts and tracing, read from the store as ingested."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recoupe import territories
from recoupe.cli import cli
from recoupe.config import Settings
from recoupe.scenario.health import HOSPITALS, generate_health
from recoupe.services.ingest import ingest_mapping
from recoupe.services.workspace import open_workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("health") / "ws"
    settings = Settings(workspace=ws, memory_limit="1GB", threads=2)
    health = generate_health(ws / "scenario" / "sante")
    with open_workspace(settings, create=True) as store:
        for mapping in health.mappings:
            run = ingest_mapping(store, mapping)
            assert run.rows_rejected == 0, run.summary()
    return ws


def recoupe(workspace: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace), "health", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "--json" in args else result.output


def test_the_forecast_has_bands_hospitals_and_a_chart(workspace: Path, tmp_path: Path) -> None:
    chart = tmp_path / "rea.png"
    found = recoupe(workspace, "forecast", "--draws", "50", "--chart", str(chart), "--json")
    assert len(found["days"]) == 14
    before, after = found["r"]
    assert 2.5 < before < 3.3  # drawn with 2.9, then 0.7 from the lockdown
    assert 0.6 < after < 0.8
    for row in found["days"]:
        assert row["icu_low"] <= row["icu"] <= row["icu_high"]
        assert row["ventilated"] <= row["icu"] <= row["hospitalized"]
    assert {h["hospital"] for h in found["hospitals"]} == {h[0] for h in HOSPITALS}
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_alerts_put_the_most_urgent_first(workspace: Path) -> None:
    alerts = recoupe(workspace, "alerts", "--json")
    assert alerts
    assert [a["days_left"] for a in alerts] == sorted(a["days_left"] for a in alerts)
    mulhouse = [a for a in alerts if a["hospital"] == "H68" and a["kind"] == "beds"]
    assert mulhouse and mulhouse[0]["item"] == "icu"  # the hardest-hit hospital


def test_transfers_relieve_the_hospitals_over_capacity(workspace: Path) -> None:
    plan = recoupe(workspace, "transfers", "--json")
    assert plan["over_before"] > 0
    assert plan["over_after"] < plan["over_before"]
    for move in plan["moves"]:
        assert move["amount"] <= 4 * move["vehicles"]  # TGV cars of four
    stock = recoupe(workspace, "transfers", "--item", "n95", "--json")
    assert stock["over_after"] <= stock["over_before"]


def test_scenarios_compare_exits_side_by_side(workspace: Path, tmp_path: Path) -> None:
    chart = tmp_path / "scenarios.svg"
    found = recoupe(workspace, "scenarios", "--chart", str(chart), "--json")
    by_name = {s["scenario"]: s for s in found["scenarios"]}
    kept, gradual, abrupt = (
        by_name[n]
        for n in ("confinement prolongé", "déconfinement progressif", "déconfinement brutal")
    )
    assert kept["deaths"] < gradual["deaths"] < abrupt["deaths"]
    assert kept["peak_icu"] < abrupt["peak_icu"]
    assert abrupt["days_over_capacity"] > 0
    assert "<svg" in chart.read_text()


def test_trace_finds_the_wedding_super_spreader(workspace: Path) -> None:
    report = recoupe(workspace, "trace", "--json")
    assert report["cases"] == 33
    assert report["links"] == 32
    assert report["trees"] == 1
    assert report["super_spreaders"][0]["infected"] == 18


def test_backtest_scores_the_forecast_of_a_past_day(workspace: Path) -> None:
    found = recoupe(workspace, "backtest", "--from", "2020-03-27", "--draws", "50", "--json")
    assert [h["days_ahead"] for h in found["horizons"]] == [7, 14]
    assert all(h["covered"] for h in found["horizons"])


def test_rt_of_a_departement_from_the_store_equals_rt_of_its_file(workspace: Path) -> None:
    found = recoupe(workspace, "rt-place", "67", "--si-mean", "6.5", "--si-sd", "4", "--json")
    series = workspace / "scenario" / "sante" / "rt_67.csv"
    result = CliRunner().invoke(
        cli, ["health", "rt", str(series), "--si-mean", "6.5", "--si-sd", "4", "--json"]
    )
    from_file = json.loads(result.output)
    assert [w["mean"] for w in found["windows"]] == [w["mean"] for w in from_file]
    assert found["windows"][0]["start_date"] == "2020-02-11"  # day 2 of the series
    late = [w["mean"] for w in found["windows"][-7:]]
    assert all(m is not None and m < 1 for m in late)  # after the lockdown (R 0.7)
    missing = CliRunner().invoke(
        cli,
        [
            "--workspace",
            str(workspace),
            "health",
            "rt-place",
            "99",
            "--si-mean",
            "6.5",
            "--si-sd",
            "4",
        ],
    )
    assert "no case counts for place '99'" in str(missing.exception)
    assert "67 (Bas-Rhin)" in str(missing.exception)
    by_name = recoupe(workspace, "rt-place", "Bas-Rhin", "--si-mean", "6.5", "--si-sd", "4")
    assert by_name.startswith("Bas-Rhin (67): mean serial interval")


def test_hospitals_and_case_counts_link_to_the_builtin_departements(workspace: Path) -> None:
    settings = Settings(workspace=workspace, memory_limit="1GB", threads=2)
    with open_workspace(settings) as store:
        rows = store.con.execute(
            "SELECT DISTINCT schema, value FROM statements "
            "WHERE prop IN ('territory', 'subject') AND schema IN ('Hospital', 'Measurement')"
        ).fetchall()
    linked = {value for schema, value in rows}
    for code in ("67", "68", "54", "57"):
        assert territories.get(code, "departement").entity_id in linked, code
    forecast = recoupe(workspace, "forecast", "--draws", "20", "--json")
    assert forecast["regions"] == [{"code": "44", "name": "Grand Est"}]
    mulhouse = next(h for h in forecast["hospitals"] if h["hospital"] == "H68")
    assert mulhouse["departement_name"] == "Haut-Rhin"


def test_a_missing_model_is_named(tmp_path: Path, workspace: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--workspace", str(workspace), "health", "alerts", "--model", str(tmp_path / "x")]
    )
    assert result.exit_code == 2  # click: the file does not exist
    assert "does not exist" in result.output


def test_the_api_serves_the_same_figures(workspace: Path) -> None:
    from fastapi.testclient import TestClient

    from recoupe.api.app import create_app
    from recoupe.security.secret import ensure_secret

    ensure_secret(workspace)
    app = create_app(Settings(workspace=workspace, memory_limit="1GB", threads=2))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {app.state.operator_token}"
        forecast = client.get("/api/health/forecast", params={"draws": 20})
        assert forecast.status_code == 200, forecast.text
        assert len(forecast.json()["days"]) == 14
        alerts = client.get("/api/health/alerts").json()
        assert alerts[0]["days_left"] <= alerts[-1]["days_left"]
        plan = client.get("/api/health/transfers").json()
        assert plan["over_after"] < plan["over_before"]
        scenarios = client.get("/api/health/scenarios").json()
        assert len(scenarios["curves"]["icu"]) == 3
        assert client.get("/api/health/trace").json()["cases"] == 33
        rt = client.get("/api/health/rt", params={"place": "68", "si_mean": 6.5, "si_sd": 4})
        assert rt.status_code == 200, rt.text
        assert rt.json()["windows"][-1]["mean"] < 1
        bad = client.get("/api/health/forecast", params={"days": 0})
        assert bad.status_code == 422
        assert "days" in bad.text
        assert (
            client.get("/api/health/forecast")
            .headers["content-type"]
            .startswith("application/json")
        )
        unauthenticated = TestClient(app).get("/api/health/alerts")
        assert unauthenticated.status_code == 401
