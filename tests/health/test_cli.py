"""The ``recoupe health`` commands follow the contract: rt and chime, as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recoupe.cli import cli
from recoupe.errors import ConfigError
from tests.health.conftest import DATA, rows
from tests.health.test_hospital import CHIME_FIXTURE


def run(*args: str, code: int = 0) -> Any:
    """The command's output (JSON read back); with ``code`` 2, the message of the
    configuration error it stops on (the entry point prints it and exits with 2)."""
    result = CliRunner().invoke(cli, list(args))
    if code == 2:
        assert isinstance(result.exception, ConfigError), result.output
        return str(result.exception)
    assert result.exit_code == code, result.output
    return json.loads(result.output) if "--json" in args else result.output


def test_rt_prints_epiestims_windows() -> None:
    found = run(
        "health",
        "rt",
        str(DATA / "epiestim/flu2009_incidence.csv"),
        "--si-mean",
        "2.6",
        "--si-sd",
        "1.5",
        "--json",
    )
    oracle = rows("epiestim/oracle_flu2009_parametric.csv")
    assert len(found) == len(oracle)
    assert set(found[0]) == {"t_start", "t_end", "mean", "std", "q025", "q975"}
    for got, want in zip(found, oracle, strict=True):
        assert got["t_start"] == int(want["t_start"])
        assert got["mean"] == pytest.approx(float(want["mean_r"]), abs=1e-6)
        assert got["q975"] == pytest.approx(float(want["q975"]), abs=1e-6)


def test_rt_with_a_distribution_file_prints_null_where_epiestim_gives_na() -> None:
    incidence = str(DATA / "epiestim/smallpox1972_incidence.csv")
    si = str(DATA / "epiestim/smallpox1972_si_distr.csv")
    found = run("health", "rt", incidence, "--si-distr", si, "--json")
    assert found[0]["mean"] is None
    assert found[0]["q025"] is None
    assert found[-1]["mean"] is not None
    text = run("health", "rt", incidence, "--si-distr", si)
    assert "NA" in text


def test_rt_bad_input_names_file_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "incidence.csv"
    bad.write_text("day,local\n1,3\n2,x\n3,4\n")
    out = run("health", "rt", str(bad), "--si-mean", "2.6", "--si-sd", "1.5", code=2)
    assert "incidence.csv, row 3, column local" in out
    nolocal = tmp_path / "cases.csv"
    nolocal.write_text("day,cases\n1,3\n")
    out = run("health", "rt", str(nolocal), "--si-mean", "2.6", "--si-sd", "1.5", code=2)
    assert "no column 'local'" in out
    out = run("health", "rt", str(DATA / "epiestim/flu2009_incidence.csv"), code=2)
    assert "--si-mean and --si-sd, or --si-distr" in out


def test_chime_prints_the_contract(tmp_path: Path) -> None:
    config = tmp_path / "chime.json"
    config.write_text(json.dumps(CHIME_FIXTURE))
    found = run("health", "chime", str(config), "--json")
    assert found["i_day"] == 43
    assert found["r0"] == 2.7144686763312222
    assert found["rt"] == 2.307298374881539
    assert found["doubling_time_t"] == 7.764405988534983
    day0 = found["census"][0]
    assert day0["day"] == 0
    assert round(day0["hospitalized"], 4) == 96.4897
    assert {"day", "hospitalized", "icu", "ventilated"} <= set(day0)
    config.write_text(json.dumps({**CHIME_FIXTURE, "market_share": "half"}))
    out = run("health", "chime", str(config), code=2)
    assert "chime.json: key market_share" in out
