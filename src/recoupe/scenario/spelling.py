"""How each kind of source writes a name: transliteration variants, original script,
order, case, accents, typing mistakes, passport style, and what cp1252 can encode.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from dataclasses import dataclass

from recoupe.scenario.names import Origin, PersonName


@dataclass(frozen=True, slots=True)
class Style:
    """The habits of one kind of source, as probabilities per record."""

    translit: float = 0.0  #: each token takes another transliteration
    join_words: float = 0.0  #: a family name of several words is written as one
    drop_surname: float = 0.0  #: Iberian names lose one of their two surnames
    strip_accents: float = 0.0
    typo: float = 0.0  #: one-character mistake
    last_first: float = 0.0  #: written "LAST First" rather than "First Last"
    upper: float = 0.0  #: written all in capitals
    passport: float = 0.0  #: written "LAST/FIRST" in capitals, Latin letters only
    civility: float = 0.0  #: prefixed with "M." or "Mme"


REGISTRY = Style(typo=0.02)
TELECOM = Style(
    translit=0.4,
    join_words=0.15,
    drop_surname=0.3,
    strip_accents=0.3,
    typo=0.08,
    last_first=0.2,
    upper=0.15,
)
BANK = Style(
    translit=0.35,
    join_words=0.1,
    drop_surname=0.2,
    strip_accents=0.6,
    typo=0.05,
    last_first=0.6,
    upper=0.5,
    civility=0.2,
)
DIRECTORS = Style(
    translit=0.3,
    join_words=0.1,
    drop_surname=0.2,
    strip_accents=0.2,
    typo=0.04,
    last_first=0.7,
    upper=0.3,
)
TRAVEL = Style(
    translit=0.4,
    join_words=0.15,
    drop_surname=0.4,
    strip_accents=0.3,
    typo=0.05,
    passport=0.5,
)

_NON_LATIN = re.compile("[\u0400-\u06ff]")  # Cyrillic to Arabic blocks


def _azerty_neighbours() -> dict[str, str]:
    """Keys next to each letter on a French (AZERTY) keyboard, for substitution mistakes."""
    rows = ("azertyuiop", "qsdfghjklm", "wxcvbn")
    result = {}
    for r, row in enumerate(rows):
        for c, char in enumerate(row):
            near = [row[c - 1] if c > 0 else "", row[c + 1] if c + 1 < len(row) else ""]
            near += [rows[o][c] for o in (r - 1, r + 1) if 0 <= o < len(rows) and c < len(rows[o])]
            result[char] = "".join(near)
    return result


_NEIGHBOURS = _azerty_neighbours()


def is_latin(text: str) -> bool:
    """Whether ``text`` has no Arabic or Cyrillic letter."""
    return _NON_LATIN.search(text) is None


@functools.lru_cache(maxsize=1 << 16)
def strip_accents(text: str) -> str:
    """Latin text without diacritics ("Hélène Aït" -> "Helene Ait")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def typo(text: str, rnd: random.Random) -> str:
    """One typing mistake: a neighbouring key, a missing, doubled or swapped letter."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = rnd.choice(letters[1:])
    kind = rnd.randrange(4)
    char = text[i]
    if kind == 0:
        near = _NEIGHBOURS.get(char.lower(), "")
        if not near:
            return text[:i] + text[i + 1 :]
        new = rnd.choice(near)
        return text[:i] + (new.upper() if char.isupper() else new) + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + char + text[i:]
    if i + 1 < len(text) and text[i + 1].isalpha() and text[i + 1] != char:
        return text[:i] + text[i + 1] + char + text[i + 2 :]
    return text[:i] + text[i + 1 :]


def _latin(name: PersonName, style: Style, rnd: random.Random) -> tuple[str, str]:
    given = [
        rnd.choice(t.forms[1:])
        if len(t.forms) > 1 and rnd.random() < style.translit
        else t.forms[0]
        for t in name.given
    ]
    family = [
        rnd.choice(t.forms[1:])
        if len(t.forms) > 1 and rnd.random() < style.translit
        else t.forms[0]
        for t in name.family
    ]
    if (
        len(family) == 2
        and name.origin in (Origin.SPANISH, Origin.PORTUGUESE)
        and rnd.random() < style.drop_surname
    ):
        # Spaniards are known by their first surname, Portuguese by their last
        family = family[:1] if name.origin is Origin.SPANISH else family[1:]
    first, last = " ".join(given), " ".join(family)
    if " " in last and rnd.random() < style.join_words:
        last = last.replace(" ", "" if rnd.random() < 0.6 else "-")
    if rnd.random() < style.strip_accents:
        first, last = strip_accents(first), strip_accents(last)
    if rnd.random() < style.typo:
        if rnd.random() < 0.5:
            first = typo(first, rnd)
        else:
            last = typo(last, rnd)
    return first, last


def spell(
    name: PersonName, style: Style, rnd: random.Random, native: bool = False
) -> tuple[str, str]:
    """(first, last) as one source writes them; ``native`` uses the original script."""
    if native and name.has_native:
        return (
            " ".join(t.native for t in name.given),
            " ".join(t.native for t in name.family),
        )
    return _latin(name, style, rnd)


def full_name(first: str, last: str, style: Style, rnd: random.Random, female: bool = False) -> str:
    """One string for a name, in the order, case and form a source uses."""
    if not is_latin(first + last):
        # Arabic or Cyrillic script: kept in its natural order and case
        return f"{first} {last}"
    if rnd.random() < style.passport:
        return passport_name(first, last)
    if rnd.random() < style.last_first:
        text = f"{last.upper()} {first}" if rnd.random() < 0.7 else f"{last} {first}"
    else:
        text = f"{first} {last}"
    if rnd.random() < style.upper:
        text = text.upper()
    if rnd.random() < style.civility:
        text = f"{'Mme' if female else 'M.'} {text}"
    return text


def passport_name(first: str, last: str) -> str:
    """The machine-readable style of travel documents: "BEN LADEN/OUSSAMA"."""

    def clean(text: str) -> str:
        ascii_text = strip_accents(text).replace("'", "").replace("-", " ")
        return " ".join(ascii_text.upper().split())

    return f"{clean(last)}/{clean(first)}"


# letters with no decomposition to a cp1252 letter: Turkish dotless i, Akan open vowels
_CP1252_EXTRA = str.maketrans(
    {
        "\u0131": "i",
        "\u0130": "I",
        "\u0254": "o",
        "\u0186": "O",
        "\u025b": "e",
        "\u0190": "E",
        "\u03b5": "e",
        "\u0395": "E",
        "\u014b": "ng",
        "\u014a": "Ng",
    }
)


def to_cp1252(text: str) -> str:
    """``text`` with what cp1252 cannot encode folded to its closest Latin letters.

    Raises UnicodeEncodeError for what has no Latin fold (another script): callers
    spell such names in Latin letters first.
    """
    text = text.translate(_CP1252_EXTRA)
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        folded = "".join(
            c if _encodes(c) else strip_accents(c) for c in unicodedata.normalize("NFC", text)
        )
        folded.encode("cp1252")
        return folded
    return text


def _encodes(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True
