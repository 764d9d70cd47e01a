"""Candidate pairs scored by Splink on DuckDB, with the rules and the explanation of each.

:func:`link` takes the records of one schema as an Arrow table (``unique_id``,
``source_dataset`` and the features of :data:`recoupe.resolve.spec.FEATURES`), trains a
model or reuses a trained one, and returns every candidate pair worth keeping:

- ``probability`` and ``match_weight`` from the model, raised to the rule's probability
  when a deterministic rule holds (the same identifier, countries not in conflict);
- ``explanation``: for each comparison, the level it reached and the match weight (log2 of
  the Bayes factor, term frequencies included) it contributed.

Splink works on its own in-memory DuckDB connection, never on the store's file. An
incremental run (``new`` given, with a trained ``model``) scores the new records against
each other and against the old ones, and no old pair again.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from recoupe.errors import ConfigError
from recoupe.resolve.spec import (
    LEVELS,
    SchemaSpec,
    blocking_rule,
    splink_settings,
)

log = logging.getLogger("recoupe.resolve")
Stage = Callable[[str], None]


@dataclass(frozen=True)
class Scored:
    """What one scoring pass produced."""

    pairs: pa.Table
    """left, right, probability, match_weight, rule, explanation (JSON)."""
    apart: pa.Table
    """left_id, right_id, probability of the pairs scored below ``keep_above``: not kept
    for review, but evidence that their records are apart (see :mod:`.clusters`)."""
    model: dict[str, Any]
    """Splink's settings with the trained m and u values: reused by incremental runs."""
    trained: bool
    mode: str
    """"full" or "incremental"."""
    compared: int
    """Candidate pairs the model scored (before ``keep_above``)."""
    seconds: dict[str, float]

    def evidence(self) -> pa.Table:
        """left_id, right_id, probability of every scored pair, kept or apart: what
        clustering weighs."""
        cols = ["left_id", "right_id", "probability"]
        return pa.concat_tables([self.pairs.select(cols), self.apart.select(cols)])


def link(
    records: pa.Table,
    part: SchemaSpec,
    *,
    keep_above: float,
    model: dict[str, Any] | None = None,
    new: Sequence[str] | None = None,
    threads: int | None = None,
    memory_limit: str = "3GB",
    temp_directory: str | None = None,
    stage: Stage | None = None,
) -> Scored:
    """Score the candidate pairs of ``records`` (see the module docstring).

    ``temp_directory`` is where the engine spills what does not fit ``memory_limit`` (the
    workspace's ``tmp`` folder when called from the store; a private temporary folder else).
    """
    missing = [f for f in part.features if f not in records.column_names]
    if missing or "unique_id" not in records.column_names:
        raise ConfigError(f"records of {part.schema} lack the columns {missing or ['unique_id']}")
    spill = tempfile.mkdtemp(prefix="recoupe-resolve-") if temp_directory is None else ""
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "memory_limit": memory_limit,
            "temp_directory": temp_directory or spill,
            **({"threads": threads} if threads else {}),
        },
    )
    try:
        return _link(con, records, part, keep_above, model, new, stage)
    finally:
        con.close()
        if temp_directory is None:
            shutil.rmtree(spill, ignore_errors=True)


def _link(
    con: duckdb.DuckDBPyConnection,
    records: pa.Table,
    part: SchemaSpec,
    keep_above: float,
    model: dict[str, Any] | None,
    new: Sequence[str] | None,
    stage: Stage | None,
) -> Scored:
    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI

    say = stage or (lambda _: None)
    seconds: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        seconds[name] = round(now - clock, 2)
        clock = now

    con.register("__arrow_records", records)
    con.execute("CREATE TABLE records AS SELECT * FROM __arrow_records")
    con.unregister("__arrow_records")
    count = records.num_rows
    incremental = model is not None and new is not None
    api = DuckDBAPI(connection=con)
    splink_logger = logging.getLogger("splink")
    level = splink_logger.level
    splink_logger.setLevel(logging.ERROR)  # what Splink warns of, the report says
    try:
        trained = False
        if incremental:
            assert model is not None
            assert new is not None
            say(f"{part.schema}: scoring {len(new):,} new records against {count:,}")
            con.execute("CREATE TABLE new_ids AS SELECT unnest(?::VARCHAR[]) AS unique_id", [new])
            con.execute(
                "CREATE TABLE new_records AS SELECT * FROM records SEMI JOIN new_ids USING "
                "(unique_id)"
            )
            con.execute(
                "CREATE TABLE old_records AS SELECT * FROM records ANTI JOIN new_ids USING "
                "(unique_id)"
            )
            linker = Linker(api.register("records"), model, log_level=logging.ERROR)
            _term_frequencies(con, api, linker, part)
            fresh = api.register("new_records")
            parts = [linker.inference.predict_within(fresh)]
            if _rows(con, "old_records"):
                old = api.register("old_records")
                parts.append(linker.inference.predict_between(fresh, old))
            lap("predict")
            tables = [p.physical_name for p in parts]
            settings = model
        else:
            settings = splink_settings(part, "duckdb")
            settings["retain_intermediate_calculation_columns"] = True
            settings["retain_matching_columns"] = True
            linker = Linker(api.register("records"), settings, log_level=logging.ERROR)
            _term_frequencies(con, api, linker, part)
            if count >= part.training.min_records:
                say(f"{part.schema}: training on {count:,} records")
                trained = _train(linker, part)
                lap("train")
            say(f"{part.schema}: scoring candidate pairs")
            tables = [linker.inference.predict().physical_name]
            lap("predict")
            settings = linker.misc.save_model_to_json(out_path=None)
    finally:
        splink_logger.setLevel(level)
    scored = " UNION ALL ".join(f"SELECT * FROM {t}" for t in tables)
    compared = _rows(con, f"({scored})")
    pairs = _keep(con, scored, part, keep_above)
    apart = _apart(con, scored, pairs, keep_above)
    lap("rules")
    mode = "incremental" if incremental else "full"
    return Scored(pairs, apart, settings, trained, mode, compared, seconds)


def _term_frequencies(
    con: duckdb.DuckDBPyConnection, api: Any, linker: Any, part: SchemaSpec
) -> None:
    """Register the term frequencies of each term-frequency comparison, counted over
    the other people who bear a value, not over records.

    The frequency of a value stands for the chance that a stranger's record bears it.
    Splink counts records: a rare name written by one person's three records counts three
    times, as if three strangers bore it. Here a value's people are its records times the
    share of distinct birth dates among its dated records (three records of one person
    with one birth date are one person; a value no dated record bears keeps its count of
    records), and its frequency is the people *other* than the one at hand (at least half
    a person, for those the data does not show) over all people.
    """
    dated = "birth_date" in part.features
    for comp in part.comparisons:
        f = comp.feature
        if not comp.term_frequency or part.is_list(f):
            continue
        people = (
            "count(*) * coalesce(count(DISTINCT birth_date) / nullif(count(birth_date), 0), 1)"
            if dated
            else "count(*)"
        )
        con.execute(
            f"""CREATE OR REPLACE TABLE __tf_{f} AS
            SELECT {f}, greatest(c - 1, 0.5) / sum(c) OVER () AS tf_{f}
            FROM (SELECT {f}, {people} AS c FROM records WHERE {f} IS NOT NULL GROUP BY {f})"""
        )
        linker.table_management.register_term_frequency_lookup(api.register(f"__tf_{f}"), f)


def _apart(
    con: duckdb.DuckDBPyConnection, scored: str, kept: pa.Table, keep_above: float
) -> pa.Table:
    """The scored pairs below ``keep_above`` (ids and probability only), less those kept
    by a deterministic rule."""
    con.register("__kept", kept.select(["left_id", "right_id"]))
    try:
        return con.execute(
            f"""
            SELECT s.left_id, s.right_id, s.probability FROM (
                SELECT least(unique_id_l, unique_id_r) AS left_id,
                       greatest(unique_id_l, unique_id_r) AS right_id,
                       max(match_probability) AS probability
                FROM ({scored}) GROUP BY 1, 2 HAVING max(match_probability) < $keep) s
            ANTI JOIN __kept k ON k.left_id = s.left_id AND k.right_id = s.right_id
            ORDER BY 1, 2
            """,
            {"keep": keep_above},
        ).to_arrow_table()
    finally:
        con.unregister("__kept")


def _train(linker: Any, part: SchemaSpec) -> bool:
    """Train u by random sampling, then m by EM on each training blocking rule.

    EM on data too small or too uniform may fail to converge; the comparisons it could
    not train keep the spec's starting values and the run says so in the log.
    """
    from splink.internals.exceptions import SplinkException

    t = part.training
    features = {c.feature for c in part.comparisons}
    exact = ["l.name = r.name"]
    if "birth_date" in features:
        exact.append("l.birth_date = r.birth_date")
    try:
        linker.training.estimate_probability_two_random_records_match(
            [" AND ".join(exact)], recall=0.5
        )
    except (SplinkException, ValueError, ZeroDivisionError) as exc:
        log.warning("%s: kept the prior %s (%s)", part.schema, t.prior, exc)
    linker.training.estimate_u_using_random_sampling(max_pairs=t.u_max_pairs, seed=t.seed)
    trained = True
    for rule in t.em_blocking:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                blocking_rule(rule, part.extra_lists),
                fix_probability_two_random_records_match=True,
            )
        except (SplinkException, ValueError, ZeroDivisionError) as exc:
            log.warning("%s: EM on %s did not train (%s)", part.schema, rule, exc)
            trained = False
    return trained


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _explanation_sql(part: SchemaSpec) -> str:
    """A JSON list: for each comparison, its level's label and its match weight."""
    from recoupe.resolve.spec import levels_sql

    items = []
    for comp in part.comparisons:
        f = comp.feature
        labels = [label for _, label in levels_sql(comp, "duckdb")]
        top = LEVELS[comp.kind]
        cases = " ".join(f"WHEN {top - i} THEN '{label}'" for i, label in enumerate(labels))
        tf = f" + coalesce(mw_tf_adj_{f}, 0)" if comp.term_frequency and not part.is_list(f) else ""
        items.append(
            f"{{'feature': '{f}', 'level': CASE gamma_{f} {cases} WHEN -1 THEN 'unknown' "
            f"ELSE 'different' END, 'weight': round(mw_{f}{tf}, 2) + 0.0}}"
        )
    return "[" + ", ".join(items) + "]"


def _keep(
    con: duckdb.DuckDBPyConnection, scored: str, part: SchemaSpec, keep_above: float
) -> pa.Table:
    """The scored pairs above ``keep_above``, with deterministic rules applied."""
    rules = []
    for rule in part.rules:
        f = rule.feature
        is_list = part.is_list(f)
        country = (
            " AND (l.country IS NULL OR r.country IS NULL OR l.country = r.country)"
            if "country" in part.features
            else ""
        )
        shared = f"len(list_intersect(l.{f}, r.{f})) > 0" if is_list else f"l.{f} = r.{f}"
        explode = (
            f"(SELECT unique_id, unnest({f}) AS {f} FROM records)"
            if is_list
            else f"(SELECT unique_id, {f} FROM records WHERE {f} IS NOT NULL)"
        )
        rules.append(
            f"""SELECT DISTINCT least(l.unique_id, r.unique_id) AS a,
                       greatest(l.unique_id, r.unique_id) AS b,
                       '{rule.name.replace("'", "''")}' AS rule, {rule.probability} AS p
                FROM {explode} lx JOIN {explode} rx ON lx.{f} = rx.{f}
                     AND lx.unique_id < rx.unique_id
                JOIN records l ON l.unique_id = lx.unique_id
                JOIN records r ON r.unique_id = rx.unique_id
                WHERE {shared}{country}"""
        )
    ruled = (
        " UNION ALL ".join(rules)
        if rules
        else (
            "SELECT NULL::VARCHAR AS a, NULL::VARCHAR AS b, NULL::VARCHAR AS rule, "
            "NULL::DOUBLE AS p WHERE false"
        )
    )
    explanation = _explanation_sql(part)
    return con.execute(
        f"""
        WITH r AS (SELECT a, b, arg_max(rule, p) AS rule, max(p) AS p FROM ({ruled})
                   GROUP BY a, b),
        s0 AS (SELECT least(unique_id_l, unique_id_r) AS a,
                      greatest(unique_id_l, unique_id_r) AS b, * FROM ({scored})),
        s AS (SELECT a, b, match_probability, match_weight,
                     to_json({explanation})::VARCHAR AS explanation  -- only for kept pairs
              FROM s0 WHERE match_probability >= $keep OR (a, b) IN (SELECT (a, b) FROM r)),
        s1 AS (SELECT * FROM s QUALIFY row_number() OVER (PARTITION BY a, b
               ORDER BY match_probability DESC) = 1)
        SELECT coalesce(s1.a, r.a) AS left_id, coalesce(s1.b, r.b) AS right_id,
               greatest(coalesce(s1.match_probability, 0), coalesce(r.p, 0)) AS probability,
               s1.match_weight, r.rule, coalesce(s1.explanation, '[]') AS explanation
        FROM s1 FULL JOIN r ON s1.a = r.a AND s1.b = r.b
        WHERE greatest(coalesce(s1.match_probability, 0), coalesce(r.p, 0)) >= $keep
        ORDER BY left_id, right_id
        """,
        {"keep": keep_above},
    ).to_arrow_table()
