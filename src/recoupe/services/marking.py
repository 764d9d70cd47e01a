"""The marking of what a reader is shown: the highest of the datasets that went into it."""

from __future__ import annotations

from collections.abc import Iterable

from recoupe.security.markings import Marking
from recoupe.security.reader import Reader
from recoupe.store.duckdb import DuckDBStore


def marking_of(store: DuckDBStore, reader: Reader, datasets: Iterable[str]) -> Marking:
    """The combined marking of ``datasets`` (those ``reader`` may see), for a banner."""
    stored = store.markings()
    visible = set(store.visible_datasets(reader))
    return reader.scale.combine(
        reader.marking_of(stored[name]) for name in set(datasets) & visible if name in stored
    )


def export_marking(store: DuckDBStore, reader: Reader, dataset: str | None) -> Marking:
    """The marking of an export of ``dataset``, or of everything ``reader`` may see."""
    names = [dataset] if dataset is not None else store.visible_datasets(reader)
    return marking_of(store, reader, names)
