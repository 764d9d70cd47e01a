"""Resolution tables in the store: records' features, scored pairs, judgements, clusters.

- ``resolve_records``: every record of a matchable schema last compared, with the digest
  of its features (a changed record is compared again on the next run);
- ``resolve_pairs``: candidate pairs with probability, match weight, rule and the
  explanation of each comparison;
- ``resolve_apart``: the pairs scored below the spec's ``keep_above``, ids and probability
  only: not for review, but evidence that two records are apart when clustering;
- ``resolve_judgements``: every verdict (same, different, unsure) with who, when and why;
  undone ones stay, with who undid them and when; automatic merges are judgements by
  ``system``;
- ``resolve_canonical``: the record → canonical entity mapping of records in a cluster
  of more than one. The canonical id is the smallest record id of the cluster.
- ``resolve_models``: the trained model of each schema, with the spec digest it fits.

The ``meta`` key ``resolution`` counts changes of the canonical mapping, and
``resolve_changes`` lists the ids each change touched (records that moved, and the
canonical ids they left and joined): the search index updates those entities only; the
graph, built before a change, is built again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from followthemoney.model import Model

from recoupe.resolve.names import name_form, name_keys
from recoupe.resolve.spec import SchemaSpec
from recoupe.sql import values_table

if TYPE_CHECKING:
    from recoupe.store.duckdb import DuckDBStore

DDL = """
CREATE TABLE IF NOT EXISTS resolve_records (
    schema VARCHAR NOT NULL, entity_id VARCHAR NOT NULL, datasets VARCHAR[] NOT NULL,
    fingerprint VARCHAR NOT NULL, run_id VARCHAR NOT NULL, PRIMARY KEY (schema, entity_id)
);
CREATE TABLE IF NOT EXISTS resolve_pairs (
    schema VARCHAR NOT NULL, left_id VARCHAR NOT NULL, right_id VARCHAR NOT NULL,
    probability DOUBLE NOT NULL, match_weight DOUBLE, rule VARCHAR, explanation VARCHAR,
    run_id VARCHAR NOT NULL, PRIMARY KEY (left_id, right_id)
);
CREATE TABLE IF NOT EXISTS resolve_apart (
    schema VARCHAR NOT NULL, left_id VARCHAR NOT NULL, right_id VARCHAR NOT NULL,
    probability DOUBLE NOT NULL, run_id VARCHAR NOT NULL, PRIMARY KEY (left_id, right_id)
);
CREATE SEQUENCE IF NOT EXISTS judgement_ids START 1;
CREATE TABLE IF NOT EXISTS resolve_judgements (
    judgement_id BIGINT PRIMARY KEY, left_id VARCHAR NOT NULL, right_id VARCHAR NOT NULL,
    verdict VARCHAR NOT NULL, author VARCHAR NOT NULL, reason VARCHAR, judged_at TIMESTAMP NOT NULL,
    probability DOUBLE, undone_by VARCHAR, undone_at TIMESTAMP, undo_reason VARCHAR
);
CREATE TABLE IF NOT EXISTS resolve_canonical (
    entity_id VARCHAR PRIMARY KEY, canonical_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS resolve_changes (version BIGINT NOT NULL, entity_id VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS resolve_models (
    schema VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, model VARCHAR NOT NULL,
    trained BOOLEAN NOT NULL, run_id VARCHAR NOT NULL, saved_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS resolve_runs (
    run_id VARCHAR PRIMARY KEY, schema VARCHAR NOT NULL, mode VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL, records BIGINT, new_records BIGINT, compared BIGINT,
    pairs BIGINT, trained BOOLEAN, merged BIGINT, seconds DOUBLE, detail VARCHAR
);
"""

# Schemata whose values describe the entity they are linked to.
ATTRIBUTE_SCHEMATA = ("Phone", "Passport", "Identification", "BankAccount", "Address")
_NAME_PROPS = ("name", "alias", "previousName")
# Identifiers that many entities share (a bank's BIC, a sanctions programme): not evidence.
_NOT_OWN_IDS = frozenset({"programId", "wikidataId", "bic", "swiftBic", "osmId", "googlePlaceId"})


def feature_props(model: Model, schema: str) -> list[tuple[str, str, str, bool]]:
    """(schema, property, feature, own) for the record schema and linked attributes."""
    rows: list[tuple[str, str, str, bool]] = []
    for name in (schema, *ATTRIBUTE_SCHEMATA):
        sc = model.get(name)
        if sc is None:
            continue
        own = name == schema
        for prop in sc.properties.values():
            kind = prop.type.name
            feature = None
            if kind == "phone":
                feature = "phones"
            elif kind == "email":
                feature = "emails"
            elif kind in ("identifier", "iban") and prop.name not in _NOT_OWN_IDS:
                feature = "ids"
            elif kind == "country" and own:
                feature = "country"
            elif kind == "address":
                feature = "address"
            elif own and prop.name == "birthDate":
                feature = "birth_date"
            elif own and prop.name in _NAME_PROPS:
                feature = "names"
            elif own and prop.name == "firstName":
                feature = "given_name"
            elif own and prop.name == "lastName":
                feature = "surname"
            if feature is not None:
                rows.append((name, prop.name, feature, own))
    return rows


def build_records(store: DuckDBStore, part: SchemaSpec) -> pa.Table:
    """The records of ``part.schema`` with their features and a digest of them."""
    con = store.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __feature_props AS SELECT schema, prop, feature, "
        "own::BOOLEAN AS own FROM "
        + values_table(
            [(s, p, f, str(o).lower()) for s, p, f, o in feature_props(store.model, part.schema)],
            "schema, prop, feature, own",
        )
    )
    attributes = "(" + ", ".join(f"'{s}'" for s in ATTRIBUTE_SCHEMATA) + ")"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __values AS
        WITH recs AS (SELECT DISTINCT entity_id FROM statements
                      WHERE schema = $schema AND prop = 'id'),
        own AS (SELECT st.entity_id AS rid, fp.feature, st.prop, st.value, f.dataset
                FROM statements st JOIN recs USING (entity_id)
                JOIN __feature_props fp ON fp.own AND fp.schema = st.schema
                     AND fp.prop = st.prop
                JOIN sources f USING (source_id)),
        link AS (SELECT e.source AS rid, e.target AS other
                 FROM edges e SEMI JOIN recs r ON r.entity_id = e.source
                 UNION
                 SELECT e.target AS rid, e.source AS other
                 FROM edges e SEMI JOIN recs r ON r.entity_id = e.target),
        linked AS (SELECT l.rid, fp.feature, st.prop, st.value, NULL AS dataset
                   FROM link l JOIN statements st ON st.entity_id = l.other
                   JOIN __feature_props fp ON NOT fp.own AND fp.schema = st.schema
                        AND fp.prop = st.prop
                   WHERE st.schema IN {attributes})
        SELECT * FROM own UNION ALL SELECT * FROM linked
        """,
        {"schema": part.schema},
    )
    names = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT value FROM __values "
            "WHERE feature IN ('names', 'given_name', 'surname')"
        ).fetchall()
    ]
    forms = pa.table(
        {
            "value": pa.array(names, pa.string()),
            "form": pa.array([name_form(n) for n in names], pa.string()),
            "keys": pa.array([name_keys(n) for n in names], pa.list_(pa.string())),
        }
    )
    con.register("__name_forms", forms)
    try:
        table = con.execute(
            """
            WITH v AS (SELECT * FROM __values),
            ds AS (SELECT rid, list(DISTINCT dataset ORDER BY dataset) AS datasets
                   FROM v WHERE dataset IS NOT NULL GROUP BY rid),
            recs AS (SELECT DISTINCT entity_id AS rid FROM statements
                     WHERE schema = $schema AND prop = 'id'),
            nm AS (SELECT v.rid, arg_min(n.form, (v.prop <> 'name', n.form)) AS name,
                          list_sort(list_distinct(flatten(list(n.keys)))) AS name_keys
                   FROM v JOIN __name_forms n ON n.value = v.value
                   WHERE v.feature = 'names' GROUP BY v.rid),
            parts AS (SELECT v.rid,
                        min(n.form) FILTER (WHERE v.feature = 'given_name') AS given_name,
                        min(n.form) FILTER (WHERE v.feature = 'surname') AS surname
                      FROM v JOIN __name_forms n ON n.value = v.value
                      WHERE v.feature IN ('given_name', 'surname') GROUP BY v.rid),
            fx AS (SELECT rid,
                     min(left(value, 10)) FILTER (WHERE feature = 'birth_date') AS birth_date,
                     list_sort(list_distinct(list(right(regexp_replace(value, '[^0-9]', '', 'g'),
                         9)) FILTER (WHERE feature = 'phones' AND length(regexp_replace(value,
                         '[^0-9]', '', 'g')) >= 6))) AS phones,
                     list_sort(list_distinct(list(lower(trim(value)))
                         FILTER (WHERE feature = 'emails'))) AS emails,
                     list_sort(list_distinct(list(upper(regexp_replace(value, '[^0-9A-Za-z]', '',
                         'g'))) FILTER (WHERE feature = 'ids' AND length(regexp_replace(value,
                         '[^0-9A-Za-z]', '', 'g')) >= 5))) AS ids,
                     min(lower(value)) FILTER (WHERE feature = 'country') AS country,
                     min(lower(strip_accents(value))) FILTER (WHERE feature = 'address')
                         AS address
                   FROM v GROUP BY rid)
            SELECT recs.rid AS unique_id, coalesce(ds.datasets[1], '') AS source_dataset,
                   coalesce(ds.datasets, []) AS datasets, nm.name,
                   coalesce(nm.name_keys, []) AS name_keys, parts.given_name,
                   parts.surname, fx.birth_date,
                   coalesce(fx.phones, []) AS phones, coalesce(fx.emails, []) AS emails,
                   coalesce(fx.ids, []) AS ids, fx.country, fx.address,
                   md5(concat_ws('|', nm.name, nm.name_keys::VARCHAR, fx.birth_date,
                       fx.phones::VARCHAR, fx.emails::VARCHAR, fx.ids::VARCHAR, fx.country,
                       fx.address, parts.given_name, parts.surname)) AS fingerprint
            FROM recs LEFT JOIN ds USING (rid) LEFT JOIN nm USING (rid)
            LEFT JOIN parts USING (rid) LEFT JOIN fx USING (rid)
            ORDER BY unique_id
            """,
            {"schema": part.schema},
        ).to_arrow_table()
    finally:
        con.unregister("__name_forms")
        con.execute("DROP TABLE IF EXISTS __values")
    return table


def changed_records(store: DuckDBStore, schema: str, records: pa.Table) -> tuple[list[str], int]:
    """(ids of records new or changed since the last run, records gone since)."""
    con = store.con
    con.register("__current", records.select(["unique_id", "fingerprint"]))
    try:
        new = [
            r[0]
            for r in con.execute(
                "SELECT c.unique_id FROM __current c LEFT JOIN resolve_records r "
                "ON r.schema = ? AND r.entity_id = c.unique_id "
                "WHERE r.fingerprint IS DISTINCT FROM c.fingerprint ORDER BY 1",
                [schema],
            ).fetchall()
        ]
        gone = con.execute(
            "SELECT count(*) FROM resolve_records r WHERE r.schema = ? AND r.entity_id NOT IN "
            "(SELECT unique_id FROM __current)",
            [schema],
        ).fetchone()
    finally:
        con.unregister("__current")
    return new, int(gone[0]) if gone else 0


def save_run(
    store: DuckDBStore,
    schema: str,
    run_id: str,
    records: pa.Table,
    pairs: pa.Table,
    apart: pa.Table,
    *,
    incremental: bool,
    new: Sequence[str],
) -> None:
    """Replace the pairs and the pairs scored apart (all of the schema's, or those of new
    records) and the records."""
    con = store.con
    con.register("__records", records.select(["unique_id", "datasets", "fingerprint"]))
    con.register("__pairs", pairs)
    con.register("__apart", apart)
    con.execute("BEGIN TRANSACTION")
    try:
        if incremental:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE __touched AS SELECT unnest(?::VARCHAR[]) AS id "
                "UNION SELECT entity_id FROM resolve_records WHERE schema = ? AND entity_id "
                "NOT IN (SELECT unique_id FROM __records)",
                [list(new), schema],
            )
            for table in ("resolve_pairs", "resolve_apart"):
                con.execute(
                    f"DELETE FROM {table} WHERE schema = ? AND (left_id IN (SELECT id FROM "
                    "__touched) OR right_id IN (SELECT id FROM __touched))",
                    [schema],
                )
        else:
            con.execute("DELETE FROM resolve_pairs WHERE schema = ?", [schema])
            con.execute("DELETE FROM resolve_apart WHERE schema = ?", [schema])
        con.execute(
            "INSERT OR REPLACE INTO resolve_pairs SELECT ?, left_id, right_id, probability, "
            "match_weight, rule, explanation, ? FROM __pairs",
            [schema, run_id],
        )
        con.execute(
            "INSERT OR REPLACE INTO resolve_apart SELECT ?, left_id, right_id, probability, ? "
            "FROM __apart",
            [schema, run_id],
        )
        con.execute("DELETE FROM resolve_records WHERE schema = ?", [schema])
        con.execute(
            "INSERT INTO resolve_records SELECT ?, unique_id, datasets, fingerprint, ? "
            "FROM __records",
            [schema, run_id],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("__records")
        con.unregister("__pairs")
        con.unregister("__apart")


def save_model(
    store: DuckDBStore,
    schema: str,
    fingerprint: str,
    model: dict[str, Any],
    trained: bool,
    run_id: str,
) -> None:
    store.con.execute(
        "INSERT OR REPLACE INTO resolve_models VALUES (?, ?, ?, ?, ?, ?)",
        [schema, fingerprint, json.dumps(model), trained, run_id, now()],
    )


def load_model(store: DuckDBStore, schema: str, fingerprint: str) -> dict[str, Any] | None:
    row = store.con.execute(
        "SELECT model FROM resolve_models WHERE schema = ? AND fingerprint = ?",
        [schema, fingerprint],
    ).fetchone()
    return json.loads(row[0]) if row else None


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def bump_resolution(store: DuckDBStore) -> int:
    """Count one more change of the canonical mapping; returns the new count."""
    store.con.execute(
        "INSERT OR REPLACE INTO meta SELECT 'resolution', (coalesce(max(value::BIGINT), 0) + 1)"
        "::VARCHAR FROM meta WHERE key = 'resolution'"
    )
    return resolution_version(store)


MAX_CHANGES = 50_000
"""Beyond this many touched ids, derived data is rebuilt rather than updated."""


def record_changes(store: DuckDBStore, version: int, ids: Sequence[str]) -> None:
    if ids:
        store.con.executemany(
            "INSERT INTO resolve_changes VALUES (?, ?)", [(version, i) for i in sorted(ids)]
        )


def changes_since(store: DuckDBStore, version: int) -> list[str] | None:
    """Ids touched by changes after ``version`` (None: too many, rebuild instead)."""
    rows = store.con.execute(
        "SELECT DISTINCT entity_id FROM resolve_changes WHERE version > ? ORDER BY 1 LIMIT ?",
        [version, MAX_CHANGES + 1],
    ).fetchall()
    if len(rows) > MAX_CHANGES:
        return None
    return [str(r[0]) for r in rows]


def resolution_version(store: DuckDBStore) -> int:
    row = store.con.execute(
        "SELECT coalesce(max(value::BIGINT), 0) FROM meta WHERE key = 'resolution'"
    ).fetchone()
    return int(row[0]) if row else 0
