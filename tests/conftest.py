"""Shared fixtures: real DuckDB stores in temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from recoupe.config import Settings
from recoupe.security.reader import Reader
from recoupe.services.demo import DemoReport, run_demo
from recoupe.store import DuckDBStore, open_store

DEMO_SCALE = 5_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    with open_store(tmp_path / "ws", create=True, memory_limit="1GB", threads=2) as opened:
        yield opened


@pytest.fixture
def reader() -> Reader:
    return Reader.system()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> DemoReport:
    """The demo workspace at scale 5,000, built once per session; tests use copies.

    The report holds the demo accounts' passwords, which every copy accepts."""
    workspace = tmp_path_factory.mktemp("demo-template") / "ws"
    return run_demo(Settings(workspace=workspace, memory_limit="1GB", threads=2), scale=DEMO_SCALE)


@pytest.fixture(scope="session")
def demo_template(demo_report: DemoReport) -> Path:
    """The shared demo workspace; copy it with `demo_copy` before changing anything."""
    return demo_report.workspace


def demo_copy(template: Path, target: Path) -> Settings:
    """A copy of the demo workspace of its own (markings and users may then change)."""
    shutil.copytree(template, target, ignore=shutil.ignore_patterns("tmp"))
    return Settings(workspace=target, memory_limit="1GB", threads=2)
