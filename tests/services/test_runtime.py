"""The runtime keeps derived data in step, and one failing part does not stop the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from recoupe.config import Settings
from recoupe.errors import StoreError
from recoupe.services import runtime as runtime_module
from recoupe.services.ingest import ingest_mapping
from recoupe.services.runtime import Runtime
from recoupe.store import DuckDBStore
from tests.store.test_ingest import people


def test_a_failing_part_is_reported_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(workspace=tmp_path / "ws", memory_limit="1GB", threads=2)
    with Runtime(settings) as runtime:
        ingest_mapping(runtime.store, people(tmp_path))

        def broken(store: DuckDBStore) -> None:
            raise StoreError("rebuilding places failed: out of memory")

        monkeypatch.setattr(runtime_module, "refresh_places", broken)
        report = runtime.refresh()
        assert report.errors == {"places": "rebuilding places failed: out of memory"}
        assert report.places_seconds is None
        assert report.index["documents"] > 0
        assert report.graph_seconds is not None
        assert not runtime.search.is_stale(runtime.store)


def test_refresh_is_a_no_op_when_nothing_changed(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", memory_limit="1GB", threads=2)
    with Runtime(settings) as runtime:
        ingest_mapping(runtime.store, people(tmp_path))
        first = runtime.refresh()
        assert first.compact_seconds is not None
        again = runtime.refresh()
        assert again.compact_seconds is None
        assert again.places_seconds is None
        assert again.index["documents"] == 0
        assert again.errors == {}
