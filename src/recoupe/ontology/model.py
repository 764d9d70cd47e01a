"""Load FollowTheMoney's schemata together with Recoupe's YAML schemata."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from hashlib import sha1
from pathlib import Path
from typing import Any

import yaml
from followthemoney.exc import InvalidModel
from followthemoney.model import Model
from followthemoney.schema import Schema
from followthemoney.settings import MODEL_PATH
from followthemoney.util import const

from recoupe.errors import OntologyError

SCHEMATA_DIR = Path(__file__).parent / "schemata"
# libyaml's parser when PyYAML was built with it: ten times faster on the schemata
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """The data of a YAML file shipped with Recoupe (``yaml.YAMLError`` if it is not)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.yaml") if p.is_file())


def load_model(extra_dirs: Iterable[Path] = ()) -> Model:
    """Build a model from FtM's schemata, ours, then those in ``extra_dirs``.

    A schema name defined twice is an error naming both files: our schemata extend FtM's,
    they never silently replace them.
    """
    built = Model.__new__(Model)
    built.path = MODEL_PATH
    built.schemata = {}
    built.properties = set()
    built.qnames = {}
    origin: dict[str, Path] = {}
    for directory in (Path(MODEL_PATH), SCHEMATA_DIR, *extra_dirs):
        if not directory.is_dir():
            raise OntologyError(f"{directory}: schema directory not found")
        for path in _yaml_files(directory):
            try:
                data = read_yaml(path)
            except yaml.YAMLError as exc:
                raise OntologyError(f"{path}: invalid YAML: {exc}") from exc
            if not isinstance(data, dict):
                raise OntologyError(f"{path}: a schema file must be a mapping of names")
            for name in data:
                if name in origin:
                    raise OntologyError(
                        f"{path}: schema {name!r} is already defined in {origin[name]}"
                    )
                origin[name] = path
            try:  # what Model._load does, on the data already read (no second parse)
                for name, config in data.items():
                    built.schemata[const(name)] = Schema(built, const(name), config)
            except (InvalidModel, KeyError, TypeError, ValueError) as exc:
                raise OntologyError(f"{path}: {exc}") from exc
    try:
        built.generate()
    except (InvalidModel, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise OntologyError(f"invalid model: {exc}") from exc
    return built


@functools.cache
def model() -> Model:
    """The default model (FtM + Recoupe schemata), built once on first use."""
    return load_model()


def entity_id(key_literal: str | None, values: Sequence[str | None]) -> str | None:
    """The id FollowTheMoney's mapping gives an entity with these key values.

    SHA-1 over the key literal then the non-empty, stripped key values in byte order;
    ``None`` when every key value is empty. The SQL compiler computes the same thing.
    """
    parts = sorted(v.strip().encode("utf-8") for v in values if v is not None and v.strip())
    if not parts:
        return None
    digest = sha1((key_literal or "").encode("utf-8"))  # noqa: S324 - FtM's id scheme, not security
    for part in parts:
        digest.update(part)
    return digest.hexdigest()
