"""Who is reading: every read of entity data takes a :class:`Reader`.

The store asks the reader which datasets it may see and filters statements in the query
itself, so nothing invisible ever leaves the store. Every statement inherits the marking
of its dataset; a reader sees a dataset when their clearance is at least its level and
they hold every one of its compartments (need-to-know). A dataset whose marking cannot be
read is refused to everyone but the workspace operator: access fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from recoupe.errors import ConfigError
from recoupe.security.markings import FRENCH, Marking, Scale

ROLES = ("viewer", "analyst", "admin", "auditor")
"""viewer reads; analyst reads and imports; admin also manages users and markings;
auditor reads the audit log (and no data)."""


@dataclass(frozen=True)
class Decision:
    """An access decision and the reason for it."""

    allowed: bool
    reason: str


@dataclass(frozen=True)
class Reader:
    """A person or process reading the store.

    ``clearance`` is a level rank of ``scale`` and ``compartments`` the compartments held;
    ``None`` for either means every one (the operator of a workspace folder).
    ``justification`` is why the reader asks (when the request said), and ``justify`` the
    checkpoints that need one (``export``, ``compartment``: see :mod:`recoupe.services.marking`).
    """

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    clearance: int | None = None
    compartments: frozenset[str] | None = None
    scale: Scale = FRENCH
    default_marking: Marking | None = None
    justification: str | None = None
    justify: frozenset[str] = frozenset()

    @classmethod
    def system(cls, name: str = "system", scale: Scale = FRENCH) -> Reader:
        """The local operator of a workspace (command line on the workspace folder)."""
        return cls(name=name, roles=frozenset({"admin"}), scale=scale)

    @property
    def is_operator(self) -> bool:
        return self.clearance is None and self.compartments is None

    def marking_of(self, marking: str | None) -> Marking:
        """A stored marking read on this reader's scale (unmarked: the default marking)."""
        if marking is None or not marking.strip():
            return self.default_marking or self.scale.lowest
        return self.scale.parse(marking)

    def can_see(self, dataset: str, marking: str | None) -> Decision:
        """Whether this reader may see the statements of ``dataset``, and why."""
        if self.is_operator:
            return Decision(True, f"{self.name} operates this workspace and sees every dataset")
        try:
            mark = self.marking_of(marking)
        except ConfigError:
            return Decision(False, f"{dataset}: its marking {marking!r} cannot be read")
        clearance = self.clearance if self.clearance is not None else len(self.scale.levels)
        if mark.rank > clearance:
            held = self.scale.levels[min(clearance, len(self.scale.levels) - 1)].name
            return Decision(False, f"{dataset} is {mark.name}; {self.name} is cleared {held}")
        if self.compartments is not None:
            missing = sorted(mark.compartments - self.compartments)
            if missing:
                return Decision(
                    False, f"{dataset} needs compartment(s) {', '.join(missing)}, not held"
                )
        return Decision(True, f"{self.name} is cleared for {dataset} ({mark})")

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles
