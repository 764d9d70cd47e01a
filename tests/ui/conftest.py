"""A real server on 127.0.0.1 over a demo workspace, and a real Chromium driving the
workspace page through Playwright. Screenshots go to ``test-results/ui/``.

Chromium comes from Debian (``apt-get install chromium``; ``.ci/run`` installs it):
Playwright's own browser download does not work offline. Without it the tests are
skipped, except in CI (``CI`` set), where they fail."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import uvicorn

from recoupe.api.app import APP, create_app
from recoupe.config import Settings
from recoupe.services.demo import DemoReport
from tests.conftest import demo_copy

CHROMIUM = os.environ.get("RECOUPE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--enable-unsafe-swiftshader",  # WebGL (maps, graph) without a GPU
    "--use-angle=swiftshader",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "ui"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    url: str
    report: DemoReport
    settings: Settings

    def account(self, role: str = "analyst") -> tuple[str, str]:
        for a in self.report.accounts:
            if a.role == role:
                return a.login, a.password
        raise LookupError(f"no demo account with role {role!r}")


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, demo_report: DemoReport) -> Iterator[Served]:
    if not (APP / "index.html").is_file():
        pytest.fail("the workspace page is not built: run `make ui`")
    settings = demo_copy(demo_report.workspace, tmp_path_factory.mktemp("ui") / "ws")
    report = replace(
        demo_report,
        workspace=settings.workspace,
        scenario=settings.workspace / demo_report.scenario.relative_to(demo_report.workspace),
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", report, settings)
    server.should_exit = True
    thread.join(timeout=10)


@dataclass
class Browser:
    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def goto(self, route: str) -> None:
        self.page.goto(f"{self.base}/#/{route}")

    def login(self, login: str, password: str, reason: str | None = "enquête 2026-041") -> None:
        """Log in; with ``reason``, answer the justification dialog whenever it opens."""
        self.page.goto(f"{self.base}/")
        self.page.fill("#login", login)
        self.page.fill("#password", password)
        self.page.click("#login-submit")
        self.page.wait_for_selector("header.top")
        if reason is not None:
            self.page.fill("#justification", reason)

    def wait_until(self, test: Any, what: str, timeout: float = 20.0) -> None:
        """Poll ``test()`` until true (the page's CSP forbids evaluated predicates)."""
        deadline = time.monotonic() + timeout
        while not test():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self.page.wait_for_timeout(100)

    def order(self) -> int:
        """Nodes in the graph view."""
        return int(self.page.get_attribute("#graph", "data-order") or 0)

    def outside(self) -> list[str]:
        """Requests that went anywhere but the server on 127.0.0.1."""
        bad = []
        for url in self.requests:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob"):
                continue
            if parsed.hostname != "127.0.0.1":
                bad.append(url)
        return bad


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: the browser tests must run in CI")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium: Any, served: Served, request: pytest.FixtureRequest) -> Iterator[Browser]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(20_000)
    seen = Browser(page, served.url)
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    yield seen
    seen.shot(f"last-{request.node.name}")  # where each test ended, failed or not
    context.close()
    assert seen.outside() == [], f"requests left 127.0.0.1: {seen.outside()[:5]}"
    assert seen.errors == [], f"errors in the page: {seen.errors[:5]}"
