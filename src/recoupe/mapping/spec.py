"""The mapping spec: a YAML mapping file parsed into plain, frozen, serialisable objects.

The format is FollowTheMoney's mapping format (``queries``, ``entities``, ``keys``,
``key_literal``, ``id_column``, ``properties`` with ``column``/``columns``/``literal``/
``template``/``join``/``split``/``entity``/``required``/``format``, ``filters``) with a few
additions that real sources need: a nested ``source:`` block (path, format, delimiter,
encoding, header, sheet, SQL), a ``countries`` hint for phone numbers, and dataset
metadata (title, description, owner, marking) beside the queries.

Every error names the mapping file and the key path, e.g.
``calls.yml, key queries[0].entities.call.properties.date: ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from followthemoney.model import Model
from followthemoney.schema import Schema

from recoupe.errors import MappingError

FORMATS = ("csv", "tsv", "jsonl", "json", "excel", "parquet", "ftm", "sql")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}
TEMPLATE_REF = re.compile(r"{{([^}]*)}}")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class DatasetMeta:
    """Dataset metadata carried by a mapping file (all optional but the name)."""

    name: str
    title: str | None = None
    description: str | None = None
    owner: str | None = None
    marking: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    """Where a query reads its records and how to parse them."""

    paths: tuple[str, ...] = ()
    format: str = "csv"
    delimiter: str | None = None
    quote: str | None = None
    encoding: str = "utf-8"
    header: bool = True
    skip_rows: int = 0
    sheet: str | None = None
    database: str | None = None
    tables: tuple[str, ...] = ()
    sql: str | None = None

    @property
    def label(self) -> str:
        """A short name for messages and provenance: the file name(s) or the table."""
        if self.database is not None:
            return self.sql if self.sql is not None else ",".join(self.tables)
        return ",".join(Path(p).name for p in self.paths)


@dataclass(frozen=True)
class PropertySpec:
    """How one property of an entity gets its values from a record."""

    name: str
    key: str
    columns: tuple[str, ...] = ()
    literals: tuple[str, ...] = ()
    template: str | None = None
    join: str | None = None
    split: str | None = None
    entity: str | None = None
    required: bool = False
    format: str | None = None

    @property
    def refs(self) -> tuple[str, ...]:
        """The source columns this property reads."""
        if self.template is not None:
            return tuple(TEMPLATE_REF.findall(self.template))
        return self.columns


@dataclass(frozen=True)
class EntitySpec:
    """How one entity is made from each record of a query."""

    name: str
    key: str
    schema: str
    keys: tuple[str, ...] = ()
    key_literal: str | None = None
    id_column: str | None = None
    properties: tuple[PropertySpec, ...] = ()

    @property
    def refs(self) -> tuple[str, ...]:
        cols = list(self.keys)
        if self.id_column is not None:
            cols.append(self.id_column)
        for prop in self.properties:
            cols.extend(prop.refs)
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True)
class QuerySpec:
    """One source and the entities made from each of its records."""

    key: str
    source: SourceSpec
    entities: tuple[EntitySpec, ...]
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    filters_not: tuple[tuple[str, tuple[str, ...]], ...] = ()
    countries: tuple[str, ...] = ()

    @property
    def refs(self) -> tuple[str, ...]:
        cols: list[str] = []
        for entity in self.entities:
            cols.extend(entity.refs)
        cols.extend(name for name, _ in self.filters)
        cols.extend(name for name, _ in self.filters_not)
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True)
class MappingSpec:
    """A whole mapping file: dataset metadata and its queries."""

    file: str
    dataset: DatasetMeta
    queries: tuple[QuerySpec, ...] = field(default_factory=tuple)


def load_mapping(path: Path, model: Model, dataset: str | None = None) -> MappingSpec:
    """Read and check a mapping file. ``dataset`` overrides the name found in the file."""
    if not path.is_file():
        raise MappingError("mapping file not found", file=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise MappingError(f"mapping file is not UTF-8: {exc}", file=str(path)) from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"invalid YAML: {exc}", file=str(path)) from exc
    return parse_mapping(data, model, file=str(path), base=path.parent, dataset=dataset)


def parse_mapping(
    data: Any, model: Model, *, file: str, base: Path, dataset: str | None = None
) -> MappingSpec:
    """Check a parsed mapping document and turn it into a :class:`MappingSpec`."""
    parser = _Parser(model, file, base)
    return parser.mapping(data, dataset)


class _Parser:
    def __init__(self, model: Model, file: str, base: Path) -> None:
        self.model = model
        self.file = file
        self.base = base

    def fail(self, key: str, message: str) -> MappingError:
        return MappingError(message, file=self.file, key=key or None)

    # -- helpers ---------------------------------------------------------------------------
    def dict_at(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        for k in value:
            if not isinstance(k, str):
                raise self.fail(key, f"keys must be strings, got {k!r}")
        return value

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise self.fail(f"{key}[{i}]", f"expected a string, got {item!r}")
            out.append(str(item))
        return tuple(out)

    def string(self, value: Any, key: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(key, f"expected a string, got {value!r}")
        return str(value)

    def boolean(self, value: Any, key: str, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
            return value.lower() in ("true", "yes", "1")
        raise self.fail(key, f"expected true or false, got {value!r}")

    def check_unknown(self, data: dict[str, Any], allowed: set[str], key: str) -> None:
        for name in data:
            if name not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(f"{key}.{name}" if key else name, f"unknown key (allowed: {hint})")

    # -- document --------------------------------------------------------------------------
    def mapping(self, data: Any, dataset: str | None) -> MappingSpec:
        doc = self.dict_at(data, "")
        if "queries" in doc or "query" in doc:
            meta_doc, prefix = doc, ""
            name = dataset or self.string(doc.get("name"), "name")
            if name is None:
                raise self.fail("name", "no dataset name: add `name:` or pass --dataset")
        else:
            if len(doc) != 1:
                raise self.fail(
                    "", "expected `queries:` or exactly one dataset name at the top level"
                )
            ((file_name, meta_doc),) = doc.items()
            prefix = f"{file_name}."
            meta_doc = self.dict_at(meta_doc, file_name)
            name = dataset or file_name
        if not NAME_RE.match(name):
            raise self.fail(
                f"{prefix}name" if dataset is None else "--dataset",
                f"invalid dataset name {name!r}: use letters, digits, '_', '-' or '.'",
            )
        allowed = {"name", "title", "description", "owner", "marking", "queries", "query"}
        allowed |= {"category", "summary", "url", "publisher", "countries"}
        self.check_unknown(meta_doc, allowed, prefix.rstrip("."))
        meta = DatasetMeta(
            name=name,
            title=self.string(meta_doc.get("title"), f"{prefix}title"),
            description=self.string(
                meta_doc.get("description", meta_doc.get("summary")), f"{prefix}description"
            ),
            owner=self.string(meta_doc.get("owner"), f"{prefix}owner"),
            marking=self.string(meta_doc.get("marking"), f"{prefix}marking"),
        )
        raw_queries = meta_doc.get("queries", meta_doc.get("query"))
        qkey = f"{prefix}queries" if "queries" in meta_doc else f"{prefix}query"
        if raw_queries is None:
            raise self.fail(qkey, "no queries")
        if isinstance(raw_queries, dict):
            raw_queries = [raw_queries]
        if not isinstance(raw_queries, list) or not raw_queries:
            raise self.fail(qkey, "expected a non-empty list of queries")
        dataset_countries = self.strings(meta_doc.get("countries"), f"{prefix}countries")
        queries = tuple(
            self.query(q, f"{qkey}[{i}]", dataset_countries) for i, q in enumerate(raw_queries)
        )
        return MappingSpec(file=self.file, dataset=meta, queries=queries)

    # -- query -----------------------------------------------------------------------------
    def query(self, data: Any, key: str, countries: tuple[str, ...]) -> QuerySpec:
        doc = self.dict_at(data, key)
        allowed = {
            "source", "csv_url", "csv_urls", "database", "table", "tables", "sql",
            "entities", "filters", "filters_not", "countries", "joins",
        }  # fmt: skip
        self.check_unknown(doc, allowed, key)
        if "joins" in doc:
            raise self.fail(f"{key}.joins", "SQL joins are not supported; use `sql:` instead")
        source = self.source(doc, key)
        if source.format == "ftm":
            if "entities" in doc:
                raise self.fail(
                    f"{key}.entities", "FtM entity files carry their entities: remove `entities:`"
                )
            return QuerySpec(key=key, source=source, entities=())
        raw_entities = self.dict_at(doc.get("entities"), f"{key}.entities")
        if not raw_entities:
            raise self.fail(f"{key}.entities", "no entities defined")
        entities = [
            self.entity(name, ent, f"{key}.entities.{name}") for name, ent in raw_entities.items()
        ]
        self.check_references(entities)
        query_countries = self.strings(doc.get("countries"), f"{key}.countries") or countries
        return QuerySpec(
            key=key,
            source=source,
            entities=self.order(entities, f"{key}.entities"),
            filters=self.filters(doc.get("filters"), f"{key}.filters"),
            filters_not=self.filters(doc.get("filters_not"), f"{key}.filters_not"),
            countries=tuple(c.lower() for c in query_countries),
        )

    def filters(self, data: Any, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if data is None:
            return ()
        doc = self.dict_at(data, key)
        return tuple((col, self.strings(val, f"{key}.{col}")) for col, val in doc.items())

    def source(self, doc: dict[str, Any], key: str) -> SourceSpec:
        kinds = [k for k in ("source", "csv_url", "csv_urls", "database") if k in doc]
        if not kinds:
            raise self.fail(key, "no source: add `source:`, `csv_url:` or `database:`")
        if len(kinds) > 1 and not (set(kinds) == {"csv_url", "csv_urls"}):
            raise self.fail(key, f"choose one source key, not {', '.join(kinds)}")
        if "database" in doc:
            url = self.string(doc["database"], f"{key}.database")
            tables = self.strings(doc.get("tables", doc.get("table")), f"{key}.tables")
            sql = self.string(doc.get("sql"), f"{key}.sql")
            if not tables and sql is None:
                raise self.fail(key, "a database source needs `table:` or `sql:`")
            return SourceSpec(format="sql", database=url, tables=tables, sql=sql)
        if "source" not in doc:
            urls = self.strings(doc.get("csv_url"), f"{key}.csv_url")
            urls += self.strings(doc.get("csv_urls"), f"{key}.csv_urls")
            paths = tuple(self.resolve(u, f"{key}.csv_url") for u in urls)
            return SourceSpec(paths=paths, format="csv")
        skey = f"{key}.source"
        raw = doc["source"]
        sdoc = {"path": raw} if isinstance(raw, str) else self.dict_at(raw, skey)
        allowed = {
            "path", "paths", "format", "delimiter", "quote", "encoding", "header",
            "skip_rows", "sheet", "database", "table", "tables", "sql",
        }  # fmt: skip
        self.check_unknown(sdoc, allowed, skey)
        if "database" in sdoc:
            return self.source({"database": sdoc["database"], **{
                k: v for k, v in sdoc.items() if k in ("table", "tables", "sql")
            }}, skey)  # fmt: skip
        raw_paths = self.strings(sdoc.get("path"), f"{skey}.path")
        raw_paths += self.strings(sdoc.get("paths"), f"{skey}.paths")
        if not raw_paths:
            raise self.fail(skey, "no `path:` given")
        paths = tuple(self.resolve(p, f"{skey}.path") for p in raw_paths)
        fmt = self.string(sdoc.get("format"), f"{skey}.format")
        if fmt is None:
            fmt = EXTENSIONS.get(Path(paths[0]).suffix.lower())
            if fmt is None:
                raise self.fail(
                    f"{skey}.format",
                    f"cannot guess the format of {paths[0]}; set `format:` to one of "
                    + ", ".join(FORMATS),
                )
        fmt = fmt.lower()
        if fmt not in FORMATS or fmt == "sql":
            raise self.fail(f"{skey}.format", f"unknown format {fmt!r}; use one of {FORMATS}")
        encoding = self.string(sdoc.get("encoding"), f"{skey}.encoding") or "utf-8"
        try:
            "".encode(encoding)
        except LookupError as exc:
            raise self.fail(f"{skey}.encoding", f"unknown encoding {encoding!r}") from exc
        delimiter = self.string(sdoc.get("delimiter"), f"{skey}.delimiter")
        if delimiter is not None and len(delimiter) != 1 and delimiter != "\\t":
            raise self.fail(f"{skey}.delimiter", f"a delimiter is one character, not {delimiter!r}")
        skip = sdoc.get("skip_rows", 0)
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise self.fail(f"{skey}.skip_rows", f"expected a whole number >= 0, got {skip!r}")
        return SourceSpec(
            paths=paths,
            format=fmt,
            delimiter="\t" if delimiter == "\\t" else delimiter,
            quote=self.string(sdoc.get("quote"), f"{skey}.quote"),
            encoding=encoding,
            header=self.boolean(sdoc.get("header"), f"{skey}.header", True),
            skip_rows=skip,
            sheet=self.string(sdoc.get("sheet"), f"{skey}.sheet"),
        )

    def resolve(self, url: str, key: str) -> str:
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "ftp", "s3", "gs"):
            raise self.fail(key, f"remote sources are not read ({url}); copy the file locally")
        raw = parsed.path if parsed.scheme == "file" else url
        path = Path(raw).expanduser()
        if not path.is_absolute():
            path = self.base / path
        return str(path)

    # -- entities --------------------------------------------------------------------------
    def entity(self, name: str, data: Any, key: str) -> EntitySpec:
        doc = self.dict_at(data, key)
        allowed = {"schema", "key", "keys", "key_literal", "id_column", "properties"}
        self.check_unknown(doc, allowed, key)
        schema_name = self.string(doc.get("schema"), f"{key}.schema")
        if schema_name is None:
            raise self.fail(f"{key}.schema", "no schema given")
        schema = self.model.get(schema_name)
        if schema is None:
            raise self.fail(f"{key}.schema", f"unknown schema {schema_name!r}")
        if schema.abstract:
            raise self.fail(f"{key}.schema", f"schema {schema_name!r} is abstract")
        keys = self.strings(doc.get("keys", doc.get("key")), f"{key}.keys")
        id_column = self.string(doc.get("id_column"), f"{key}.id_column")
        if not keys and id_column is None:
            raise self.fail(key, "an entity needs `keys:` or `id_column:`")
        if keys and id_column is not None:
            raise self.fail(key, "use either `keys:` or `id_column:`, not both")
        props_doc = doc.get("properties") or {}
        props_doc = self.dict_at(props_doc, f"{key}.properties")
        props = tuple(
            self.prop(schema, pname, pdata, f"{key}.properties.{pname}")
            for pname, pdata in props_doc.items()
        )
        return EntitySpec(
            name=name,
            key=key,
            schema=schema.name,
            keys=tuple(sorted(set(keys))),
            key_literal=self.string(doc.get("key_literal"), f"{key}.key_literal"),
            id_column=id_column,
            properties=props,
        )

    def prop(self, schema: Schema, name: str, data: Any, key: str) -> PropertySpec:
        prop = schema.get(name)
        if prop is None:
            raise self.fail(key, f"schema {schema.name} has no property {name!r}")
        if prop.stub:
            raise self.fail(key, f"{prop.qname} is a reverse (stub) property; map the other side")
        if isinstance(data, str):
            data = {"column": data}
        doc = self.dict_at(data, key)
        allowed = {
            "column", "columns", "literal", "literals", "template", "join", "split",
            "entity", "required", "format", "fuzzy",
        }  # fmt: skip
        self.check_unknown(doc, allowed, key)
        columns = self.strings(doc.get("column"), f"{key}.column")
        columns += self.strings(doc.get("columns"), f"{key}.columns")
        literals = self.strings(doc.get("literal"), f"{key}.literal")
        literals += self.strings(doc.get("literals"), f"{key}.literals")
        template = self.string(doc.get("template"), f"{key}.template")
        entity = self.string(doc.get("entity"), f"{key}.entity")
        if entity is not None and prop.type.name != "entity":
            raise self.fail(
                f"{key}.entity", f"{prop.qname} is of type {prop.type.name}, not entity"
            )
        if entity is None and not (columns or literals or template):
            raise self.fail(key, "no value: give column, columns, literal, template or entity")
        if template is not None and (columns or literals):
            raise self.fail(key, "a template cannot be combined with columns or literals")
        return PropertySpec(
            name=prop.name,
            key=key,
            columns=columns,
            literals=literals,
            template=template,
            join=self.string(doc.get("join"), f"{key}.join"),
            split=self.string(doc.get("split"), f"{key}.split"),
            entity=entity,
            required=self.boolean(doc.get("required"), f"{key}.required", False),
            format=self.string(doc.get("format"), f"{key}.format"),
        )

    def check_references(self, entities: list[EntitySpec]) -> None:
        by_name = {e.name: e for e in entities}
        for ent in entities:
            schema = self.model.get(ent.schema)
            assert schema is not None
            for prop in ent.properties:
                if prop.entity is None:
                    continue
                target = by_name.get(prop.entity)
                if target is None:
                    known = ", ".join(sorted(by_name))
                    raise self.fail(
                        f"{prop.key}.entity",
                        f"no entity named {prop.entity!r} in this query (entities: {known})",
                    )
                prop_obj = schema.get(prop.name)
                target_schema = self.model.get(target.schema)
                assert prop_obj is not None
                assert target_schema is not None
                if prop_obj.range is not None and not target_schema.is_a(prop_obj.range):
                    raise self.fail(
                        f"{prop.key}.entity",
                        f"{prop_obj.qname} must point to a {prop_obj.range.name}, "
                        f"but {prop.entity!r} is a {target.schema}",
                    )

    def order(self, entities: list[EntitySpec], key: str) -> tuple[EntitySpec, ...]:
        """Entities in dependency order, as FtM maps them; cycles are errors."""
        pending = list(entities)
        done: list[EntitySpec] = []
        names: set[str] = set()
        while pending:
            ready = [
                e
                for e in pending
                if all(p.entity is None or p.entity in names for p in e.properties)
                or all(p.entity is None or p.entity == e.name for p in e.properties)
            ]
            if not ready:
                cycle = ", ".join(e.name for e in pending)
                raise self.fail(key, f"circular entity references between: {cycle}")
            for ent in ready:
                pending.remove(ent)
                done.append(ent)
                names.add(ent.name)
        return tuple(done)
