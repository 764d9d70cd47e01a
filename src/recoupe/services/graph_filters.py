"""Checking the parameters of graph queries: filters, bounds, dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from followthemoney.model import Model

from recoupe.errors import ConfigError, NotFound
from recoupe.graph.data import EDGE_KINDS
from recoupe.graph.subgraph import EdgeFilter

FILTER_KEYS = {
    "schemata": "schemata",
    "schema": "schemata",
    "kinds": "kinds",
    "kind": "kinds",
    "datasets": "datasets",
    "dataset": "datasets",
    "since": "since",
    "until": "until",
}
Filters = EdgeFilter | Mapping[str, Any] | None


def parse_filter(
    filters: Filters, more: Mapping[str, Any], visible: set[str], model: Model
) -> EdgeFilter:
    """The edge filter of ``filters`` and keyword filters, checked: ConfigError names the
    parameter; a dataset not in ``visible`` is NotFound."""
    if more:
        if isinstance(filters, EdgeFilter):
            raise ConfigError("filters: give an EdgeFilter or keywords, not both")
        filters = {**(filters or {}), **more}
    if filters is None:
        return EdgeFilter()
    if isinstance(filters, EdgeFilter):
        given: dict[str, Any] = {
            "schemata": filters.schemata,
            "kinds": filters.kinds,
            "datasets": filters.datasets,
            "since": filters.since,
            "until": filters.until,
        }
    else:
        given = {}
        for key, value in filters.items():
            if key not in FILTER_KEYS:
                raise ConfigError(f"filters: no filter {key!r} (use {sorted(FILTER_KEYS)})")
            if value is not None and value != [] and value != "":
                given[FILTER_KEYS[key]] = value
    model = model
    schemata = None
    if given.get("schemata") is not None:
        schemata = set()
        for name in names_of(given["schemata"], "schemata"):
            schema = model.get(name)
            if schema is None:
                raise ConfigError(f"schemata: no schema {name!r}")
            schemata |= {schema.name, *(s.name for s in schema.descendants)}
    kinds = None
    if given.get("kinds") is not None:
        kinds = set(names_of(given["kinds"], "kinds"))
        if not kinds <= set(EDGE_KINDS):
            raise ConfigError(f"kinds: use {list(EDGE_KINDS)} (got {sorted(kinds)})")
    datasets = None
    if given.get("datasets") is not None:
        datasets = set(names_of(given["datasets"], "datasets"))
        unknown = sorted(datasets - visible)
        if unknown:
            raise NotFound(f"datasets: no dataset {unknown[0]!r}")
    since, until = day(given.get("since"), "since"), day(given.get("until"), "until")
    if since is not None and until is not None and since > until:
        raise ConfigError(f"since: {since} is after until ({until})")
    return EdgeFilter(
        frozenset(schemata) if schemata is not None else None,
        frozenset(kinds) if kinds is not None else None,
        frozenset(datasets) if datasets is not None else None,
        since,
        until,
    )

    # -- operations -----------------------------------------------------------------------


def bounded(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name}: give a whole number from {low} to {high} (got {value!r})")


def names_of(value: Any, name: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(i, str) and i for i in items):
        raise ConfigError(f"{name}: give names (got {value!r})")
    return [str(i) for i in items]


def day(value: Any, name: str) -> date | None:
    """A date from ``YYYY-MM-DD``, or a month or year (its first day for ``since``, its
    last for ``until``)."""
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()[:10]
        try:
            if len(text) == 4:
                return date(int(text), 1, 1) if name == "since" else date(int(text), 12, 31)
            if len(text) == 7:
                first = date.fromisoformat(text + "-01")
                if name == "since":
                    return first
                following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
                return following - timedelta(days=1)
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ConfigError(f"{name}: give a date as YYYY-MM-DD, YYYY-MM or YYYY (got {value!r})")
