"""Fixtures of the security tests: the demo scenario with marked datasets and two users,
and a real OpenLDAP server for the directory login.

alice is cleared Très Secret with the FININT compartment and sees everything; bob is
cleared Diffusion Restreinte and sees neither the Secret call records nor the bank data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoupe.api.app import create_app
from recoupe.config import Settings
from recoupe.security.identity import Identities
from recoupe.services.workspace import open_workspace
from tests.conftest import demo_copy
from tests.security.slapd import Slapd, slapd

__all__ = ["VISIBLE", "Slapd", "clients", "demo_truth", "marked", "slapd"]

VISIBLE = {
    "bob": {
        "civil_registry",
        "companies",
        "travel",
        "sante_hopitaux",
        "sante_cas",
        "territoires_fr",
    }
}


@pytest.fixture(scope="session")
def marked(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Settings:
    settings = demo_copy(demo_template, tmp_path_factory.mktemp("marked") / "ws")
    with open_workspace(settings) as store:
        store.set_marking("telecom", "S")
        store.set_marking("bank", "DR//FININT")
        store.set_marking("travel", "DR")
    return settings


@pytest.fixture(scope="session")
def clients(marked: Settings) -> Iterator[dict[str, TestClient]]:
    ids = Identities(marked.workspace / "security.db", marked.scale)
    ids.add_user("alice", roles=["analyst"], clearance="TS", compartments=["FININT"])
    ids.add_user("bob", roles=["viewer"], clearance="Diffusion Restreinte")
    tokens = {login: ids.issue_token(login) for login in ("alice", "bob")}
    ids.close()
    app = create_app(marked)
    with TestClient(app, raise_server_exceptions=False) as base:
        made: dict[str, TestClient] = {}
        for login, token in [*tokens.items(), ("operator", app.state.operator_token)]:
            client = TestClient(app, raise_server_exceptions=False)
            client.headers["Authorization"] = f"Bearer {token}"
            client.headers["X-Recoupe-Justification"] = "enqu%C3%AAte%20n%C2%B0%2042"
            made[login] = client
            unjustified = TestClient(app, raise_server_exceptions=False)
            unjustified.headers["Authorization"] = f"Bearer {token}"
            made[f"{login}-unjustified"] = unjustified
        made["anonymous"] = base
        yield made


def demo_truth(marked: Settings) -> dict[str, Any]:
    data = json.loads((marked.workspace / "scenario" / "truth.json").read_text())
    assert isinstance(data, dict)
    return data
