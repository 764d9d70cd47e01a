"""Ingest use cases: run a mapping file, import FtM entities."""

from __future__ import annotations

from pathlib import Path

from recoupe.errors import ConfigError
from recoupe.mapping.spec import NAME_RE, DatasetMeta, load_mapping
from recoupe.store.base import Progress, Run, Store


def ingest_mapping(
    store: Store, mapping_path: Path, dataset: str | None = None, progress: Progress | None = None
) -> Run:
    """Run every query of a mapping file as one import run."""
    spec = load_mapping(mapping_path, store.model, dataset=dataset)
    return store.ingest_mapping(spec, progress)


def import_ftm(store: Store, path: Path, dataset: str, progress: Progress | None = None) -> Run:
    """Import FollowTheMoney entity JSON lines into ``dataset``."""
    if not NAME_RE.match(dataset):
        raise ConfigError(f"--dataset {dataset!r}: use letters, digits, '_', '-' or '.' (up to 64)")
    return store.ingest_ftm(path, DatasetMeta(name=dataset), progress)
