"""Plain descriptions of schemata for the CLI and the API."""

from __future__ import annotations

from typing import Any

from followthemoney.model import Model
from followthemoney.schema import Schema

from recoupe.errors import OntologyError
from recoupe.ontology.model import SCHEMATA_DIR, read_yaml
from recoupe.ontology.model import model as default_model


def recoupe_schemata() -> set[str]:
    """Names of the schemata defined in Recoupe's own YAML files."""
    names: set[str] = set()
    for path in sorted(SCHEMATA_DIR.glob("*.yaml")):
        data = read_yaml(path)
        names.update(data)
    return names


def _kind(schema: Schema) -> str:
    if schema.abstract:
        return "abstract"
    if schema.edge:
        return "edge"
    return "interval" if schema.is_a("Interval") else "thing"


def list_schemata(model: Model | None = None) -> list[dict[str, Any]]:
    built = model or default_model()
    ours = recoupe_schemata()
    return [
        {
            "name": s.name,
            "label": s.label,
            "origin": "recoupe" if s.name in ours else "ftm",
            "kind": _kind(s),
            "matchable": s.matchable,
        }
        for s in sorted(built.schemata.values(), key=lambda s: s.name)
    ]


def describe_schema(name: str, model: Model | None = None) -> dict[str, Any]:
    built = model or default_model()
    schema = built.get(name)
    if schema is None:
        close = sorted(n for n in built.schemata if n.lower().startswith(name[:3].lower()))
        hint = f" (did you mean: {', '.join(close)})" if close else ""
        raise OntologyError(f"no schema {name!r}{hint}; `recoupe ontology` lists them")
    roles: dict[str, str] = {}
    if schema.edge:
        roles[str(schema.edge_source)] = "edge source"
        roles[str(schema.edge_target)] = "edge target"
    for name_ in schema.temporal_start:
        roles.setdefault(name_, "time start")
    for name_ in schema.temporal_end:
        roles.setdefault(name_, "time end")
    props = []
    for prop in sorted(schema.properties.values(), key=lambda p: p.name):
        role = roles.get(prop.name)
        if role is None and prop.type.name == "entity":
            role = "link" if not prop.stub else "reverse link"
        props.append(
            {
                "name": prop.name,
                "label": prop.label,
                "type": prop.type.name,
                "range": prop.range.name if prop.range is not None else None,
                "reverse": prop.reverse.name if prop.reverse is not None else None,
                "stub": prop.stub,
                "edge_role": role,
            }
        )
    return {
        "name": schema.name,
        "label": schema.label,
        "description": schema.description,
        "origin": "recoupe" if schema.name in recoupe_schemata() else "ftm",
        "kind": _kind(schema),
        "extends": sorted(p.name for p in schema.extends),
        "matchable": schema.matchable,
        "edge": {
            "source": schema.edge_source,
            "target": schema.edge_target,
            "label": schema.edge_label,
            "directed": schema.edge_directed,
        }
        if schema.edge
        else None,
        "properties": props,
    }
