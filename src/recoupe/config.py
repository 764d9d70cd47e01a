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

from recoupe.errors import ConfigError
from recoupe.security.markings import FRENCH_LEVELS, Scale

DEFAULT_WORKSPACE = Path("recoupe-data")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """Where the workspace is and how much of the machine the engine may use."""

    workspace: Path = DEFAULT_WORKSPACE
    memory_limit: str = "3GB"
    threads: int | None = None
    levels: tuple[tuple[str, str], ...] = FRENCH_LEVELS
    server: str | None = None
    token: str | None = None

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
