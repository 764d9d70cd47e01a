"""Investigations: saved graphs with notes, shared with named users or groups.

An investigation keeps the entity ids the analyst gathered, where they were drawn, notes
and shares; never captions or values, so a saved file holds no data of its own. Opening
one rebuilds it for the reader who opens it: the entities they may not see are left out
(and counted), and the links between the rest come from the link graph as it is now.

Its marking is the highest of the datasets behind its content, computed when it is saved
(from the saver's view) and again for each reader who opens it. An investigation is listed
only to its owner and those it is shared with; a share names a login (``user:ana``) or a
group (``group:NAME``: everyone holding the role or the compartment NAME).

They live in ``WORKSPACE/investigations.db`` (SQLite), apart from the store: rebuilding
the store or the graph does not touch them.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recoupe.errors import ConfigError, Forbidden, NotFound
from recoupe.security.reader import Reader
from recoupe.security.sqlite import SQLiteFile
from recoupe.services.graph import GraphService
from recoupe.services.marking import marking_of
from recoupe.sql import quote_str
from recoupe.store.duckdb import DuckDBStore

FILE = "investigations.db"
MAX_NODES = 20_000
MAX_NOTES = 100_000
MAX_TITLE = 200
SHARE_RE = re.compile(r"^(user|group):[\w.@:-]{1,64}$")

DDL = """
CREATE TABLE IF NOT EXISTS investigations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    nodes TEXT NOT NULL,          -- JSON: [{"id": ..., "x": ..., "y": ...}]
    marking TEXT NOT NULL,        -- as the last saver saw it
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shares (
    investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
    share TEXT NOT NULL,
    PRIMARY KEY (investigation_id, share)
);
"""


@dataclass(frozen=True)
class Member:
    """Who asks: their login and the groups (roles and compartments) they belong to."""

    login: str
    groups: frozenset[str]

    @classmethod
    def of(cls, reader: Reader) -> Member:
        return cls(reader.name, frozenset(reader.roles) | (reader.compartments or frozenset()))

    def shares(self) -> set[str]:
        return {f"user:{self.login}", *(f"group:{g}" for g in self.groups)}


@dataclass(frozen=True)
class Node:
    id: str
    x: float | None = None
    y: float | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _nodes(value: Any) -> list[Node]:
    if not isinstance(value, list):
        raise ConfigError("nodes: a list of {id, x, y}")
    if len(value) > MAX_NODES:
        raise ConfigError(f"nodes: at most {MAX_NODES:,} entities in one investigation")
    found: dict[str, Node] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise ConfigError(f"nodes[{i}]: an object with an entity id in `id`")
        x, y = item.get("x"), item.get("y")
        for axis, v in (("x", x), ("y", y)):
            if v is not None and not isinstance(v, (int, float)):
                raise ConfigError(f"nodes[{i}].{axis}: a number")
        found[item["id"]] = Node(item["id"], x, y)
    return list(found.values())


def _shares(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ConfigError("shares: a list such as ['user:ana', 'group:analyst']")
    bad = [s for s in value if not SHARE_RE.match(s)]
    if bad:
        raise ConfigError(f"shares: {bad[0]!r} is not user:LOGIN or group:NAME")
    return sorted(set(value))


def _text(value: Any, key: str, limit: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{key}: a text{' (not empty)' if required else ''}")
    if len(value) > limit:
        raise ConfigError(f"{key}: at most {limit:,} characters")
    return value.strip() if key == "title" else value


class Investigations(SQLiteFile):
    """The investigations of a workspace (``WORKSPACE/investigations.db``)."""

    def __init__(self, workspace: Path) -> None:
        super().__init__(workspace / FILE, DDL)

    # -- reading ----------------------------------------------------------------------
    def _row(self, investigation_id: str, member: Member) -> dict[str, Any]:
        con = self._tx_open()
        row = con.execute(
            "SELECT id, title, owner, notes, nodes, marking, created_at, updated_at, "
            "updated_by FROM investigations WHERE id = ?",
            (investigation_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no investigation {investigation_id!r}")
        shares = [
            r[0]
            for r in con.execute(
                "SELECT share FROM shares WHERE investigation_id = ? ORDER BY share",
                (investigation_id,),
            )
        ]
        if row[2] != member.login and not member.shares() & set(shares):
            raise NotFound(f"no investigation {investigation_id!r}")  # not even its existence
        keys = (
            "id",
            "title",
            "owner",
            "notes",
            "nodes",
            "marking",
            "created_at",
            "updated_at",
            "updated_by",
        )
        found = dict(zip(keys, row, strict=True))
        found["nodes"] = json.loads(found["nodes"])
        found["shares"] = shares
        return found

    def list(self, member: Member) -> list[dict[str, Any]]:
        """The investigations ``member`` owns or is shared, newest first (no content)."""
        mine = sorted(member.shares())
        marks = ", ".join("?" for _ in mine)
        rows = (
            self._tx_open()
            .execute(
                "SELECT id, title, owner, marking, updated_at, updated_by, "
                "json_array_length(nodes) FROM investigations "
                f"WHERE owner = ? OR id IN (SELECT investigation_id FROM shares "
                f"WHERE share IN ({marks})) ORDER BY updated_at DESC, id",
                (member.login, *mine),
            )
            .fetchall()
        )
        keys = ("id", "title", "owner", "marking", "updated_at", "updated_by", "entities")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def open(
        self, store: DuckDBStore, graph: GraphService, reader: Reader, investigation_id: str
    ) -> dict[str, Any]:
        """An investigation rebuilt for ``reader``: visible nodes (with their saved
        positions), the links between them, notes, shares and the reader's marking."""
        member = Member.of(reader)
        found = self._row(investigation_id, member)
        saved = {n["id"]: n for n in found.pop("nodes")}
        visible, datasets = _seen(store, reader, list(saved))
        nodes: list[dict[str, Any]] = []
        edges: list[dict[str, Any]] = []
        linked = graph.in_graph(visible)
        if linked:
            sub = graph.expand(reader, linked, depth=0, cap=MAX_NODES)
            nodes = sub["nodes"]
            edges = sub["edges"]
        drawn = {n["id"] for n in nodes}
        nodes += _unlinked(store, reader, [i for i in visible if i not in drawn])
        for node in nodes:
            position = saved.get(node["id"], {})
            node["x"], node["y"] = position.get("x"), position.get("y")
        datasets |= {e["dataset"] for e in edges if e.get("dataset")}
        marking = marking_of(store, reader, datasets)
        return {
            **found,
            "nodes": nodes,
            "edges": edges,
            "withheld": len(saved) - len(visible),
            "datasets": sorted(datasets),
            **{f"reader_{k}": v for k, v in marking.to_dict().items()},
        }

    # -- writing ----------------------------------------------------------------------
    def save(
        self,
        store: DuckDBStore,
        reader: Reader,
        body: dict[str, Any],
        investigation_id: str | None = None,
    ) -> dict[str, Any]:
        """Create (no id) or replace an investigation's content. The owner alone changes
        its shares; whoever it is shared with may save new content and notes."""
        member = Member.of(reader)
        title = _text(body.get("title"), "title", MAX_TITLE, required=True)
        notes = _text(body.get("notes"), "notes", MAX_NOTES)
        nodes = _nodes(body.get("nodes", []))
        shares = _shares(body.get("shares"))
        ids = [n.id for n in nodes]
        marking = marking_of(store, reader, _seen(store, reader, ids)[1])
        payload = json.dumps([n.__dict__ for n in nodes], separators=(",", ":"))
        now = _now()
        with self._tx() as con:
            if investigation_id is None:
                investigation_id = secrets.token_hex(8)
                con.execute(
                    "INSERT INTO investigations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        investigation_id,
                        title,
                        member.login,
                        notes,
                        payload,
                        str(marking),
                        now,
                        now,
                        member.login,
                    ),
                )
            else:
                current = self._row(investigation_id, member)
                moved = set(shares) != set(current["shares"])
                if "shares" in body and current["owner"] != member.login and moved:
                    raise Forbidden("only the owner of an investigation changes its shares")
                con.execute(
                    "UPDATE investigations SET title = ?, notes = ?, nodes = ?, marking = ?, "
                    "updated_at = ?, updated_by = ? WHERE id = ?",
                    (title, notes, payload, str(marking), now, member.login, investigation_id),
                )
                if current["owner"] != member.login:
                    shares = current["shares"]
                con.execute("DELETE FROM shares WHERE investigation_id = ?", (investigation_id,))
            con.executemany(
                "INSERT INTO shares VALUES (?, ?)", [(investigation_id, s) for s in shares]
            )
        return {**self._row(investigation_id, member), **marking.to_dict()}

    def delete(self, reader: Reader, investigation_id: str) -> None:
        member = Member.of(reader)
        current = self._row(investigation_id, member)
        if current["owner"] != member.login:
            raise Forbidden("only the owner of an investigation deletes it")
        with self._tx() as con:
            con.execute("DELETE FROM shares WHERE investigation_id = ?", (investigation_id,))
            con.execute("DELETE FROM investigations WHERE id = ?", (investigation_id,))


def _in(ids: Iterable[str]) -> str:
    return ", ".join(quote_str(i) for i in ids)


def _seen(store: DuckDBStore, reader: Reader, ids: Sequence[str]) -> tuple[list[str], set[str]]:
    """The ids among ``ids`` that ``reader`` may see (in their order), and the datasets
    of what they see of them."""
    if not ids:
        return [], set()
    rows = store.con.execute(
        "SELECT DISTINCT s.entity_id, so.dataset FROM statements s "
        "JOIN sources so USING (source_id) "
        f"WHERE s.entity_id IN ({_in(ids)}) AND ({store.scope_sql(reader)})"
    ).fetchall()
    seen = {r[0] for r in rows}
    return [i for i in ids if i in seen], {r[1] for r in rows}


def _unlinked(store: DuckDBStore, reader: Reader, ids: Sequence[str]) -> list[dict[str, Any]]:
    """Nodes for entities outside the link graph (no links yet): schema and a caption."""
    if not ids:
        return []
    rows = store.con.execute(
        "SELECT entity_id, min(schema), min(value) FILTER (WHERE prop = 'name') "
        f"FROM statements WHERE entity_id IN ({_in(ids)}) AND ({store.scope_sql(reader)}) "
        "GROUP BY entity_id"
    ).fetchall()
    found = {r[0]: r for r in rows}
    return [
        {"id": i, "kind": "entity", "schema": found[i][1], "caption": found[i][2] or i}
        for i in ids
        if i in found
    ]
