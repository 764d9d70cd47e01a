"""Timeline use cases: what happened to an entity, and when events pile up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from recoupe.errors import ConfigError, NotFound
from recoupe.security.reader import Reader
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.timeline import INTERVALS, captions, histogram, timeline, visible_schema

MAX_LIMIT = 1000
MAX_IDS = 1000


@dataclass(frozen=True)
class TimelinePage:
    """One page of an entity's timeline; items are plain dicts ready for JSON."""

    entity_id: str
    schema: str
    caption: str | None
    total: int
    limit: int
    offset: int
    since: str | None
    until: str | None
    items: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Histogram:
    entity_ids: list[str]
    interval: str
    by_schema: bool
    buckets: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit must be between 1 and {MAX_LIMIT} (got {limit})")
    if offset < 0:
        raise ConfigError(f"offset must be zero or more (got {offset})")


#: the precisions an ISO date or date-time may have, finest last
_PRECISIONS = (
    ("%Y", 4),
    ("%Y-%m", 7),
    ("%Y-%m-%d", 10),
    ("%Y-%m-%dT%H", 13),
    ("%Y-%m-%dT%H:%M", 16),
    ("%Y-%m-%dT%H:%M:%S", 19),
)


def period(name: str, value: str) -> tuple[str, datetime, datetime]:
    """An ISO date of any precision: (normalised text, first instant, instant after it).

    ``2024-03`` is March 2024: from 1 March to 1 April, the end excluded.
    """
    text = value.strip().replace(" ", "T")
    for fmt, size in _PRECISIONS:
        if len(text) != size:
            continue
        try:
            start = datetime.strptime(text, fmt)
        except ValueError:
            break
        if size == 4:
            end = start.replace(year=start.year + 1)
        elif size == 7:
            end = (start + timedelta(days=32)).replace(day=1)
        else:
            step = {10: timedelta(days=1), 13: timedelta(hours=1), 16: timedelta(minutes=1)}
            end = start + step.get(size, timedelta(seconds=1))
        return text, start, end
    raise ConfigError(f"{name} {value!r}: give an ISO date such as 2024-03-01 or 2024-03")


def check_range(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """``since`` and ``until`` checked and normalised; ``until`` may not precede ``since``."""
    start = period("since", since) if since is not None else None
    end = period("until", until) if until is not None else None
    if start is not None and end is not None and start[1] >= end[2]:
        raise ConfigError(f"since {since!r} is after until {until!r}")
    return (start[0] if start else None), (end[0] if end else None)


def _require(store: DuckDBStore, reader: Reader, entity_id: str) -> str:
    schema = visible_schema(store, reader, entity_id)
    if schema is None:
        raise NotFound(f"no entity {entity_id!r}")
    return schema


def entity_timeline(
    store: DuckDBStore,
    reader: Reader,
    entity_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    offset: int = 0,
    expand: bool = True,
) -> TimelinePage:
    """Dated statements and events of an entity (and of the lines it holds), in date order."""
    check_page(limit, offset)
    start, end = check_range(since, until)
    schema = _require(store, reader, entity_id)
    total, items = timeline(
        store, reader, entity_id, since=start, until=end, limit=limit, offset=offset,
        expand=expand,
    )  # fmt: skip
    names = captions(
        store, reader, {entity_id, *(i.other or "" for i in items), *(i.subject for i in items)}
    )
    rows = []
    for item in items:
        row = asdict(item)
        row["other_caption"] = names.get(item.other) if item.other is not None else None
        row["subject_caption"] = names.get(item.subject)
        rows.append(row)
    return TimelinePage(
        entity_id=entity_id,
        schema=schema,
        caption=names.get(entity_id),
        total=total,
        limit=limit,
        offset=offset,
        since=start,
        until=end,
        items=rows,
    )


def events_histogram(
    store: DuckDBStore,
    reader: Reader,
    entity_ids: Sequence[str],
    interval: str = "month",
    *,
    by_schema: bool = False,
    since: str | None = None,
    until: str | None = None,
    expand: bool = True,
) -> Histogram:
    """Events of a set of entities counted per interval (and per schema when asked)."""
    ids = sorted({i for i in entity_ids if i})
    if not ids:
        raise ConfigError("give at least one entity id")
    if len(ids) > MAX_IDS:
        raise ConfigError(f"at most {MAX_IDS} entity ids (got {len(ids)})")
    if interval not in INTERVALS:
        raise ConfigError(f"interval {interval!r}: use one of {', '.join(INTERVALS)}")
    start, end = check_range(since, until)
    buckets = histogram(
        store, reader, ids, interval, by_schema=by_schema, since=start, until=end, expand=expand
    )
    return Histogram(
        entity_ids=ids,
        interval=interval,
        by_schema=by_schema,
        buckets=[
            {"start": b.start.isoformat(), "schema": b.schema, "count": b.count} for b in buckets
        ],
    )
