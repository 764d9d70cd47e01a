"""Labels of schemata and properties in the analyst's language (French or English).

FollowTheMoney translates its own schemata (gettext catalogues shipped with it); the
schemata Recoupe adds are translated in ``labels/<lang>.yaml``. The result is compact: one
label per property name, plus the schemata where that name means something else.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from followthemoney.model import Model
from followthemoney.util import get_locale, set_model_locale

from recoupe.errors import ConfigError, OntologyError
from recoupe.ontology.model import model as default_model
from recoupe.ontology.model import read_yaml

LANGUAGES = ("fr", "en")
LABELS_DIR = Path(__file__).parent / "labels"
_locale_lock = threading.Lock()


def catalogue(lang: str) -> dict[str, Any]:
    """Recoupe's own labels for ``lang`` (empty for English, the schemata's own language)."""
    path = LABELS_DIR / f"{lang}.yaml"
    if not path.is_file():
        return {"schemata": {}, "properties": {}}
    try:
        data = read_yaml(path) or {}
    except yaml.YAMLError as exc:
        raise OntologyError(f"{path}: not valid YAML: {exc}") from exc
    for key in ("schemata", "properties"):
        if not isinstance(data.get(key, {}), dict):
            raise OntologyError(f"{path}: {key!r} must be a mapping")
    return {"schemata": data.get("schemata") or {}, "properties": data.get("properties") or {}}


def check_catalogue(lang: str, model: Model | None = None) -> list[str]:
    """Problems of ``labels/<lang>.yaml``: keys naming no schema or property."""
    built = model or default_model()
    found = catalogue(lang)
    problems = []
    for name in found["schemata"]:
        if built.get(name) is None:
            problems.append(f"schemata.{name}: no such schema")
    for key in found["properties"]:
        schema_name, _, prop = str(key).partition(".")
        schema = built.get(schema_name)
        if schema is None:
            problems.append(f"properties.{key}: no schema {schema_name!r}")
        elif prop not in schema.properties:
            problems.append(f"properties.{key}: {schema_name} has no property {prop!r}")
    return problems


def labels(lang: str, model: Model | None = None) -> dict[str, Any]:
    """Schema and property labels in ``lang``.

    ``schemata`` maps each schema to its label, plural and (for links) edge label;
    ``properties`` maps each property name to its most common label; ``exceptions`` gives,
    by schema, the properties whose label there differs from that common one.
    """
    if lang not in LANGUAGES:
        raise ConfigError(f"lang {lang!r}: use one of {', '.join(LANGUAGES)}")
    if model is None:
        return _labels_cached(lang)
    return _labels(lang, model)


@functools.cache
def _labels_cached(lang: str) -> dict[str, Any]:
    return _labels(lang, default_model())


def _labels(lang: str, model: Model) -> dict[str, Any]:
    ours = catalogue(lang)
    own_schemata: dict[str, Any] = ours["schemata"]
    own_props: dict[str, str] = ours["properties"]
    with _locale_lock:  # FtM's locale is per thread; the lock keeps this thread's whole
        previous = get_locale()
        set_model_locale(Locale.parse(lang))
        try:
            schemata: dict[str, dict[str, str]] = {}
            by_schema: dict[str, dict[str, str]] = {}
            for schema in model.schemata.values():
                own = own_schemata.get(schema.name) or {}
                entry = {
                    "label": str(own.get("label") or schema.label),
                    "plural": str(own.get("plural") or schema.plural),
                }
                if schema.edge:
                    entry["edge"] = str(own.get("edge") or schema.edge_label)
                schemata[schema.name] = entry
                by_schema[schema.name] = {
                    name: str(own_props.get(f"{prop.schema.name}.{name}") or prop.label)
                    for name, prop in schema.properties.items()
                }
        finally:
            set_model_locale(previous)
    counts: dict[str, Counter[str]] = {}
    for props in by_schema.values():
        for name, label in props.items():
            counts.setdefault(name, Counter())[label] += 1
    common = {name: c.most_common(1)[0][0] for name, c in sorted(counts.items())}
    exceptions = {
        schema: odd
        for schema, props in sorted(by_schema.items())
        if (odd := {n: lb for n, lb in sorted(props.items()) if lb != common[n]})
    }
    return {"lang": lang, "schemata": schemata, "properties": common, "exceptions": exceptions}
