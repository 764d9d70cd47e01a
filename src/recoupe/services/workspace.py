"""Opening a workspace's store with the settings."""

from __future__ import annotations

from recoupe.config import Settings
from recoupe.store import DuckDBStore, open_store


def open_workspace(
    settings: Settings, *, create: bool = False, read_only: bool = False
) -> DuckDBStore:
    """The store of the configured workspace (``create`` makes a new one)."""
    return open_store(
        settings.workspace,
        create=create,
        read_only=read_only,
        memory_limit=settings.memory_limit,
        threads=settings.threads,
    )
