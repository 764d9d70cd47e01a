"""Ingest use cases: run a mapping file, import FtM entities."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from followthemoney.model import Model

from recoupe.errors import ConfigError, MappingError
from recoupe.mapping.spec import NAME_RE, DatasetMeta, load_mapping
from recoupe.security.markings import FRENCH, Scale
from recoupe.store.base import Progress, Run, Store


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
