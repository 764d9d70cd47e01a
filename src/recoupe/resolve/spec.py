"""The resolution settings: a plain, versioned spec, and its compilation for an engine.

The spec says, per matchable schema, which features to compare and how, which blocking
rules propose candidate pairs, which deterministic rules make a pair near-certain, and
how to train. It is plain data (JSON or YAML), so the same job can run on DuckDB here and
on Spark at scale: :func:`splink_settings` compiles one schema's part into Splink's
settings for a SQL dialect. An example, the default (``recoupe resolve spec`` prints it)::

    version: 1
    keep_above: 0.001         # pairs scored lower are not kept
    auto_merge_at: null       # off: no merge without a person's judgement
    schemata:
      Person:
        comparisons:
          - {feature: name, kind: name}
          - {feature: birth_date, kind: date}
          - {feature: phones, kind: set}
        blocking: [[birth_date], [name_keys]]
        rules: [{name: same identifier, feature: ids}]

Features are the columns :mod:`recoupe.store.resolution` derives from statements for
every record (see :data:`FEATURES`); a spec naming another is refused with the key path.
Pure code: no database.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from recoupe.errors import ConfigError

SPEC_VERSION = 1
Kind = Literal["name", "part", "date", "set", "exact", "text"]
KINDS: tuple[Kind, ...] = ("name", "part", "date", "set", "exact", "text")
Dialect = Literal["duckdb", "spark"]

FEATURES: dict[str, str] = {
    "name": "the record's main name, in Latin letters, lower case, words sorted",
    "name_keys": "consonant skeletons of the name's words and of adjacent word pairs",
    "given_name": "the first given name (firstName), in Latin letters, lower case",
    "surname": "the first surname (lastName), in Latin letters, lower case",
    "birth_date": "the first birth date (YYYY-MM-DD, or shorter when partial)",
    "phones": "phone numbers (the last nine digits), own and of linked Phone entities",
    "emails": "e-mail addresses, lower case",
    "ids": "identifiers (prop=VALUE), own and of linked passports and bank accounts",
    "country": "the first nationality, country or jurisdiction",
    "address": "the first address (own or of a linked Address), in Latin letters",
}
LIST_FEATURES = frozenset({"name_keys", "phones", "emails", "ids"})
_KIND_OF_FEATURE: dict[str, tuple[Kind, ...]] = {
    "name": ("name", "exact", "text"),
    "given_name": ("part", "exact"),
    "surname": ("part", "exact"),
    "birth_date": ("date", "exact"),
    "phones": ("set",),
    "emails": ("set",),
    "ids": ("set",),
    "name_keys": ("set",),
    "country": ("exact",),
    "address": ("text", "exact"),
}


@dataclass(frozen=True)
class Comparison:
    """How one feature is compared; ``m`` and ``u`` are the untrained starting values,
    one per non-null level, most alike first."""

    feature: str
    kind: Kind
    term_frequency: bool = False
    m: tuple[float, ...] | None = None
    u: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Rule:
    """A deterministic rule: records sharing a value of ``feature`` are the same entity
    (scored ``probability``), unless their countries are known and differ."""

    name: str
    feature: str
    probability: float = 0.9999


@dataclass(frozen=True)
class Training:
    u_max_pairs: int = 1_000_000
    em_blocking: tuple[tuple[str, ...], ...] = (("birth_date",), ("name",))
    min_records: int = 500
    """Fewer records than this keep the spec's starting values (EM needs data)."""
    prior: float = 0.0001
    """The chance that two random records are one entity, before training."""
    seed: int = 42


@dataclass(frozen=True)
class SchemaSpec:
    schema: str
    comparisons: tuple[Comparison, ...]
    blocking: tuple[tuple[str, ...], ...]
    rules: tuple[Rule, ...] = ()
    training: Training = field(default_factory=Training)
    extra: tuple[str, ...] = ()
    """Columns beyond :data:`FEATURES` that the records carry (a benchmark's own fields);
    records built from the store have the standard features only."""
    extra_lists: tuple[str, ...] = ()
    """Which of ``extra`` hold lists (compared as sets)."""

    def is_list(self, feature: str) -> bool:
        """Whether records hold a list of values for ``feature`` (compared as a set)."""
        return feature in LIST_FEATURES or feature in self.extra_lists

    @property
    def features(self) -> list[str]:
        used = {c.feature for c in self.comparisons} | {r.feature for r in self.rules}
        used |= {f for rule in self.blocking for f in rule}
        used |= {f for rule in self.training.em_blocking for f in rule}
        used.add("name")
        return sorted(used)


@dataclass(frozen=True)
class ResolveSpec:
    schemata: tuple[SchemaSpec, ...]
    keep_above: float = 0.001
    auto_merge_at: float | None = None
    version: int = SPEC_VERSION

    def schema(self, name: str) -> SchemaSpec:
        for part in self.schemata:
            if part.schema == name:
                return part
        known = ", ".join(p.schema for p in self.schemata)
        raise ConfigError(f"schema {name!r} is not in the resolution spec (it has: {known})")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, not tuples), as :func:`spec_from_dict` reads it."""
        data = json.loads(json.dumps(asdict(self)))
        return {
            "version": data["version"],
            "keep_above": data["keep_above"],
            "auto_merge_at": data["auto_merge_at"],
            "schemata": {s.pop("schema"): s for s in data["schemata"]},
        }

    def fingerprint(self, schema: str) -> str:
        """A short digest of one schema's settings: a trained model is kept while it holds."""
        import hashlib

        part = asdict(self.schema(schema))
        text = json.dumps({"version": self.version, **part}, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_NAME = Comparison(
    "name",
    "name",
    term_frequency=True,
    m=(0.55, 0.2, 0.12, 0.08, 0.03),
    u=(
        0.0005,
        0.002,
        0.002,
        0.02,
        0.1,
    ),
)
_DOB = Comparison("birth_date", "date", m=(0.85, 0.06, 0.04, 0.03), u=(0.0003, 0.002, 0.01, 0.08))
_PHONES = Comparison("phones", "set", m=(0.6,), u=(0.0005,))
_EMAILS = Comparison("emails", "set", m=(0.5,), u=(0.0002,))
_IDS = Comparison("ids", "set", m=(0.5,), u=(0.00005,))
_COUNTRY = Comparison("country", "exact", m=(0.9,), u=(0.3,))
_ADDRESS = Comparison("address", "text", m=(0.5, 0.2), u=(0.001, 0.01))

DEFAULT_SPEC = ResolveSpec(
    schemata=(
        SchemaSpec(
            "Person",
            comparisons=(_NAME, _DOB, _PHONES, _EMAILS, _IDS, _COUNTRY),
            blocking=(("birth_date",), ("name_keys",), ("phones",), ("emails",), ("ids",)),
            rules=(Rule("same identifier", "ids"),),
        ),
        SchemaSpec(
            "Company",
            comparisons=(_NAME, _IDS, _COUNTRY, _ADDRESS, _PHONES, _EMAILS),
            blocking=(("name_keys",), ("ids",), ("phones",), ("emails",)),
            rules=(Rule("same identifier", "ids"),),
            training=Training(em_blocking=(("name",), ("country",))),
        ),
        SchemaSpec(
            "Organization",
            comparisons=(_NAME, _IDS, _COUNTRY, _ADDRESS),
            blocking=(("name_keys",), ("ids",)),
            rules=(Rule("same identifier", "ids"),),
            training=Training(em_blocking=(("name",), ("country",))),
        ),
    )
)


# -- reading a spec ------------------------------------------------------------------------


def load_spec(path: Path) -> ResolveSpec:
    """Read a spec from a JSON or YAML file; errors name the file and the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the resolution spec ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML or JSON ({exc})") from exc
    try:
        return spec_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def spec_from_dict(data: Any) -> ResolveSpec:
    """Check and build a spec from plain data; an error names the key path."""
    top = _mapping(data, "(top)", {"version", "keep_above", "auto_merge_at", "schemata"})
    version = top.get("version", SPEC_VERSION)
    if version != SPEC_VERSION:
        raise ConfigError(f"key version: this Recoupe reads version {SPEC_VERSION}, not {version}")
    keep = _probability(top.get("keep_above", 0.001), "keep_above")
    auto = top.get("auto_merge_at")
    if auto is not None:
        auto = _probability(auto, "auto_merge_at")
        if auto < 0.5:
            raise ConfigError(f"key auto_merge_at: must be at least 0.5 (got {auto})")
    schemata = _mapping(top.get("schemata"), "schemata", None)
    if not schemata:
        raise ConfigError("key schemata: at least one schema is needed")
    parts = tuple(_schema(name, body, f"schemata.{name}") for name, body in schemata.items())
    return ResolveSpec(parts, keep_above=keep, auto_merge_at=auto, version=version)


def _schema(name: str, body: Any, key: str) -> SchemaSpec:
    data = _mapping(
        body, key, {"comparisons", "blocking", "rules", "training", "extra", "extra_lists"}
    )
    extra = tuple(str(x) for x in _sequence(data.get("extra", []), f"{key}.extra"))
    lists = tuple(str(x) for x in _sequence(data.get("extra_lists", []), f"{key}.extra_lists"))
    for column in (*extra, *lists):
        if not column.isidentifier() or column in FEATURES:
            raise ConfigError(f"key {key}.extra: {column!r} is not a new column name")
    if not set(lists) <= set(extra):
        raise ConfigError(f"key {key}.extra_lists: every name must be in {key}.extra")
    known = {**_KIND_OF_FEATURE}
    known.update({x: ("set",) if x in lists else ("exact", "text", "date", "part") for x in extra})
    comps = _sequence(data.get("comparisons"), f"{key}.comparisons")
    if not comps:
        raise ConfigError(f"key {key}.comparisons: at least one comparison is needed")
    comparisons = tuple(
        _comparison(c, f"{key}.comparisons[{i}]", known) for i, c in enumerate(comps)
    )
    blocking = _rules_of_features(data.get("blocking"), f"{key}.blocking", known)
    if not blocking:
        raise ConfigError(f"key {key}.blocking: at least one blocking rule is needed")
    rules = tuple(
        _rule(r, f"{key}.rules[{i}]", known)
        for i, r in enumerate(_sequence(data.get("rules", []), f"{key}.rules"))
    )
    training = Training()
    if "training" in data:
        t = _mapping(
            data["training"],
            f"{key}.training",
            {"u_max_pairs", "em_blocking", "min_records", "prior", "seed"},
        )
        em = _rules_of_features(
            t.get("em_blocking", [list(r) for r in training.em_blocking]),
            f"{key}.training.em_blocking",
            known,
        )
        for i, rule in enumerate(em):
            listed = [f for f in rule if f in LIST_FEATURES or f in lists]
            if listed:
                raise ConfigError(
                    f"key {key}.training.em_blocking[{i}]: {listed[0]!r} holds lists; "
                    "training blocks on single values only (Splink cannot explode them there)"
                )
        training = Training(
            u_max_pairs=_int(t.get("u_max_pairs", training.u_max_pairs), f"{key}.training"),
            em_blocking=em,
            min_records=_int(t.get("min_records", training.min_records), f"{key}.training"),
            prior=_probability(t.get("prior", training.prior), f"{key}.training.prior"),
            seed=_int(t.get("seed", training.seed), f"{key}.training"),
        )
    return SchemaSpec(name, comparisons, blocking, rules, training, extra, lists)


def _comparison(data: Any, key: str, known: dict[str, tuple[Kind, ...]]) -> Comparison:
    c = _mapping(data, key, {"feature", "kind", "term_frequency", "m", "u"})
    feature = _feature(c.get("feature"), f"{key}.feature", known)
    kind = c.get("kind")
    if kind not in known[feature]:
        raise ConfigError(
            f"key {key}.kind: {kind!r} does not suit {feature!r}; "
            f"use one of {', '.join(known[feature])}"
        )
    m = _levels(c.get("m"), f"{key}.m", kind)
    u = _levels(c.get("u"), f"{key}.u", kind)
    return Comparison(feature, kind, bool(c.get("term_frequency", False)), m, u)


def _rule(data: Any, key: str, known: dict[str, tuple[Kind, ...]]) -> Rule:
    r = _mapping(data, key, {"name", "feature", "probability"})
    feature = _feature(r.get("feature"), f"{key}.feature", known)
    name = r.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"key {key}.name: a rule needs a name")
    probability = _probability(r.get("probability", 0.9999), f"{key}.probability")
    return Rule(name, feature, probability)


def _levels(data: Any, key: str, kind: Kind) -> tuple[float, ...] | None:
    if data is None:
        return None
    values = tuple(_probability(v, key) for v in _sequence(data, key))
    if len(values) != LEVELS[kind]:
        raise ConfigError(f"key {key}: {kind} comparisons have {LEVELS[kind]} levels")
    return values


def _rules_of_features(
    data: Any, key: str, known: dict[str, tuple[Kind, ...]]
) -> tuple[tuple[str, ...], ...]:
    rules = []
    for i, rule in enumerate(_sequence(data, key)):
        cols = [rule] if isinstance(rule, str) else _sequence(rule, f"{key}[{i}]")
        rules.append(tuple(_feature(c, f"{key}[{i}]", known) for c in cols))
    return tuple(rules)


def _feature(value: Any, key: str, known: dict[str, tuple[Kind, ...]]) -> str:
    if value not in known:
        raise ConfigError(f"key {key}: unknown feature {value!r}; use one of {', '.join(known)}")
    return str(value)


def _mapping(value: Any, key: str, allowed: set[str] | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"key {key}: expected a mapping, got {type(value).__name__}")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ConfigError(f"key {key}: unknown key {unknown[0]!r}; use {sorted(allowed)}")
    return value


def _sequence(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"key {key}: expected a list, got {type(value).__name__}")
    return value


def _probability(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"key {key}: expected a number from 0 to 1, got {value!r}")
    return float(value)


def _int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"key {key}: expected a whole number, got {value!r}")
    return value


# -- compiling for an engine --------------------------------------------------------------

LEVELS: dict[Kind, int] = {"name": 5, "part": 4, "date": 4, "set": 1, "exact": 1, "text": 2}
"""Non-null levels of each kind of comparison (the last, "else", level comes on top)."""

_SQL: dict[Dialect, dict[str, str]] = {
    "duckdb": {
        "jw": "jaro_winkler_similarity({a}, {b})",
        "overlap": "len(list_intersect({a}, {b}))",
        "days": "abs(date_diff('day', try_cast({a} AS DATE), try_cast({b} AS DATE)))",
        "edits": "damerau_levenshtein({a}, {b})",
        "size": "len({a})",
    },
    "spark": {
        "jw": "jaro_winkler({a}, {b})",
        "overlap": "size(array_intersect({a}, {b}))",
        "days": "abs(datediff(to_date({a}), to_date({b})))",
        "edits": "damerau_levenshtein({a}, {b})",
        "size": "size({a})",
    },
}


def levels_sql(comp: Comparison, dialect: Dialect) -> list[tuple[str, str]]:
    """(SQL condition, label) of each non-null level, most alike first."""
    sql = _SQL[dialect]
    f = comp.feature
    left, right = f"{f}_l", f"{f}_r"

    def call(fn: str, a: str = left, b: str = right) -> str:
        return sql[fn].format(a=a, b=b)

    if comp.kind == "name":
        keys = call("overlap", "name_keys_l", "name_keys_r")
        return [
            (f"{left} = {right}", "the same name"),
            (f"{call('edits')} <= 2", "names one or two letters apart"),
            (f"{keys} >= 3", "the same sound in three name parts"),
            (f"{keys} >= 2", "the same sound in two name parts"),
            (f"{keys} >= 1 OR {call('jw')} >= 0.9", "one name part alike"),
        ]
    if comp.kind == "part":
        return [
            (f"{left} = {right}", "the same"),
            (f"{call('jw')} >= 0.92", "nearly the same"),
            (f"{call('jw')} >= 0.88", "alike"),
            (f"{call('jw')} >= 0.7", "somewhat alike"),
        ]
    if comp.kind == "date":
        return [
            (f"{left} = {right}", "the same date"),
            (f"{call('edits')} <= 1", "one digit differs"),
            (f"{call('days')} <= 31", "within a month"),
            (f"substr({left}, 1, 4) = substr({right}, 1, 4)", "the same year"),
        ]
    if comp.kind == "set":
        return [(f"{call('overlap')} >= 1", "a value in common")]
    if comp.kind == "exact":
        return [(f"{left} = {right}", "the same value")]
    return [
        (f"{left} = {right}", "the same text"),
        (f"{call('jw')} >= 0.9", "nearly the same text"),
    ]


def splink_settings(part: SchemaSpec, dialect: Dialect = "duckdb") -> dict[str, Any]:
    """Splink settings for one schema of the spec, in a SQL dialect (a plain dict)."""
    if dialect not in _SQL:
        raise ConfigError(f"dialect {dialect!r}: use one of {', '.join(_SQL)}")
    comparisons = []
    for comp in part.comparisons:
        f = comp.feature
        is_list = part.is_list(f)
        null = (
            f"{f}_l IS NULL OR {f}_r IS NULL OR "
            + _SQL[dialect]["size"].format(a=f"{f}_l", b="")
            + " = 0 OR "
            + _SQL[dialect]["size"].format(a=f"{f}_r", b="")
            + " = 0"
            if is_list
            else f"{f}_l IS NULL OR {f}_r IS NULL"
        )
        levels: list[dict[str, Any]] = [
            {"sql_condition": null, "label_for_charts": "unknown", "is_null_level": True}
        ]
        m = comp.m or _even(LEVELS[comp.kind], 0.9)
        u = comp.u or _rising(LEVELS[comp.kind], 0.001)
        for i, (condition, label) in enumerate(levels_sql(comp, dialect)):
            level: dict[str, Any] = {
                "sql_condition": f"({condition})",
                "label_for_charts": label,
                "m_probability": m[i],
                "u_probability": u[i],
            }
            if i == 0 and comp.term_frequency and not is_list:
                level["tf_adjustment_column"] = f
                level["tf_adjustment_weight"] = 1.0
            levels.append(level)
        levels.append(
            {
                "sql_condition": "ELSE",
                "label_for_charts": "different",
                "m_probability": max(1e-6, 1 - sum(m)),
                "u_probability": max(1e-6, 1 - sum(u)),
            }
        )
        comparisons.append(
            {
                "output_column_name": f,
                "comparison_description": f"{f} ({comp.kind})",
                "comparison_levels": levels,
            }
        )
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": part.training.prior,
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [
            blocking_rule(rule, part.extra_lists) for rule in part.blocking
        ],
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
        "additional_columns_to_retain": ["source_dataset"],
        "sql_dialect": dialect,
    }


def blocking_rule(features: tuple[str, ...], lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """A Splink blocking rule (as a dict) joining records equal on every feature; list
    features are exploded, so records sharing any one value meet."""
    sql = " AND ".join(f"l.{f} = r.{f}" for f in features)
    exploded = [f for f in features if f in LIST_FEATURES or f in lists]
    rule: dict[str, Any] = {"blocking_rule": sql}
    if exploded:
        rule["arrays_to_explode"] = exploded
    return rule


def _rising(levels: int, top: float) -> tuple[float, ...]:
    """Starting u values that grow fourfold level by level from ``top``: strangers are
    rarely exactly alike and often a little alike, so each level weighs less than the one
    above it."""
    return tuple(top * math.pow(4, i) for i in range(levels))


def _even(levels: int, top: float) -> tuple[float, ...]:
    """Starting values that fall by half from ``top`` level by level."""
    values = [top * math.pow(0.5, i) for i in range(levels)]
    total = sum(values)
    scale = min(1.0, 0.98 / total)
    return tuple(v * scale for v in values)
