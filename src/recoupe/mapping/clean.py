"""Value cleaning with FollowTheMoney's property types, one distinct value at a time.

A :class:`Cleaner` names one way of cleaning (a type, plus a format or a country hint).
The engine collects the distinct raw values each cleaner meets, calls
:func:`clean_distinct` once per value never seen before, and joins the results back in
columns. Values that are already clean in an obvious way (ISO dates, plain ASCII text)
never reach Python: :func:`fast_path` gives the SQL predicate that recognises them, and
the tests check it agrees with FtM on every value it accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from followthemoney.property import Property
from followthemoney.types import registry
from followthemoney.types.common import PropertyType

# Types whose clean() keeps printable ASCII text unchanged once trimmed (checked in tests).
_ASCII_KEEP = {"string", "text", "identifier", "number", "html", "checksum"}
# Types whose clean() also collapses runs of white space.
_ASCII_COLLAPSE = {"name"}


@dataclass(frozen=True)
class Cleaner:
    """One way of cleaning raw values: an FtM type and its format or region hint."""

    type_name: str
    format: str | None = None

    @property
    def id(self) -> str:
        return self.type_name if self.format is None else f"{self.type_name}|{self.format}"

    @property
    def type(self) -> PropertyType:
        return registry[self.type_name]


def cleaner_for(prop: Property, fmt: str | None, countries: Iterable[str]) -> Cleaner | None:
    """The cleaner for a mapped property, or ``None`` for entity references."""
    type_name = prop.type.name
    if type_name == "entity":
        return None
    if fmt is None and type_name == "phone":
        fmt = next(iter(countries), None)
    if type_name not in ("date", "phone", "number"):
        fmt = None
    return Cleaner(type_name, fmt)


def fast_path(cleaner: Cleaner, column: str) -> str | None:
    """SQL predicate true when ``column`` is already the cleaned value, or ``None``."""
    if cleaner.format is not None:
        return None
    name = cleaner.type_name
    ascii_text = f"regexp_full_match({column}, '[ -~]+') AND {column} = trim({column})"
    if name in _ASCII_KEEP:
        return ascii_text
    if name in _ASCII_COLLAPSE:
        # Names also lose surrounding quotes: only plain, letter-bounded text is kept as is.
        return (
            f"regexp_full_match({column}, '[A-Za-z0-9]([ -~]*[A-Za-z0-9.])?') "
            f"AND strpos({column}, '  ') = 0"
        )
    if name == "date":
        return (
            f"regexp_full_match({column}, '(1[0-9]|20)[0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
            f"(T[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?')"
            f" AND try_cast(replace({column}, 'T', ' ') AS TIMESTAMP) IS NOT NULL"
        )
    return None


def clean_distinct(cleaner: Cleaner, raws: Iterable[str]) -> tuple[list[str | None], list[str]]:
    """Clean each raw value; return the cleaned values (``None`` when invalid) and reasons.

    The reason is empty for a value that cleaned.
    """
    ptype = cleaner.type
    values: list[str | None] = []
    reasons: list[str] = []
    label = ptype.label.lower() if ptype.label else ptype.name
    for raw in raws:
        try:
            value = ptype.clean(raw, format=cleaner.format)
        except (ValueError, TypeError, OverflowError) as exc:
            value = None
            reason = f"not a valid {label} ({exc})"
        else:
            reason = "" if value is not None else f"not a valid {label}"
        values.append(value)
        reasons.append(reason)
    return values, reasons
