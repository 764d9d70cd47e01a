"""Classification levels, compartments and the markings built from them.

A :class:`Scale` is an ordered list of levels; the default is the French one
(Non Protégé < Diffusion Restreinte < Secret < Très Secret). A :class:`Marking` is one
level plus a set of named compartments. Markings are written as text in one canonical
form, ``CODE`` or ``CODE//COMPARTMENT/COMPARTMENT`` (``S//ORION/HUMINT``), which is what
the store keeps in ``datasets.marking``; :meth:`Scale.parse` also accepts full names in any
case, with or without accents (``"très secret"``), so people can type what they read.

Anything derived from several markings carries their :meth:`Marking.combine`: the highest
level and every compartment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recoupe.errors import ConfigError

_COMPARTMENT = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    rank: int


@dataclass(frozen=True, order=True)
class Marking:
    """A level and the compartments one must hold, all of them, to see what it marks."""

    rank: int
    code: str
    name: str
    compartments: frozenset[str] = frozenset()

    def __str__(self) -> str:
        if not self.compartments:
            return self.code
        return f"{self.code}//{'/'.join(sorted(self.compartments))}"

    @property
    def banner(self) -> str:
        """What a page or an export shows: ``SECRET // ORION / HUMINT``."""
        words = [self.name.upper(), *sorted(self.compartments)]
        return " // ".join([words[0], " / ".join(words[1:])]) if len(words) > 1 else words[0]

    def combine(self, other: Marking) -> Marking:
        """The marking of something made from both: highest level, every compartment."""
        top = self if self.rank >= other.rank else other
        return Marking(top.rank, top.code, top.name, self.compartments | other.compartments)

    def to_dict(self) -> dict[str, object]:
        return {
            "marking": str(self),
            "level": self.code,
            "level_name": self.name,
            "rank": self.rank,
            "compartments": sorted(self.compartments),
            "banner": self.banner,
        }


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("_", " ").replace("-", " ").split()).casefold()


class Scale:
    """The ordered classification levels of a service."""

    def __init__(self, levels: Sequence[tuple[str, str]]) -> None:
        if not levels:
            raise ConfigError("classification levels: give at least one level")
        self.levels = tuple(Level(code, name, rank) for rank, (code, name) in enumerate(levels))
        self._by_word: dict[str, Level] = {}
        for level in self.levels:
            for word in (level.code, level.name):
                key = _fold(word)
                if key in self._by_word:
                    raise ConfigError(f"classification levels: {word!r} is given twice")
                self._by_word[key] = level

    @property
    def lowest(self) -> Marking:
        first = self.levels[0]
        return Marking(first.rank, first.code, first.name)

    def level(self, word: str) -> Level:
        """The level named by its code or its full name; ConfigError names the word."""
        found = self._by_word.get(_fold(word))
        if found is None:
            known = ", ".join(f"{lv.code} ({lv.name})" for lv in self.levels)
            raise ConfigError(f"unknown classification level {word!r}; known levels: {known}")
        return found

    def marking(self, level: str, compartments: Iterable[str] = ()) -> Marking:
        lv = self.level(level)
        return Marking(lv.rank, lv.code, lv.name, frozenset(compartment(c) for c in compartments))

    def parse(self, text: str) -> Marking:
        """A marking from its text: ``DR``, ``S//ORION/HUMINT``, ``Très Secret//ORION``."""
        head, _, tail = text.partition("//")
        parts = [p for p in re.split(r"[/,\s]+", tail.strip()) if p]
        return self.marking(head.strip(), parts)

    def combine(self, markings: Iterable[Marking]) -> Marking:
        """The marking of what is made from all of ``markings`` (the lowest if none)."""
        result = self.lowest
        for m in markings:
            result = result.combine(m)
        return result


def compartment(name: str) -> str:
    """A compartment name, upper-cased; ConfigError when it is not a plain word."""
    upper = name.strip().upper()
    if not _COMPARTMENT.match(upper):
        raise ConfigError(
            f"compartment {name!r}: use letters, digits, '-' or '_' (at most 32 characters)"
        )
    return upper


FRENCH_LEVELS: tuple[tuple[str, str], ...] = (
    ("NP", "Non Protégé"),
    ("DR", "Diffusion Restreinte"),
    ("S", "Secret"),
    ("TS", "Très Secret"),
)
FRENCH = Scale(FRENCH_LEVELS)
