"""The marking of what a reader is shown, and the justification checkpoints.

A marking is the highest of the datasets that went into an answer. A checkpoint asks the
reader to say why before an export (``export``) or before reading compartmented data
(``compartment``), as ``RECOUPE_JUSTIFY`` sets (both by default). The justification is
kept in the audit event of the request. The operator of the workspace folder answers no
checkpoint: whoever holds the folder can read its files anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from recoupe.errors import JustificationRequired
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


HOW = "say why in X-Recoupe-Justification (recoupe --justification TEXT)"


def checkpoint(reader: Reader, marking: Marking, *, export: bool = False) -> None:
    """Refuse (JustificationRequired) when this read is a checkpoint and no reason is given."""
    if reader.is_operator or reader.justification:
        return
    if export and "export" in reader.justify:
        raise JustificationRequired(f"an export of {marking} data is a checkpoint: {HOW}")
    if marking.compartments and "compartment" in reader.justify:
        needs = "/".join(sorted(marking.compartments))
        raise JustificationRequired(f"this reads {marking} data (compartments {needs}): {HOW}")


def scope_checkpoint(store: DuckDBStore, reader: Reader, datasets: Sequence[str] = ()) -> None:
    """The checkpoint of a read over ``datasets`` (all the reader may see when empty)."""
    if reader.is_operator or reader.justification or "compartment" not in reader.justify:
        return
    names = list(datasets) or store.visible_datasets(reader)
    checkpoint(reader, marking_of(store, reader, names))
