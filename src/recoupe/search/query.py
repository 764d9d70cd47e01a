"""What an analyst asks the search for, and how the query text is read.

Query text syntax (any script; accents and case never matter):

- ``word``: the word in names (exact, fuzzy, same consonant skeleton) or in any value;
- ``"two words"``: a phrase, in names or values;
- ``wor*``: a prefix;
- ``word~2``: fuzzy with that edit distance (0 to 2), whatever ``fuzzy`` says;
- the whole text is also tried as an identifier: a phone number in any common format, an
  IBAN with or without spaces, an e-mail address, a passport or ID number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from recoupe.errors import ConfigError

MAX_LIMIT = 500
MAX_WINDOW = 10_000
_PART = re.compile(r'"([^"]*)"|(\S+)')
_FUZZY = re.compile(r"^(.+)~([0-2])?$")


@dataclass(frozen=True)
class Term:
    """One part of the query text."""

    text: str
    kind: str  # "word", "phrase", "prefix" or "fuzzy"
    distance: int | None = None


@dataclass(frozen=True)
class SearchQuery:
    """A search: text, filters, paging. Filters combine with AND, values within with OR."""

    q: str = ""
    schemata: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    fuzzy: bool = True
    limit: int = 20
    offset: int = 0
    facets: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ConfigError(f"limit={self.limit}: use 1 to {MAX_LIMIT}")
        if self.offset < 0 or self.offset + self.limit > MAX_WINDOW:
            raise ConfigError(
                f"offset={self.offset}: results beyond {MAX_WINDOW} are not paged; "
                "narrow the search with filters"
            )
        if (
            self.date_from is not None
            and self.date_to is not None
            and self.date_from > self.date_to
        ):
            raise ConfigError(f"date_from={self.date_from} is after date_to={self.date_to}")
        if len(self.q) > 1000:
            raise ConfigError("q: a query is at most 1000 characters")

    @classmethod
    def from_params(cls, q: str = "", **params: Any) -> SearchQuery:
        """A query from API-style parameters: ``schema``, ``dataset`` and ``country`` as
        lists, dates as ``date`` or ISO strings, the rest as named in the class."""

        def day(name: str) -> date | None:
            value = params.get(name)
            if isinstance(value, str):
                try:
                    return date.fromisoformat(value)
                except ValueError as exc:
                    raise ConfigError(f"{name}={value!r}: give a date as YYYY-MM-DD") from exc
            return value if isinstance(value, date) else None

        return cls(
            q=q,
            schemata=tuple(params.get("schema") or ()),
            datasets=tuple(params.get("dataset") or ()),
            countries=tuple(c.lower() for c in params.get("country") or ()),
            date_from=day("date_from"),
            date_to=day("date_to"),
            fuzzy=bool(params.get("fuzzy", True)),
            limit=int(params.get("limit", 20)),
            offset=int(params.get("offset", 0)),
            facets=bool(params.get("facets", True)),
        )

    def terms(self) -> list[Term]:
        """The parts of the query text."""
        terms: list[Term] = []
        for match in _PART.finditer(self.q):
            phrase, word = match.group(1), match.group(2)
            if phrase is not None:
                if phrase.strip():
                    terms.append(Term(phrase.strip(), "phrase"))
                continue
            fuzzy = _FUZZY.match(word)
            if fuzzy is not None:
                distance = int(fuzzy.group(2)) if fuzzy.group(2) is not None else 1
                terms.append(Term(fuzzy.group(1), "fuzzy", distance))
            elif word.endswith("*") and len(word) > 1:
                terms.append(Term(word.rstrip("*"), "prefix"))
            else:
                terms.append(Term(word, "word"))
        return terms
