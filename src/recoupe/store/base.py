"""The store interface and the records it returns.

Every read takes the :class:`~recoupe.security.reader.Reader` as its first argument so the
backend can filter statements by what that reader may see. A backend that cannot do an
operation raises :class:`~recoupe.errors.UnsupportedOperation`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from followthemoney.model import Model

from recoupe.mapping.spec import DatasetMeta, MappingSpec
from recoupe.security.reader import Reader

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as long work proceeds."""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str | None
    description: str | None
    owner: str | None
    marking: str | None
    created_at: datetime
    updated_at: datetime
    statements: int = 0
    entities: int = 0


@dataclass(frozen=True)
class Run:
    """One import run and how every row it read was accounted for."""

    run_id: str
    dataset: str
    kind: str
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_filtered: int
    values_dropped: int
    entities: int
    statements: int
    statements_new: int
    seconds: float | None
    error: str | None

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dataset": self.dataset,
            "status": self.status,
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_filtered": self.rows_filtered,
            "values_dropped": self.values_dropped,
            "entities": self.entities,
            "statements": self.statements,
            "statements_new": self.statements_new,
            "seconds": self.seconds,
            "error": self.error,
        }


@dataclass(frozen=True)
class RejectedRow:
    run_id: str
    source_file: str
    row: int
    record: str
    reason: str


@dataclass(frozen=True)
class DroppedValue:
    run_id: str
    source_file: str
    row: int
    entity: str
    prop: str
    value: str
    reason: str


@dataclass(frozen=True)
class Statement:
    """One property value of one entity, with where and when it was seen."""

    entity_id: str
    schema: str
    prop: str
    prop_type: str
    value: str
    original_value: str
    dataset: str
    run_id: str
    source_file: str | None
    source_row: int | None
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Entity:
    """An entity: its statements grouped by id, with the schema they share."""

    id: str
    schema: str
    statements: tuple[Statement, ...] = field(default_factory=tuple)
    records: tuple[str, ...] = ()
    """The records merged into this entity (empty when it is one record)."""

    @property
    def datasets(self) -> list[str]:
        return sorted({s.dataset for s in self.statements})

    def properties(self) -> dict[str, list[str]]:
        props: dict[str, list[str]] = {}
        for stmt in self.statements:
            if stmt.prop == "id":
                continue
            values = props.setdefault(stmt.prop, [])
            if stmt.value not in values:
                values.append(stmt.value)
        return {k: sorted(v) for k, v in sorted(props.items())}

    def to_ftm(self) -> dict[str, Any]:
        """FollowTheMoney's entity JSON form."""
        seen = [s.first_seen for s in self.statements]
        last = [s.last_seen for s in self.statements]
        return {
            "id": self.id,
            "schema": self.schema,
            "properties": self.properties(),
            "datasets": self.datasets,
            **({"referents": list(self.records)} if self.records else {}),
            "first_seen": min(seen).isoformat(timespec="seconds") if seen else None,
            "last_seen": max(last).isoformat(timespec="seconds") if last else None,
        }


class Store(Protocol):
    """What every statement store backend offers."""

    model: Model
    path: Path

    def close(self) -> None: ...

    # datasets and runs
    def datasets(self, reader: Reader) -> list[Dataset]: ...
    def dataset(self, reader: Reader, name: str) -> Dataset: ...
    def runs(self, reader: Reader, dataset: str | None = None) -> list[Run]: ...
    def run(self, reader: Reader, run_id: str) -> Run: ...
    def rejected(
        self, reader: Reader, run_id: str, limit: int = 100, offset: int = 0
    ) -> list[RejectedRow]: ...
    def dropped(
        self, reader: Reader, run_id: str, limit: int = 100, offset: int = 0
    ) -> list[DroppedValue]: ...

    # entities
    def entity(self, reader: Reader, entity_id: str) -> Entity | None: ...
    def counts(self, reader: Reader) -> dict[str, int]: ...
    def entity_ids(
        self, reader: Reader, schema: str | None = None, limit: int = 10
    ) -> list[str]: ...
    def iter_entities(
        self, reader: Reader, dataset: str | None = None
    ) -> Iterator[dict[str, Any]]: ...
    def export(self, reader: Reader, fmt: str, out: Path, dataset: str | None = None) -> int: ...

    # writing
    def ingest_mapping(self, mapping: MappingSpec, progress: Progress | None = None) -> Run: ...
    def ingest_ftm(
        self, path: Path, meta: DatasetMeta, progress: Progress | None = None
    ) -> Run: ...
