"""Entity resolution use cases: score candidates, review them, judge, undo, explain.

- :func:`run` derives every record's features, scores candidate pairs with Splink (a full
  run trains the model; later runs compare new and changed records only) and, when the
  spec sets ``auto_merge_at``, records the system's merges as judgements;
- :func:`queue` lists the pairs worth a person's look, most useful first;
- :func:`judge` and :func:`undo` record and withdraw verdicts; each changes the canonical
  mapping (records → merged entity), which search, the graph and exports follow;
- :func:`explain` shows a merged entity's records and the judgements that joined them.

A reader sees a pair only when they may see a dataset of each of its records, and judges
only those pairs.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from recoupe.errors import ConfigError, NotFound
from recoupe.resolve.clusters import VERDICTS, Clustering, Judgement, cluster, cluster_columns
from recoupe.resolve.engine import link
from recoupe.resolve.spec import DEFAULT_SPEC, ResolveSpec
from recoupe.security.reader import Reader
from recoupe.store.base import Progress
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.resolution import (
    build_records,
    bump_resolution,
    changed_records,
    load_model,
    now,
    record_changes,
    save_model,
    save_run,
)

SYSTEM = "system:auto-merge"
"""The author of automatic merges (no account can have a colon in its login)."""


@dataclass(frozen=True)
class RunReport:
    """One schema's scoring pass."""

    run_id: str
    schema: str
    mode: str
    records: int
    new_records: int
    compared: int
    pairs: int
    trained: bool
    merged: int
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "schema": self.schema,
            "mode": self.mode,
            "records": self.records,
            "new_records": self.new_records,
            "compared": self.compared,
            "pairs": self.pairs,
            "trained": self.trained,
            "merged": self.merged,
            "seconds": self.seconds,
        }


def run(
    store: DuckDBStore,
    spec: ResolveSpec = DEFAULT_SPEC,
    *,
    datasets: Sequence[str] = (),
    full: bool = False,
    progress: Progress | None = None,
    threads: int | None = None,
    memory_limit: str = "3GB",
) -> list[RunReport]:
    """Score candidate pairs of every schema of ``spec`` (see the module docstring).

    ``datasets`` forces the records of those datasets to be compared again with all
    others; ``full`` retrains and rescores everything.
    """
    known = {d.name for d in store.datasets(Reader.system())}
    for name in datasets:
        if name not in known:
            raise NotFound(f"no dataset {name!r}; known: {', '.join(sorted(known))}")
    reports = []
    for step, part in enumerate(spec.schemata):
        started = time.monotonic()
        if progress is not None:
            progress(f"resolving {part.schema}", step, len(spec.schemata))
        records = build_records(store, part)
        run_id = time.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]
        if records.num_rows < 2:
            continue
        fingerprint = spec.fingerprint(part.schema)
        model = None if full else load_model(store, part.schema, fingerprint)
        new, gone = changed_records(store, part.schema, records)
        if datasets:
            wanted = set(datasets)
            forced = [
                r["unique_id"]
                for r in records.select(["unique_id", "datasets"]).to_pylist()
                if wanted & set(r["datasets"])
            ]
            new = sorted(set(new) | set(forced))
        incremental = model is not None and len(new) < records.num_rows
        if model is not None and not new and not gone:
            reports.append(
                RunReport(run_id, part.schema, "unchanged", records.num_rows, 0, 0, 0, False, 0, {})
            )
            continue
        scored = link(
            records,
            part,
            keep_above=spec.keep_above,
            model=model if incremental else None,
            new=new if incremental else None,
            threads=threads,
            memory_limit=memory_limit,
            temp_directory=str(store.tmp),
        )
        save_run(
            store,
            part.schema,
            run_id,
            records,
            scored.pairs,
            scored.apart,
            incremental=incremental,
            new=new,
        )
        if not incremental:
            save_model(store, part.schema, fingerprint, scored.model, scored.trained, run_id)
        merged = 0
        if spec.auto_merge_at is not None:
            merged = _auto_merge(store, part.schema, spec.auto_merge_at, run_id)
        seconds = {**scored.seconds, "total": round(time.monotonic() - started, 2)}
        report = RunReport(
            run_id,
            part.schema,
            scored.mode,
            records.num_rows,
            len(new) if incremental else records.num_rows,
            scored.compared,
            scored.pairs.num_rows,
            scored.trained,
            merged,
            seconds,
        )
        store.con.execute(
            "INSERT INTO resolve_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                part.schema,
                report.mode,
                now(),
                report.records,
                report.new_records,
                report.compared,
                report.pairs,
                report.trained,
                merged,
                seconds["total"],
                json.dumps(seconds),
            ],
        )
        reports.append(report)
    if progress is not None:
        progress("resolving", len(spec.schemata), len(spec.schemata))
    return reports


def _auto_merge(store: DuckDBStore, schema: str, join_at: float, run_id: str) -> int:
    """Record the system's "same" judgements for the joins clustering makes at ``join_at``.

    The clustering sees the people's judgements too: no automatic merge crosses a
    "different" verdict, and a pair a person judged is never judged again by the system.
    """
    table = store.con.execute(
        "SELECT left_id, right_id, probability FROM resolve_pairs WHERE schema = $s "
        "UNION ALL SELECT left_id, right_id, probability FROM resolve_apart WHERE schema = $s",
        {"s": schema},
    ).to_arrow_table()
    found = cluster_columns(
        table.column("left_id").to_pylist(),
        table.column("right_id").to_pylist(),
        table.column("probability").to_numpy(),
        _active(store),
        join_at=join_at,
        apart_below=min(0.05, join_at / 2),
    )
    merges = [j for j in found.joins if j.via == "score"]
    for j in merges:
        _insert(
            store,
            j.left,
            j.right,
            "same",
            SYSTEM,
            f"probability {j.probability:.4f} ≥ automatic merge threshold {join_at} (run {run_id})",
            j.probability,
        )
    if merges:
        recluster(store)
    return len(merges)


# -- reading pairs ------------------------------------------------------------------------


def _visible(store: DuckDBStore, reader: Reader) -> str:
    """A SQL predicate on a pair ``p`` (joined to records ``rl`` and ``rr``)."""
    names = store.visible_datasets(reader)
    if not names:
        return "false"
    lit = "[" + ", ".join("'" + n.replace("'", "''") + "'" for n in names) + "]::VARCHAR[]"
    return (
        f"len(list_intersect(rl.datasets, {lit})) > 0 "
        f"AND len(list_intersect(rr.datasets, {lit})) > 0"
    )


_PAIRS = """
FROM resolve_pairs p
JOIN resolve_records rl ON rl.schema = p.schema AND rl.entity_id = p.left_id
JOIN resolve_records rr ON rr.schema = p.schema AND rr.entity_id = p.right_id
LEFT JOIN resolve_canonical cl ON cl.entity_id = p.left_id
LEFT JOIN resolve_canonical cr ON cr.entity_id = p.right_id
"""


def pairs(
    store: DuckDBStore,
    reader: Reader,
    *,
    min_probability: float = 0.5,
    schema: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Candidate pairs at ``min_probability`` or more, most likely first."""
    if not 0 <= min_probability <= 1:
        raise ConfigError(f"min_probability must be from 0 to 1 (got {min_probability})")
    where = [_visible(store, reader), "p.probability >= ?"]
    params: list[Any] = [min_probability]
    if schema is not None:
        where.append("p.schema = ?")
        params.append(schema)
    rows = store.con.execute(
        "SELECT p.left_id, p.right_id, p.probability, p.match_weight, p.schema, p.rule, "
        "p.explanation, coalesce(cl.canonical_id, p.left_id) = coalesce(cr.canonical_id, "
        f"p.right_id) AS merged {_PAIRS} WHERE {' AND '.join(where)} "
        f"ORDER BY p.probability DESC, p.left_id, p.right_id LIMIT {_limit(limit)} OFFSET ?",
        [*params, offset],
    ).fetchall()
    return [_pair(r) for r in rows]


def _pair(row: Sequence[Any]) -> dict[str, Any]:
    left, right, p, weight, schema, rule, explanation, merged = row[:8]
    return {
        "left": left,
        "right": right,
        "probability": round(float(p), 6),
        "match_weight": None if weight is None else round(float(weight), 3),
        "schema": schema,
        "rule": rule,
        "merged": bool(merged),
        "explanation": json.loads(explanation) if explanation else [],
    }


def _limit(limit: int | None) -> str:
    if limit is None:
        return "ALL"
    if limit < 0:
        raise ConfigError(f"limit must not be negative (got {limit})")
    return str(int(limit))


def queue(
    store: DuckDBStore,
    reader: Reader,
    *,
    limit: int = 20,
    offset: int = 0,
    min_probability: float = 0.1,
    schema: str | None = None,
) -> list[dict[str, Any]]:
    """Pairs to review, most useful first: not yet judged, not already one entity, not
    kept apart, ordered by how uncertain the model is times how many records a "same"
    would join (uncertain pairs that join large clusters come first)."""
    if not 0 <= min_probability <= 1:
        raise ConfigError(f"min_probability must be from 0 to 1 (got {min_probability})")
    where = [
        _visible(store, reader),
        "p.probability >= ?",
        "coalesce(cl.canonical_id, p.left_id) <> coalesce(cr.canonical_id, p.right_id)",
        "NOT EXISTS (SELECT 1 FROM resolve_judgements j WHERE j.undone_at IS NULL AND "
        "j.left_id = p.left_id AND j.right_id = p.right_id)",
    ]
    params: list[Any] = [min_probability]
    if schema is not None:
        where.append("p.schema = ?")
        params.append(schema)
    rows = store.con.execute(
        f"""
        WITH sizes AS (SELECT canonical_id, count(*) AS n FROM resolve_canonical GROUP BY 1)
        SELECT p.left_id, p.right_id, p.probability, p.match_weight, p.schema, p.rule,
               p.explanation, false,
               (1 - abs(2 * p.probability - 1)) * 0.9 + 0.1 AS uncertainty,
               coalesce(sl.n, 1) + coalesce(sr.n, 1) AS joins
        {_PAIRS}
        LEFT JOIN sizes sl ON sl.canonical_id = cl.canonical_id
        LEFT JOIN sizes sr ON sr.canonical_id = cr.canonical_id
        WHERE {" AND ".join(where)}
        ORDER BY uncertainty * joins DESC, p.probability DESC, p.left_id, p.right_id
        LIMIT {_limit(limit)} OFFSET ?
        """,
        [*params, offset],
    ).fetchall()
    found = []
    for row in rows:
        item = _pair(row)
        item["usefulness"] = round(float(row[8]) * int(row[9]), 4)
        item["would_join"] = int(row[9])
        item["left_entity"] = _summary(store, reader, item["left"])
        item["right_entity"] = _summary(store, reader, item["right"])
        found.append(item)
    return found


def _summary(store: DuckDBStore, reader: Reader, record: str) -> dict[str, Any] | None:
    """The record's own properties (not merged), for side-by-side review."""
    entity = store.record(reader, record)
    if entity is None:
        return None
    return {
        "id": entity.id,
        "schema": entity.schema,
        "datasets": entity.datasets,
        "properties": entity.properties(),
    }


# -- judging ------------------------------------------------------------------------------


def _pair_key(left: str, right: str) -> tuple[str, str]:
    if left == right:
        raise ConfigError(f"a record cannot be judged against itself ({left})")
    return (left, right) if left < right else (right, left)


def _check_pair(store: DuckDBStore, reader: Reader, left: str, right: str) -> None:
    for record in (left, right):
        if store.record(reader, record) is None:
            raise NotFound(f"no entity {record!r}")


def _insert(
    store: DuckDBStore,
    left: str,
    right: str,
    verdict: str,
    author: str,
    reason: str | None,
    probability: float | None = None,
) -> int:
    a, b = _pair_key(left, right)
    row = store.con.execute(
        "INSERT INTO resolve_judgements (judgement_id, left_id, right_id, verdict, author, "
        "reason, judged_at, probability) VALUES (nextval('judgement_ids'), ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING judgement_id",
        [a, b, verdict, author, reason, now(), probability],
    ).fetchone()
    assert row is not None
    return int(row[0])


def judge(
    store: DuckDBStore,
    reader: Reader,
    left: str,
    right: str,
    verdict: str,
    *,
    reason: str | None = None,
) -> dict[str, Any]:
    """Record ``reader``'s verdict on two records, and recluster.

    A "same" that would join records judged (or kept) apart is refused with the reason,
    and nothing is recorded.
    """
    if verdict not in VERDICTS:
        raise ConfigError(f"verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    a, b = _pair_key(left, right)
    _check_pair(store, reader, a, b)
    row = store.con.execute(
        "SELECT probability FROM resolve_pairs WHERE left_id = ? AND right_id = ?", [a, b]
    ).fetchone()
    probability = float(row[0]) if row else None
    store.con.execute("BEGIN TRANSACTION")
    try:
        previous = _supersede(store, a, b, reader.name)
        judgement_id = _insert(store, a, b, verdict, reader.name, reason, probability)
        clustering = _clustering(store)
        refused = [c for c in clustering.conflicts if _pair_key(c.left, c.right) == (a, b)]
        changed = 0 if refused else _write_canonical(store, clustering)
    except BaseException:
        store.con.execute("ROLLBACK")
        raise
    if refused:  # nothing is recorded
        store.con.execute("ROLLBACK")
        raise ConfigError(
            f"cannot judge {a} and {b} the same: {refused[0].reason}; undo the "
            "'different' judgement first (recoupe resolve judgements --entity ID)"
        )
    store.con.execute("COMMIT")
    return {
        "judgement_id": judgement_id,
        "left": a,
        "right": b,
        "verdict": verdict,
        "author": reader.name,
        "reason": reason,
        "probability": probability,
        "replaces": previous,
        "entity": _canonical_of(store, a),
        "changed": changed,
    }


def _supersede(store: DuckDBStore, a: str, b: str, by: str) -> list[int]:
    """Withdraw earlier live judgements on the same pair (the latest verdict counts)."""
    rows = store.con.execute(
        "UPDATE resolve_judgements SET undone_by = ?, undone_at = ?, undo_reason = "
        "'replaced by a later judgement' WHERE left_id = ? AND right_id = ? AND "
        "undone_at IS NULL RETURNING judgement_id",
        [by, now(), a, b],
    ).fetchall()
    return [int(r[0]) for r in rows]


def undo(
    store: DuckDBStore, reader: Reader, judgement_id: int, *, reason: str | None = None
) -> dict[str, Any]:
    """Withdraw one judgement (it stays in the history, marked undone), and recluster."""
    return _undo(store, reader, [judgement_id], reason)[0]


def undo_entity(
    store: DuckDBStore, reader: Reader, entity_id: str, *, reason: str | None = None
) -> dict[str, Any]:
    """Withdraw every live "same" judgement inside a merged entity: its records part.
    All are withdrawn in one transaction, with one reclustering."""
    canonical = _canonical_of(store, entity_id)
    rows = store.con.execute(
        "SELECT j.judgement_id FROM resolve_judgements j JOIN resolve_canonical c "
        "ON c.entity_id = j.left_id WHERE c.canonical_id = ? AND j.verdict = 'same' AND "
        "j.undone_at IS NULL ORDER BY 1",
        [canonical],
    ).fetchall()
    if not rows:
        raise NotFound(f"{entity_id} is not a merged entity")
    undone = _undo(store, reader, [int(r[0]) for r in rows], reason)
    return {"entity": canonical, "undone": [u["judgement_id"] for u in undone]}


def _undo(
    store: DuckDBStore, reader: Reader, ids: list[int], reason: str | None
) -> list[dict[str, Any]]:
    found = []
    for judgement_id in ids:
        row = store.con.execute(
            "SELECT left_id, right_id, verdict, undone_at FROM resolve_judgements "
            "WHERE judgement_id = ?",
            [judgement_id],
        ).fetchone()
        if row is None:
            raise NotFound(f"no judgement {judgement_id}")
        left, right, verdict, undone = row
        _check_pair(store, reader, left, right)
        if undone is not None:
            raise ConfigError(f"judgement {judgement_id} was already undone at {undone}")
        found.append((judgement_id, left, right, verdict))
    store.con.execute("BEGIN TRANSACTION")
    try:
        store.con.executemany(
            "UPDATE resolve_judgements SET undone_by = ?, undone_at = ?, undo_reason = ? "
            "WHERE judgement_id = ?",
            [(reader.name, now(), reason, j[0]) for j in found],
        )
        changed = _write_canonical(store, _clustering(store))
        store.con.execute("COMMIT")
    except BaseException:
        store.con.execute("ROLLBACK")
        raise
    return [
        {
            "judgement_id": judgement_id,
            "left": left,
            "right": right,
            "verdict": verdict,
            "undone_by": reader.name,
            "left_entity": _canonical_of(store, left),
            "right_entity": _canonical_of(store, right),
            "changed": changed,
        }
        for judgement_id, left, right, verdict in found
    ]


def _active(store: DuckDBStore) -> list[Judgement]:
    rows = store.con.execute(
        "SELECT left_id, right_id, verdict FROM resolve_judgements WHERE undone_at IS NULL "
        "ORDER BY judgement_id"
    ).fetchall()
    return [Judgement(a, b, v) for a, b, v in rows]


def _clustering(store: DuckDBStore) -> Clustering:
    return cluster([], _active(store))


def recluster(store: DuckDBStore) -> int:
    """Rewrite the canonical mapping from the live judgements; returns records moved."""
    return _write_canonical(store, _clustering(store))


def _write_canonical(store: DuckDBStore, clustering: Clustering) -> int:
    rows = [
        (record, canonical)
        for canonical, members in clustering.members().items()
        for record in members
    ]
    con = store.con
    before = dict(con.execute("SELECT entity_id, canonical_id FROM resolve_canonical").fetchall())
    after = dict(rows)
    if before == after:
        return 0
    con.execute("DELETE FROM resolve_canonical")
    if rows:
        con.executemany("INSERT INTO resolve_canonical VALUES (?, ?)", rows)
    version = bump_resolution(store)
    moved = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    touched = moved | {before[k] for k in moved if k in before}
    touched |= {after[k] for k in moved if k in after}
    record_changes(store, version, sorted(touched))
    return len(moved)


def _canonical_of(store: DuckDBStore, record: str) -> str:
    row = store.con.execute(
        "SELECT canonical_id FROM resolve_canonical WHERE entity_id = ?", [record]
    ).fetchone()
    return str(row[0]) if row else record


def judgements(
    store: DuckDBStore, reader: Reader, *, entity_id: str | None = None, limit: int | None = 100
) -> list[dict[str, Any]]:
    """Judgements, newest first (those on a merged entity's records with ``entity_id``)."""
    where = "true"
    params: list[Any] = []
    if entity_id is not None:
        canonical = _canonical_of(store, entity_id)
        where = (
            "j.left_id IN (SELECT entity_id FROM resolve_canonical WHERE canonical_id = ? "
            "UNION SELECT ?) OR j.right_id IN (SELECT entity_id FROM resolve_canonical "
            "WHERE canonical_id = ? UNION SELECT ?)"
        )
        params = [canonical, entity_id, canonical, entity_id]
    rows = store.con.execute(
        "SELECT judgement_id, left_id, right_id, verdict, author, reason, judged_at, "
        "probability, undone_by, undone_at, undo_reason FROM resolve_judgements j "
        f"WHERE {where} ORDER BY judgement_id DESC LIMIT {_limit(limit)}",
        params,
    ).fetchall()
    found = []
    for r in rows:
        if store.record(reader, r[1]) is None or store.record(reader, r[2]) is None:
            continue
        found.append(
            {
                "judgement_id": int(r[0]),
                "left": r[1],
                "right": r[2],
                "verdict": r[3],
                "author": r[4],
                "reason": r[5],
                "judged_at": r[6].isoformat(timespec="seconds"),
                "probability": r[7],
                "undone_by": r[8],
                "undone_at": None if r[9] is None else r[9].isoformat(timespec="seconds"),
                "undo_reason": r[10],
            }
        )
    return found


def explain(store: DuckDBStore, reader: Reader, entity_id: str) -> dict[str, Any]:
    """A merged entity's records (those ``reader`` may see), where each came from, and the
    judgements and scores that joined them."""
    canonical = _canonical_of(store, entity_id)
    members = [
        r[0]
        for r in store.con.execute(
            "SELECT entity_id FROM resolve_canonical WHERE canonical_id = ? ORDER BY 1",
            [canonical],
        ).fetchall()
    ] or [canonical]
    records = []
    for member in members:
        entity = store.record(reader, member)
        if entity is None:
            continue
        records.append(
            {
                "id": entity.id,
                "schema": entity.schema,
                "datasets": entity.datasets,
                "properties": entity.properties(),
                "sources": sorted(
                    {
                        f"{s.dataset}:{s.source_file}:{s.source_row}"
                        for s in entity.statements
                        if s.source_file is not None
                    }
                ),
            }
        )
    if not records:
        raise NotFound(f"no entity {entity_id!r}")
    seen: set[str] = {str(r["id"]) for r in records}
    joins = [
        j
        for j in judgements(store, reader, entity_id=canonical, limit=None)
        if j["undone_at"] is None and j["left"] in seen and j["right"] in seen
    ]
    scored = store.con.execute(
        "SELECT left_id, right_id, probability, match_weight, schema, rule, explanation, "
        "true FROM resolve_pairs WHERE list_contains(?, left_id) AND list_contains(?, right_id)",
        [sorted(seen), sorted(seen)],
    ).fetchall()
    return {
        "entity": canonical,
        "merged": len(members) > 1,
        "records": records,
        "judgements": joins,
        "pairs": [_pair(r) for r in scored],
    }
