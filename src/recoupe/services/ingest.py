"""Ingest use cases: run a mapping file, import FtM entities."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from followthemoney.model import Model

from recoupe.errors import ConfigError, MappingError
from recoupe.mapping.spec import NAME_RE, DatasetMeta, load_mapping
from recoupe.security.markings import FRENCH, Scale
from recoupe.security.reader import Reader
from recoupe.store.base import Progress, Run, Store
from recoupe.store.duckdb import DuckDBStore


def ingest_mapping(
    store: Store,
    mapping_path: Path,
    dataset: str | None = None,
    progress: Progress | None = None,
    scale: Scale = FRENCH,
) -> Run:
    """Run every query of a mapping file as one import run.

    The dataset's marking (``dataset.marking``) is checked against ``scale`` and kept in
    its canonical form; a dataset without one reads as the lowest level."""
    spec = load_mapping(mapping_path, store.model, dataset=dataset)
    if spec.dataset.marking is not None:
        try:
            marking = scale.parse(spec.dataset.marking)
        except ConfigError as exc:
            raise MappingError(str(exc), file=str(mapping_path), key="dataset.marking") from exc
        spec = replace(spec, dataset=replace(spec.dataset, marking=str(marking)))
    return store.ingest_mapping(spec, progress)


PREVIEW_ROWS = 20


def preview_mapping(
    mapping_path: Path, folder: Path, model: Model, dataset: str | None, rows: int = PREVIEW_ROWS
) -> dict[str, Any]:
    """Map the first ``rows`` rows of each source of an uploaded mapping, without storing
    anything: the real engine runs on a throwaway store in ``folder``. Answers the
    entities made (FtM form), the rows rejected with their reasons and the values dropped.
    Text sources are cut to their header and first lines; others are read whole."""
    spec = load_mapping(mapping_path, model, dataset=dataset)
    cut = folder / "preview"
    for query in spec.queries:
        for path in query.source.paths:
            source = Path(path)
            target = cut / source.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as f:
                head = [line for _, line in zip(range(rows + 1), f, strict=False)]
            target.write_bytes(b"".join(head))
    shutil.copy(mapping_path, cut / mapping_path.name)
    with DuckDBStore(cut / "store", memory_limit="512MB", threads=1, model=model) as store:
        run = ingest_mapping(store, cut / mapping_path.name, dataset)
        reader = Reader.system()
        entities = [e for _, e in zip(range(200), store.iter_entities(reader), strict=False)]
        rejected = [r.__dict__ for r in store.rejected(reader, run.run_id)]
        dropped = [d.__dict__ for d in store.dropped(reader, run.run_id)]
    for item in rejected + dropped:
        item["source_file"] = Path(item["source_file"]).name
    return {
        "rows": rows,
        "run": run.summary(),
        "entities": entities,
        "rejected_rows": rejected,
        "dropped_values": dropped,
    }


def import_ftm(store: Store, path: Path, dataset: str, progress: Progress | None = None) -> Run:
    """Import FollowTheMoney entity JSON lines into ``dataset``."""
    if not NAME_RE.match(dataset):
        raise ConfigError(f"--dataset {dataset!r}: use letters, digits, '_', '-' or '.' (up to 64)")
    return store.ingest_ftm(path, DatasetMeta(name=dataset), progress)


def check_uploaded(mapping_path: Path, folder: Path, model: Model, dataset: str | None) -> None:
    """Refuse a mapping sent over the API that reads anything but the files sent with it."""
    spec = load_mapping(mapping_path, model, dataset=dataset)
    root = folder.resolve()
    for query in spec.queries:
        if query.source.database is not None:
            raise MappingError(
                "database sources cannot be ingested through the API; "
                "run `recoupe ingest` on the server",
                file=mapping_path.name,
                key=query.key,
            )
        for path in query.source.paths:
            resolved = Path(path).resolve()
            if not resolved.is_relative_to(root):
                raise MappingError(
                    f"source {path!r} is outside the uploaded files; send it with the mapping",
                    file=mapping_path.name,
                    key=query.key,
                )
            if not resolved.is_file():
                name = resolved.relative_to(root)
                raise MappingError(
                    f"source {str(name)!r} was not uploaded with the mapping",
                    file=mapping_path.name,
                    key=query.key,
                )


def mapping_sources(mapping_path: Path, model: Model) -> list[tuple[Path, str]]:
    """The files a mapping reads, each with its name relative to the mapping's folder."""
    spec = load_mapping(mapping_path, model)
    base = mapping_path.parent.resolve()
    files: list[tuple[Path, str]] = []
    for query in spec.queries:
        if query.source.database is not None:
            raise MappingError(
                "a database source cannot be sent to a running server; stop it to ingest locally",
                file=str(mapping_path),
                key=query.key,
            )
        for path in query.source.paths:
            resolved = Path(path).resolve()
            if not resolved.is_relative_to(base):
                raise MappingError(
                    f"source {path!r} is outside the mapping's folder; a running server "
                    "only receives files under it",
                    file=str(mapping_path),
                    key=query.key,
                )
            files.append((resolved, resolved.relative_to(base).as_posix()))
    return list(dict.fromkeys(files))
