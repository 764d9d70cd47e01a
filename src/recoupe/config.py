"""Typed settings, built once at start-up and passed down explicitly.

Nothing reads the environment at import time: :func:`Settings.from_env` is called by the
entry points (CLI, server) with the values they were given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recoupe.errors import ConfigError
from recoupe.security.markings import FRENCH_LEVELS, Scale

if TYPE_CHECKING:
    from recoupe.resolve.spec import ResolveSpec

DEFAULT_WORKSPACE = Path("recoupe-data")
JUSTIFY_CHOICES = ("export", "compartment")
JUSTIFY_DEFAULT = frozenset(JUSTIFY_CHOICES)
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$", re.IGNORECASE)


RESOLVE_SPEC = "resolve.yaml"


@dataclass(frozen=True)
class Settings:
    """Where the workspace is and how much of the machine the engine may use."""

    workspace: Path = DEFAULT_WORKSPACE
    memory_limit: str = "3GB"
    threads: int | None = None
    levels: tuple[tuple[str, str], ...] = FRENCH_LEVELS
    server: str | None = None
    token: str | None = None
    secret: str | None = None
    ldap_url: str | None = None
    ldap_user_dn: str | None = None
    justify: frozenset[str] = JUSTIFY_DEFAULT
    cookie_secure: bool = True
    justification: str | None = None
    max_upload: int = 2 * 1024**3

    def resolve_spec(self) -> ResolveSpec:
        """The entity resolution spec: ``WORKSPACE/resolve.yaml`` when there is one, else
        the default (``recoupe resolve spec`` prints it)."""
        from recoupe.resolve.spec import DEFAULT_SPEC, load_spec

        path = self.workspace / RESOLVE_SPEC
        return load_spec(path) if path.exists() else DEFAULT_SPEC

    @property
    def scale(self) -> Scale:
        """The classification levels, lowest first (``RECOUPE_LEVELS``)."""
        return Scale(self.levels)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        workspace: Path | None = None,
        server: str | None = None,
    ) -> Settings:
        """Settings from ``RECOUPE_*`` variables; explicit arguments win."""
        ws = workspace or Path(env.get("RECOUPE_HOME") or DEFAULT_WORKSPACE)
        memory = env.get("RECOUPE_MEMORY_LIMIT", "3GB").strip()
        if not _MEMORY.match(memory):
            raise ConfigError(
                f"RECOUPE_MEMORY_LIMIT={memory!r}: expected a size such as 3GB or 512MB"
            )
        threads_raw = env.get("RECOUPE_THREADS")
        threads: int | None = None
        if threads_raw:
            if not threads_raw.isdigit() or int(threads_raw) < 1:
                raise ConfigError(f"RECOUPE_THREADS={threads_raw!r}: expected a whole number >= 1")
            threads = int(threads_raw)
        levels = FRENCH_LEVELS
        levels_raw = env.get("RECOUPE_LEVELS")
        if levels_raw:
            levels = _levels(levels_raw)
        return cls(
            workspace=ws.expanduser(),
            secret=env.get("RECOUPE_SECRET") or None,
            ldap_url=env.get("RECOUPE_LDAP_URL") or None,
            ldap_user_dn=env.get("RECOUPE_LDAP_USER_DN") or None,
            justify=_justify(env.get("RECOUPE_JUSTIFY")),
            cookie_secure=_flag(env, "RECOUPE_COOKIE_SECURE", default=True),
            justification=env.get("RECOUPE_JUSTIFICATION") or None,
            max_upload=_size(env, "RECOUPE_MAX_UPLOAD", "2GiB"),
            memory_limit=memory,
            threads=threads,
            levels=levels,
            server=server or env.get("RECOUPE_SERVER") or None,
            token=env.get("RECOUPE_TOKEN") or None,
        )

    @classmethod
    def from_os(cls, workspace: Path | None = None, server: str | None = None) -> Settings:
        return cls.from_env(os.environ, workspace, server)


def _levels(text: str) -> tuple[tuple[str, str], ...]:
    """``RECOUPE_LEVELS="NP=Non Protégé,DR=Diffusion Restreinte,..."``, lowest first."""
    levels: list[tuple[str, str]] = []
    for part in text.split(","):
        code, sep, name = part.partition("=")
        if not sep or not code.strip() or not name.strip():
            raise ConfigError(f"RECOUPE_LEVELS: {part!r} is not CODE=Name (lowest level first)")
        levels.append((code.strip(), name.strip()))
    Scale(levels)  # checks that no level is given twice
    return tuple(levels)


def _justify(text: str | None) -> frozenset[str]:
    """``RECOUPE_JUSTIFY="export,compartment"`` (the default) or ``none``."""
    if text is None or not text.strip():
        return JUSTIFY_DEFAULT
    if text.strip().lower() == "none":
        return frozenset()
    wanted = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = sorted(wanted - set(JUSTIFY_CHOICES))
    if unknown:
        raise ConfigError(
            f"RECOUPE_JUSTIFY: {unknown[0]!r}; choose among {', '.join(JUSTIFY_CHOICES)} or none"
        )
    return frozenset(wanted)


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r}: expected 1 or 0 (true or false)")


_UNITS = {"kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def _size(env: Mapping[str, str], name: str, default: str) -> int:
    """A size in bytes from ``512MB``, ``2GiB``..."""
    raw = env.get(name) or default
    found = _MEMORY.match(raw.strip())
    if not found:
        raise ConfigError(f"{name}={raw!r}: expected a size such as 2GiB or 512MB")
    unit = found.group(2).lower()
    return int(float(raw.strip()[: -len(unit)].strip()) * _UNITS[unit])


def make_workspace(path: Path) -> None:
    """Create the workspace folder if missing, entered by its owner alone (mode 0700): it
    holds every byte of the data. An existing folder is left as it is."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
