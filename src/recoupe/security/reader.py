"""Who is reading: every read of entity data takes a :class:`Reader`.

The store asks the reader which datasets it may see and filters statements in the query
itself, so nothing invisible ever leaves the store. Markings, clearances and compartments
refine :meth:`Reader.can_see` without changing any caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    """An access decision and the reason for it."""

    allowed: bool
    reason: str


@dataclass(frozen=True)
class Reader:
    """A person or process reading the store."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls) -> Reader:
        """The local operator of a workspace (command line on the workspace folder)."""
        return cls(name="system", roles=frozenset({"admin"}))

    def can_see(self, dataset: str, marking: str | None) -> Decision:
        """Whether this reader may see the statements of ``dataset``."""
        return Decision(True, f"{self.name} has access to every dataset of this workspace")
