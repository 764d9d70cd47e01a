"""A demo workspace served in process (one per test session: building it takes seconds)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoupe.api.app import create_app
from recoupe.config import Settings
from recoupe.scenario.truth import telecom_people
from tests.conftest import demo_copy


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Settings:
    root = tmp_path_factory.mktemp("demo")
    settings = demo_copy(demo_template, root / "ws")
    # A copy for the command line (the in-process server holds the first).
    demo_copy(demo_template, root / "cli-ws")
    return settings


@pytest.fixture(scope="session")
def cli_workspace(demo_settings: Settings) -> Path:
    return demo_settings.workspace.parent / "cli-ws"


@pytest.fixture(scope="session")
def truth(demo_settings: Settings) -> dict[str, Any]:
    data = json.loads((demo_settings.workspace / "scenario" / "truth.json").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def api(demo_settings: Settings) -> Iterator[TestClient]:
    app = create_app(demo_settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {app.state.operator_token}"
        yield client


def telecom_person(person: dict[str, Any]) -> tuple[str, str]:
    """(name, entity id of the telecom subscriber record) of a scenario person."""
    found = telecom_people({"people": [person]})
    assert found, f"{person['person']} has no telecom record"
    return found[0][1], found[0][2]


def cell_members(truth: dict[str, Any]) -> list[dict[str, Any]]:
    members = [p for p in truth["people"] if p["cell"]]
    with_phone = [p for p in members if any(r["dataset"] == "telecom" for r in p["records"])]
    assert len(with_phone) >= 2
    return with_phone


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
