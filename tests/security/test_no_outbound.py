"""Recoupe never opens a connection off the machine: no telemetry, no CDN, no update check.

The demo, the server and a tour of the command line run as subprocesses under the socket
guard of ``tests/guard/sitecustomize.py``: an audit hook that logs and refuses every
connection, datagram and name lookup aimed anywhere but loopback. The controls first show
that the guard is loaded and really refuses (a TEST-NET address, a DNS name) while it lets
loopback through; the tour then asserts that nothing was refused and that every process
of it, the server included, ran guarded. The pages the server hands to a browser are
checked too: they must not make the browser fetch anything from elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from recoupe.scenario.truth import telecom_people

GUARD = Path(__file__).resolve().parents[1] / "guard"
RECOUPE = Path(sys.executable).with_name("recoupe")  # the venv's console script
TIMEOUT = 60  # seconds, for any one subprocess
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


@dataclass
class Guarded:
    """The environment of guarded subprocesses over one workspace, and what they did."""

    root: Path
    env: dict[str, str] = field(repr=False)  # holds the server secret
    pids: list[int] = field(default_factory=list)

    @property
    def workspace(self) -> Path:
        return self.root / "ws"

    @property
    def log(self) -> Path:
        return Path(self.env["RECOUPE_GUARD_LOG"])

    def refused(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def armed(self) -> set[int]:
        armed = Path(f"{self.log}.armed")
        return {int(line) for line in armed.read_text().split()} if armed.exists() else set()

    def run(self, args: Sequence[str], *, timeout: float = TIMEOUT) -> str:
        """Run a command to completion; its stdout, or an assertion naming its stderr."""
        with subprocess.Popen(
            args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as process:
            self.pids.append(process.pid)
            try:
                out, err = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
                raise AssertionError(f"{args} timed out after {timeout} s\n{err}") from None
        assert process.returncode == 0, f"{args} exited {process.returncode}\n{err}\n{out}"
        return out

    def recoupe(self, *args: str) -> str:
        return self.run([str(RECOUPE), *args])


def guarded(root: Path) -> Guarded:
    """A guarded environment in ``root``: its own home, workspace, secret and guard log."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "home").mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RECOUPE_") and key.lower() not in PROXY_VARIABLES
    }
    inherited = env.get("PYTHONPATH")
    env.update(
        PYTHONPATH=os.pathsep.join([str(GUARD), *([inherited] if inherited else [])]),
        RECOUPE_GUARD_LOG=str(root / "guard.log"),
        RECOUPE_HOME=str(root / "ws"),
        RECOUPE_SECRET=secrets.token_hex(32),
        RECOUPE_MEMORY_LIMIT="1GB",
        RECOUPE_THREADS="2",
        RECOUPE_JUSTIFICATION="test: the application stays on the machine",
        HOME=str(root / "home"),
    )
    return Guarded(root, env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the guard itself ------------------------------------------------------------------------
CONNECT = """
import socket
with socket.socket() as s:
    s.settimeout(2)
    try:
        s.connect(("192.0.2.1", 80))
    except ConnectionRefusedError as exc:
        print("refused:", exc)
"""
RESOLVE = """
import socket
try:
    socket.getaddrinfo("example.org", 443)
except ConnectionRefusedError as exc:
    print("refused:", exc)
"""
LOOPBACK = """
import socket
with socket.create_server(("127.0.0.1", 0)) as server:
    port = server.getsockname()[1]
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection((host, port), timeout=2):
            print("connected", host)
"""


def test_guard_refuses_off_the_machine_and_lets_loopback_through(tmp_path: Path) -> None:
    env = guarded(tmp_path)
    connect = env.run([sys.executable, "-c", CONNECT])
    resolve = env.run([sys.executable, "-c", RESOLVE])
    assert "refused: recoupe test guard: socket.connect to ('192.0.2.1', 80)" in connect
    assert "refused: recoupe test guard: socket.getaddrinfo to ('example.org', 443)" in resolve
    assert env.run([sys.executable, "-c", LOOPBACK]).split("\n")[:2] == [
        "connected 127.0.0.1",
        "connected localhost",
    ]
    refused = env.refused()
    assert [(r["pid"], r["event"]) for r in refused] == [
        (env.pids[0], "socket.connect"),
        (env.pids[1], "socket.getaddrinfo"),
    ], refused
    assert "192.0.2.1" in refused[0]["target"]
    assert "example.org" in refused[1]["target"]
    assert any("<string>" in frame for frame in refused[1]["stack"])
    assert env.armed() == set(env.pids)


# -- the server and a tour of the command line -----------------------------------------------
@dataclass
class Tour:
    env: Guarded
    server_pid: int
    pages: dict[str, str] = field(repr=False)


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Tour:
    env = guarded(tmp_path_factory.mktemp("outbound"))
    assert RECOUPE.exists(), f"{RECOUPE}: run the tests with the virtual environment's pytest"
    env.recoupe("demo", "--scale", "1000")
    port = free_port()
    log = env.root / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(RECOUPE), "serve", "--port", str(port)],
            env=env.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        url = wait_for_server(env.workspace / "server.json", server, log)
        pages = walk(env, url)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0, f"the server exited {server.returncode}\n{log.read_text()}"
    assert not (env.workspace / "server.json").exists(), log.read_text()
    return Tour(env, server.pid, pages)


def wait_for_server(announced: Path, server: subprocess.Popen[bytes], log: Path) -> str:
    """The server's url once it announced itself and answers."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server stopped: {log.read_text()}")
        try:
            info = json.loads(announced.read_text())
            url = str(info["url"])
            assert int(info["pid"]) == server.pid, info
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 401:
                return url
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start within 30 s")


def walk(env: Guarded, url: str) -> dict[str, str]:
    """Every kind of use, through the server; the pages a browser would load."""
    truth = json.loads((env.workspace / "scenario" / "truth.json").read_text())
    (name, first), (_, second) = [(n, e) for _, n, e, cell in telecom_people(truth) if cell][:2]
    found = json.loads(env.recoupe("search", name, "--schema", "Person", "--json"))
    assert found["facets"], found
    assert first in [hit["id"] for hit in found["results"]], found["results"]
    demo_runs = json.loads(env.recoupe("runs", "--json"))
    mapping = write_people_mapping(env.root / "sources")
    out = env.root / "out"
    out.mkdir()

    def users() -> str:
        env.recoupe("users", "add", "vera", "--role", "analyst", "--clearance", "TS")
        return env.recoupe("users", "token", "vera").strip()

    commands = {
        "entity": ["entity", first],
        "expand": ["graph", "expand", first, "--depth", "2"],
        "path": ["graph", "path", first, second, "-k", "2"],
        "communities": ["graph", "communities"],
        "timeline": ["timeline", first, "--limit", "20"],
        "near": ["near", first, "--metres", "500", "--minutes", "30"],
        "csv": ["export", "--format", "csv", "--out", str(out / "statements.csv")],
        "gexf": ["export", "--format", "gexf", "--out", str(out / "links.gexf")],
        "ftm": ["export", "--format", "ftm", "--out", str(out / "all.ftm.json")],
        "datasets": ["datasets"],
        "rejected": ["rejected", demo_runs[0]["run_id"]],
        "ontology": ["ontology", "PhoneCall"],
        "ingest": ["ingest", str(mapping), "--json"],
    }
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        token_of_vera = pool.submit(users)
        ran = pool.map(lambda args: env.recoupe(*args), commands.values())
        outputs = dict(zip(commands, ran, strict=True))
        token = token_of_vera.result()
    assert name in outputs["entity"]
    assert name in outputs["expand"]
    assert "links:" in outputs["path"]
    assert "events" in outputs["timeline"]
    assert "telecom" in outputs["datasets"]
    assert json.loads(outputs["ingest"])["rows_loaded"] == 2
    for kind in ("csv", "gexf", "ftm"):
        assert "Wrote " in outputs[kind]
    assert "Anselme Vautrin" in env.recoupe("search", "anselme vautrin")

    pages: dict[str, str] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
        for path in (
            "/api/health",
            "/api/auth/me",
            "/api/datasets",
            "/api/search?q=Vautrin",
            f"/api/entities/{first}",
            "/api/places/radius?lat=48.8566&lon=2.3522&metres=5000",
            "/openapi.json",
            "/docs",
            "/redoc",
        ):
            response = http.get(path, timeout=10)
            if path == "/redoc" and response.status_code == 404:
                continue  # a server may leave out the second documentation page
            assert response.status_code == 200, (
                f"GET {path}: {response.status_code} {response.text}"
            )
            pages[path] = response.text
    assert json.loads(pages["/api/auth/me"])["user"]["login"] == "vera"
    assert "intact" in env.recoupe("audit", "verify")
    return pages


def write_people_mapping(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "people.csv").write_text("id,name\n1,Anselme Vautrin\n2,Bertille Ozanne\n")
    mapping = folder / "people.yml"
    mapping.write_text(
        "people:\n  queries:\n    - csv_url: people.csv\n      entities:\n"
        "        p:\n          schema: Person\n          keys: [id]\n"
        "          properties:\n            name: {column: name}\n"
    )
    return mapping


def test_server_and_tour_open_no_connection_off_the_machine(tour: Tour) -> None:
    refused = tour.env.refused()
    assert refused == [], "connections off the machine:\n" + "\n".join(map(json.dumps, refused))
    armed = tour.env.armed()
    assert tour.server_pid in armed, f"the server ({tour.server_pid}) ran without the guard"
    unguarded = set(tour.env.pids) - armed
    assert unguarded == set(), f"processes of the tour ran without the guard: {unguarded}"
    assert len(tour.env.pids) >= 20  # the demo and the commands of the tour


LOADED = re.compile(r"""(?:\b(?:src|href|action)\s*=\s*|url\(\s*)["']?([^"')\s>]+)""", re.I)


def test_served_pages_make_the_browser_fetch_nothing_from_elsewhere(tour: Tour) -> None:
    """A page that loads a script, a style sheet, a font or an icon from a CDN makes every
    browser that opens it call out: the pages must load their assets from the server."""
    outside = {
        path: sorted({u for u in LOADED.findall(text) if not stays_here(u)})
        for path, text in tour.pages.items()
        if "<html" in text.lower()
    }
    assert "/docs" in outside
    assert {p: urls for p, urls in outside.items() if urls} == {}


def stays_here(url: str) -> bool:
    """Whether a link in a page points at the server itself (relative, or loopback)."""
    parts = urlsplit(url)
    if parts.scheme in ("", "data", "blob", "javascript") and not url.startswith("//"):
        return True
    host = (parts.hostname or "").lower()
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")
