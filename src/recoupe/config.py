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

DEFAULT_WORKSPACE = Path("recoupe-data")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """Where the workspace is and how much of the machine the engine may use."""

    workspace: Path = DEFAULT_WORKSPACE
    memory_limit: str = "3GB"
    threads: int | None = None

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        workspace: Path | None = None,
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
        return cls(workspace=ws.expanduser(), memory_limit=memory, threads=threads)

    @classmethod
    def from_os(cls, workspace: Path | None = None) -> Settings:
        return cls.from_env(os.environ, workspace)
