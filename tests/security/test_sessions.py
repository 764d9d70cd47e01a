"""Browser login: session cookies, CSRF, session fixation, throttling, the server secret."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from recoupe.api.app import create_app
from recoupe.cli import cli
from recoupe.config import Settings
from recoupe.errors import ConfigError
from recoupe.security.audit import AuditLog
from recoupe.security.identity import Identities
from recoupe.security.secret import ensure_secret, load_secret
from recoupe.services.workspace import open_workspace
from tests.security.slapd import Slapd

PASSWORD = "correct horse battery"
BASE = "https://testserver"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(workspace=tmp_path_factory.mktemp("sessions") / "ws", threads=2)
    open_workspace(settings, create=True).close()
    ensure_secret(settings.workspace)
    ids = Identities(settings.workspace / "security.db", settings.scale)
    for login in ("claire", "didier", "mallory", "gaston", "ines"):
        ids.add_user(login, roles=["analyst"], clearance="S", password=PASSWORD)
    ids.close()
    return settings


@pytest.fixture
def browser(settings: Settings) -> Iterator[TestClient]:
    """A fresh browser (its own cookie jar) on a fresh server (a fresh login throttle)."""
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


def plant(client: TestClient, session_id: str) -> None:
    """Put ``session_id`` in the browser's cookie jar, as another site's script could."""
    client.cookies.delete("recoupe_session")
    client.cookies.set("recoupe_session", session_id, domain="testserver.local")


def login(client: TestClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    answer = client.post("/api/auth/login", json={"login": name, "password": password})
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": client.cookies["recoupe_csrf"]}


def test_login_sets_protected_cookies_and_opens_the_api(browser: TestClient) -> None:
    answer = browser.post("/api/auth/login", json={"login": "claire", "password": PASSWORD})
    assert answer.status_code == 200
    assert answer.json()["user"]["login"] == "claire"
    cookies = {c.split("=", 1)[0]: c.lower() for c in answer.headers.get_list("set-cookie")}
    session, csrf = cookies["recoupe_session"], cookies["recoupe_csrf"]
    for flag in ("secure", "samesite=strict", "path=/"):
        assert flag in session and flag in csrf
    assert "httponly" in session
    assert "httponly" not in csrf  # the page reads it to echo it in X-CSRF-Token
    assert browser.get("/api/auth/me").json()["user"]["login"] == "claire"
    assert browser.get("/api/datasets").status_code == 200


def test_a_browser_form_logs_in_too(browser: TestClient) -> None:
    answer = browser.post("/api/auth/login", data={"login": "claire", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert browser.get("/api/auth/me").status_code == 200


def test_unsafe_requests_need_the_session_csrf_token(
    browser: TestClient, settings: Settings
) -> None:
    headers = login(browser, "claire")
    refused = browser.post("/api/auth/logout")
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    with TestClient(create_app(settings), base_url=BASE) as other:
        others = login(other, "didier")
    wrong = browser.post("/api/auth/logout", headers=others)
    assert wrong.status_code == 403  # a token is worthless with another session
    foreign = browser.post(
        "/api/auth/logout", headers={**headers, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert "evil.example" in foreign.json()["detail"]
    assert browser.post("/api/auth/logout", headers=headers).status_code == 200


def test_logout_ends_the_session(browser: TestClient) -> None:
    headers = login(browser, "claire")
    stolen = browser.cookies["recoupe_session"]
    assert browser.post("/api/auth/logout", headers=headers).status_code == 200
    plant(browser, stolen)
    assert browser.get("/api/auth/me").status_code == 401


def test_login_never_keeps_a_planted_session_id(browser: TestClient, settings: Settings) -> None:
    # An id the server never issued is refused outright.
    plant(browser, "attacker-chosen-id")
    assert browser.get("/api/auth/me").status_code == 401
    # A real session of the attacker's, planted in the victim's browser, ends at login.
    with TestClient(create_app(settings), base_url=BASE) as attacker:
        login(attacker, "mallory")
        theirs = attacker.cookies["recoupe_session"]
    plant(browser, theirs)
    login(browser, "claire")
    mine = browser.cookies["recoupe_session"]
    assert mine != theirs
    with TestClient(create_app(settings), base_url=BASE) as attacker:
        plant(attacker, theirs)
        assert attacker.get("/api/auth/me").status_code == 401
        plant(attacker, mine)
        assert attacker.get("/api/auth/me").json()["user"]["login"] == "claire"


def test_wrong_passwords_are_throttled_per_address_and_audited(
    browser: TestClient, settings: Settings
) -> None:
    for attempt in range(10):
        wrong = browser.post(
            "/api/auth/login", json={"login": f"nobody{attempt}", "password": "guess"}
        )
        assert wrong.status_code == 401
        assert "wrong" in wrong.json()["detail"]
    blocked = browser.post("/api/auth/login", json={"login": "gaston", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    log = AuditLog(settings.workspace / "audit.db")
    failed = [e for e in log.events() if e.action == "POST /api/auth/login"]
    log.close()
    assert {"nobody0", "nobody9"} <= {e.actor for e in failed if e.status == 401}


def test_five_failures_lock_the_account(browser: TestClient) -> None:
    for _ in range(5):
        browser.post("/api/auth/login", json={"login": "ines", "password": "not the one"})
    locked = browser.post("/api/auth/login", json={"login": "ines", "password": PASSWORD})
    assert locked.status_code == 401


def test_a_disabled_account_loses_its_sessions(browser: TestClient, settings: Settings) -> None:
    ids = Identities(settings.workspace / "security.db", settings.scale)
    ids.add_user("henri", roles=["viewer"], clearance="DR", password=PASSWORD)
    login(browser, "henri")
    assert browser.get("/api/auth/me").status_code == 200
    ids.disable("henri")
    ids.close()
    assert browser.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"login": "claire"}, "password"),
        ({"login": "", "password": "x"}, "login"),
        ({"login": "claire", "password": "x" * 2000}, "password"),
    ],
)
def test_bad_login_bodies_name_the_field(
    browser: TestClient, body: dict[str, str], named: str
) -> None:
    answer = browser.post("/api/auth/login", json=body)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(named)


# -- the server secret ---------------------------------------------------------------------
def test_the_server_refuses_a_missing_or_weak_secret(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", threads=2)
    open_workspace(settings, create=True).close()
    with pytest.raises(ConfigError, match=r"secret\.key: no server secret"):
        create_app(settings)
    for weak, why in [("changeme", "placeholder"), ("x" * 40, "placeholder"), ("abc123", "32")]:
        with pytest.raises(ConfigError, match=f"RECOUPE_SECRET.*{why}"):
            create_app(replace(settings, secret=weak))
    key = ensure_secret(settings.workspace)
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert len(load_secret(settings.workspace, None)) == 64
    key.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        create_app(settings)
    key.chmod(0o600)
    create_app(settings)


def test_a_new_workspace_is_its_owners_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(workspace=tmp_path / "deep" / "ws", threads=2)
    open_workspace(settings, create=True).close()
    assert os.stat(settings.workspace).st_mode & 0o077 == 0
    ensure_secret(settings.workspace)
    with caplog.at_level(logging.WARNING, logger="recoupe.api"):
        create_app(settings)
    assert not caplog.records
    settings.workspace.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="recoupe.api"):
        create_app(settings)
    assert f"chmod 700 {settings.workspace}" in caplog.text
    elsewhere = tmp_path / "made-by-the-secret"  # whichever command makes the folder first
    ensure_secret(elsewhere)
    assert os.stat(elsewhere).st_mode & 0o077 == 0


def test_serve_says_how_to_make_a_secret(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    open_workspace(Settings(workspace=workspace), create=True).close()
    result = CliRunner().invoke(cli, ["--workspace", str(workspace), "serve", "--port", "9"])
    assert result.exit_code != 0
    assert "recoupe init" in str(result.exception)
    made = CliRunner().invoke(cli, ["--workspace", str(workspace), "init", "--json"])
    assert made.exit_code == 0, made.output
    assert (workspace / "secret.key").exists()


# -- directory login ------------------------------------------------------------------------
def test_directory_accounts_log_in_with_their_ldap_password(slapd: Slapd, tmp_path: Path) -> None:
    settings = Settings(
        workspace=tmp_path / "ws", threads=2, ldap_url=slapd.url, ldap_user_dn=slapd.user_dn
    )
    open_workspace(settings, create=True).close()
    ensure_secret(settings.workspace)
    made = CliRunner().invoke(
        cli,
        [
            *("--workspace", str(settings.workspace), "users", "add", "claire", "--ldap"),
            *("--role", "viewer", "--clearance", "DR", "--json"),
        ],
    )
    assert made.exit_code == 0, made.output
    with TestClient(create_app(settings), base_url=BASE) as browser:
        wrong = browser.post("/api/auth/login", json={"login": "claire", "password": "nope"})
        assert wrong.status_code == 401
        login(browser, "claire", slapd.passwords["claire"])
        me = browser.get("/api/auth/me").json()
        assert me["user"]["auth"] == "directory" and me["cleared"] == "Diffusion Restreinte"
        # Known to the directory, unknown here: no account, no entry.
        stranger = {"login": "didier", "password": slapd.passwords["didier"]}
        assert browser.post("/api/auth/login", json=stranger).status_code == 401
