"""Readers: load a source into a DuckDB table of text columns, with row numbers.

This module is the only place ingestion touches source files or databases. Each reader
creates a temporary table ``{table}`` with a ``__row BIGINT`` column (the 1-based record
number in the file, header excluded) and one ``VARCHAR`` column per source column, and
returns the rows that could not even be parsed (wrong column count, broken quoting) as
:class:`ParseReject` so that they are reported, never lost.
"""

from __future__ import annotations

import codecs
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from recoupe.errors import EncodingError, SourceError
from recoupe.mapping.spec import SourceSpec
from recoupe.sql import quote_ident, quote_str

_NATIVE_ENCODINGS = {"utf-8", "utf8", "utf-8-sig"}
_CHUNK = 1 << 22


@dataclass(frozen=True)
class ParseReject:
    row: int
    record: str
    reason: str


@dataclass(frozen=True)
class LoadedSource:
    table: str
    file: str
    rows: int
    columns: tuple[str, ...]
    rejects: tuple[ParseReject, ...]


def iter_parts(source: SourceSpec) -> Iterator[str]:
    """The parts of a source loaded one by one: its files, or its single SQL query."""
    if source.format == "sql":
        yield source.label
    else:
        yield from source.paths


def load_part(
    con: duckdb.DuckDBPyConnection, source: SourceSpec, part: str, table: str, workdir: Path
) -> LoadedSource:
    """Load one part of ``source`` into the temporary table ``table``."""
    if source.format == "sql":
        return _load_sql(con, source, table)
    path = Path(part)
    if not path.is_file():
        raise SourceError("source file not found", path=part)
    if not os.access(path, os.R_OK):
        raise SourceError("source file is not readable (permission denied)", path=part)
    if source.format in ("csv", "tsv"):
        return _load_csv(con, source, path, table, workdir)
    if source.format in ("jsonl", "json"):
        check_utf8(path, source.encoding)
        fmt = "newline_delimited" if source.format == "jsonl" else "array"
        scan = f"read_json({quote_str(str(path))}, format={quote_str(fmt)}, records=true)"
        return _materialise(con, scan, table, str(path), cast_json=True)
    if source.format == "parquet":
        scan = f"read_parquet({quote_str(str(path))})"
        return _materialise(con, scan, table, str(path), cast_json=True)
    if source.format == "excel":
        return _load_excel(con, source, path, table)
    raise SourceError(f"unsupported source format {source.format!r}", path=part)


def _materialise(
    con: duckdb.DuckDBPyConnection,
    scan: str,
    table: str,
    label: str,
    *,
    cast_json: bool = False,
    rejects: tuple[ParseReject, ...] = (),
) -> LoadedSource:
    try:
        if scan != f"{table}__raw":  # readers that scan the source here, not beforehand
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table}__raw AS SELECT * FROM {scan}")
        described = con.execute(f"DESCRIBE {table}__raw").fetchall()
    except duckdb.Error as exc:
        raise SourceError(f"cannot read: {_first_line(exc)}", path=label) from exc
    columns = tuple(str(row[0]) for row in described)
    casts = []
    for name, ctype in ((str(r[0]), str(r[1])) for r in described):
        col = quote_ident(name)
        nested = cast_json and (ctype.endswith("]") or ctype.startswith(("STRUCT", "MAP", "JSON")))
        expr = f"to_json({col})::VARCHAR" if nested else f"{col}::VARCHAR"
        casts.append(f"{expr} AS {col}")
    # Row ids are sequential in insertion order; inside a transaction they do not start at 0.
    base_row = con.execute(f"SELECT coalesce(min(rowid), 0) FROM {table}__raw").fetchone()
    row_expr = _row_number_sql(rejects, f"(rowid - {int(base_row[0]) if base_row else 0})")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {row_expr} AS __row"
        f"{', ' if casts else ''}{', '.join(casts)} FROM {table}__raw"
    )
    con.execute(f"DROP TABLE {table}__raw")
    count = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    rows = int(count[0]) if count else 0
    return LoadedSource(table, label, rows + len(rejects), columns, rejects)


def _row_number_sql(rejects: tuple[ParseReject, ...], index: str) -> str:
    """Record numbers for the rows that parsed, skipping those taken by rejected rows.

    ``index`` is the SQL for the 0-based position of a parsed row.
    """
    if not rejects:
        return f"{index} + 1"
    # The g-th good row is record g + #{rejected r_j : r_j - j < g}.
    shifted = sorted(r.row - j for j, r in enumerate(sorted(rejects, key=lambda r: r.row), 1))
    values = ", ".join(str(s) for s in shifted)
    return f"{index} + 1 + len(list_filter([{values}], s -> s < {index} + 1))"


def _load_csv(
    con: duckdb.DuckDBPyConnection, source: SourceSpec, path: Path, table: str, workdir: Path
) -> LoadedSource:
    encoding = codecs.lookup(source.encoding).name
    read_path = path
    if encoding not in _NATIVE_ENCODINGS:
        read_path = _transcode(path, encoding, workdir)
    else:
        check_utf8(path, source.encoding)
    delimiter = source.delimiter or ("\t" if source.format == "tsv" else ",")
    options = [
        "all_varchar=true",
        f"header={'true' if source.header else 'false'}",
        f"delim={quote_str(delimiter)}",
        f"quote={quote_str(source.quote or chr(34))}",
        f"skip={source.skip_rows}",
        "ignore_errors=true",
        "store_rejects=true",
        f"rejects_table={quote_str(table + '__rej')}",
        f"rejects_scan={quote_str(table + '__scan')}",
        "strict_mode=true",
        "null_padding=false",
        "parallel=true",
    ]
    if not source.header:
        options.append("auto_detect=true")
    scan = f"read_csv({quote_str(str(read_path))}, {', '.join(options)})"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}__raw AS SELECT * FROM {scan}")
        raw_rejects = con.execute(
            f"SELECT line, any_value(csv_line), string_agg(DISTINCT error_type || ': ' || "
            f"error_message, '; ') FROM {table}__rej GROUP BY line ORDER BY line"
        ).fetchall()
        if not source.header:
            # Number headerless columns from 1, as spreadsheets do: column1, column2, ...
            described = con.execute(f"DESCRIBE {table}__raw").fetchall()
            for name in reversed([str(r[0]) for r in described]):
                if name.startswith("column") and name[6:].isdigit():
                    con.execute(
                        f"ALTER TABLE {table}__raw RENAME COLUMN {quote_ident(name)} "
                        f"TO {quote_ident('column' + str(int(name[6:]) + 1))}"
                    )
    except duckdb.Error as exc:
        raise SourceError(f"cannot read CSV: {_first_line(exc)}", path=str(path)) from exc
    finally:
        if read_path != path:
            read_path.unlink(missing_ok=True)
    offset = 1 if source.header else 0
    rejects = tuple(
        ParseReject(int(line) - offset, json.dumps({"line": csv_line}, ensure_ascii=False), reason)
        for line, csv_line, reason in raw_rejects
    )
    con.execute(f"DROP TABLE IF EXISTS {table}__rej")
    con.execute(f"DROP TABLE IF EXISTS {table}__scan")
    return _materialise(con, f"{table}__raw", table, str(path), rejects=rejects)


def check_utf8(path: Path, encoding: str = "utf-8") -> None:
    """Fail with the byte offset and line when a file declared UTF-8 is not."""
    if codecs.lookup(encoding).name not in _NATIVE_ENCODINGS:
        raise EncodingError(
            f"encoding {encoding!r} is only supported for CSV/TSV; convert to UTF-8",
            path=str(path),
        )
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    lines = 1
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                line = lines + block[: exc.start].count(b"\n")
                raise EncodingError(
                    f"not valid UTF-8 at byte {offset + exc.start} (line {line}); "
                    "set `encoding:` in the mapping's source (e.g. cp1252 or latin-1)",
                    path=str(path),
                ) from exc
            offset += len(block)
            lines += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise EncodingError("truncated UTF-8 sequence at end of file", path=str(path)) from exc


def _transcode(path: Path, encoding: str, workdir: Path) -> Path:
    """Decode a single-byte encoded file strictly into a UTF-8 temporary file.

    A file declared in a legacy encoding that is in fact valid UTF-8 with non-ASCII
    characters is refused: reading it would silently produce mojibake.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    utf8_check = codecs.getincrementaldecoder("utf-8")("strict")
    looks_utf8 = True
    has_multibyte = False
    offset = 0
    workdir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="source-", suffix=".csv", dir=workdir)
    out_path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as fh:
            while block := fh.read(_CHUNK):
                if looks_utf8:
                    try:
                        utf8_check.decode(block)
                        has_multibyte = has_multibyte or any(b >= 0x80 for b in block)
                    except UnicodeDecodeError:
                        looks_utf8 = False
                try:
                    out.write(decoder.decode(block).encode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise EncodingError(
                        f"byte {offset + exc.start} is not valid {encoding}", path=str(path)
                    ) from exc
                offset += len(block)
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    if looks_utf8 and has_multibyte:
        out_path.unlink(missing_ok=True)
        raise EncodingError(
            f"the mapping says {encoding} but the file is valid UTF-8 with accented "
            "characters; reading it as declared would garble them: set `encoding: utf-8`",
            path=str(path),
        )
    return out_path


def _load_excel(
    con: duckdb.DuckDBPyConnection, source: SourceSpec, path: Path, table: str
) -> LoadedSource:
    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise SourceError(f"cannot open as an Excel workbook: {exc}", path=str(path)) from exc
    try:
        if source.sheet is not None:
            if source.sheet not in book.sheetnames:
                sheets = ", ".join(book.sheetnames)
                raise SourceError(f"no sheet {source.sheet!r} (sheets: {sheets})", path=str(path))
            sheet = book[source.sheet]
        else:
            sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        for _ in range(source.skip_rows):
            next(rows, None)
        header: list[str]
        first = next(rows, None)
        if first is None:
            header, data = [], []
        elif source.header:
            header = [_cell(v) or f"column{i + 1}" for i, v in enumerate(first)]
            data = [[_cell(v) for v in row] for row in rows]
        else:
            header = [f"column{i + 1}" for i in range(len(first))]
            data = [[_cell(v) for v in first]] + [[_cell(v) for v in row] for row in rows]
    finally:
        book.close()
    width = len(header)
    columns: dict[str, list[str | None]] = {name: [] for name in header}
    for row in data:
        padded = (list(row) + [None] * width)[:width]
        for name, value in zip(header, padded, strict=True):
            columns[name].append(value)
    arrow = pa.table({name: pa.array(vals, type=pa.string()) for name, vals in columns.items()})
    con.register(f"{table}__arrow", arrow)
    try:
        return _materialise(con, f"{table}__arrow", table, str(path))
    finally:
        con.unregister(f"{table}__arrow")


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _load_sql(con: duckdb.DuckDBPyConnection, source: SourceSpec, table: str) -> LoadedSource:
    import sqlalchemy as sa

    assert source.database is not None
    url = os.path.expandvars(source.database)
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise SourceError(f"invalid database URL: {exc}", path=source.database) from exc
    label = f"{_safe_url(url)}:{source.label}"
    if source.sql is not None:
        query = sa.text(source.sql)
    else:
        if len(source.tables) != 1:
            raise SourceError("give one table, or join them with `sql:`", path=label)
        query = sa.text(f"SELECT * FROM {source.tables[0]}")
    batches: list[pa.RecordBatch] = []
    names: list[str] = []
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(query)
            names = list(result.keys())
            while chunk := result.fetchmany(50_000):
                cols = list(zip(*chunk, strict=True))
                arrays = [pa.array([_cell(v) for v in col], type=pa.string()) for col in cols]
                batches.append(pa.RecordBatch.from_arrays(arrays, names=names))
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(f"query failed: {_first_line(exc)}", path=label) from exc
    finally:
        engine.dispose()
    schema = pa.schema([(n, pa.string()) for n in names])
    arrow = pa.Table.from_batches(batches, schema=schema)
    con.register(f"{table}__arrow", arrow)
    try:
        return _materialise(con, f"{table}__arrow", table, label)
    finally:
        con.unregister(f"{table}__arrow")


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<database>"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
