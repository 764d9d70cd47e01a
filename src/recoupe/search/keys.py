"""Search keys for names and identifiers: what makes spellings and formats meet.

Names are written in many scripts and spellings ("Oussama ben Laden", "Usama bin Ladin",
"أسامة بن لادن"). Each name is indexed three ways:

- ``fold``: transliterated to ASCII (ICU, through ``normality``), lower-cased, split into
  tokens: accents, case and script never matter;
- the folded tokens again, for fuzzy (edit distance) matching;
- ``skeleton``: a consonant skeleton of each folded token (vowels, ``w``, ``h`` after
  the first letter, a final ``j`` and doubled letters dropped, a few sound classes
  merged), so that vowel-less Arabic transliterations and European spellings of the same
  name share keys.

Identifiers (phones, e-mails, IBANs, document numbers) are indexed in one normal form per
type, and a query is turned into every form it could be (a French national phone number, an
IBAN written in groups, a passport number with spaces...).

Pure functions: no index, no database.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from normality import ascii_text

_TOKEN = re.compile(r"[a-z0-9]+")
_ALNUM = re.compile(r"[^A-Za-z0-9]")
# Arabic letters whose usual transliteration would add a consonant or a break that Latin
# spellings of the same name do not have: ta marbuta (ة, a final "a" sound), ayn (ع, often
# unwritten: Omar, Souad) and hamza carriers.
_ARABIC_FIXES = str.maketrans(
    {"\u0629": "\u0647", "\u0639": "", "\u0621": "", "\u0626": "\u064a", "\u0624": "\u0648"}
)
_SOUNDS = (
    ("sch", "s"),
    ("ph", "f"),
    ("ck", "k"),
    ("kh", "k"),
    ("gh", "g"),
    ("dh", "d"),
    ("th", "t"),
    ("sh", "s"),
    ("ch", "s"),
    ("dj", "j"),
    ("q", "k"),
    ("c", "k"),
    ("z", "s"),
    ("x", "ks"),
    ("v", "f"),
)
# vowels, "h" after the first letter, and a final "j" (Cyrillic "-ий" romanised "-ij",
# where other systems write "-i" or "-y")
_DROP = re.compile(r"(?<=.)h|(?<=.)j$|[aeiouyw]")
_REPEAT = re.compile(r"(.)\1+")

ID_TYPES = ("phone", "email", "iban", "identifier")
"""FtM property types whose values are identifiers: equal values link records."""


@lru_cache(maxsize=200_000)
def fold(text: str) -> tuple[str, ...]:
    """ASCII, lower-case tokens of ``text`` in any script."""
    latin = ascii_text(text.translate(_ARABIC_FIXES)) or ""
    return tuple(_TOKEN.findall(latin.lower()))


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """The consonant skeleton of one folded token ("oussama" and "usama" give "sm")."""
    key = token
    for pattern, sound in _SOUNDS:
        key = key.replace(pattern, sound)
    key = _REPEAT.sub(r"\1", _DROP.sub("", key))
    return key if key else token[:1]


def name_keys(names: list[str]) -> tuple[list[str], list[str]]:
    """The folded text and the skeleton keys of a list of names, for the index."""
    folded: list[str] = []
    skeletons: list[str] = []
    for name in names:
        tokens = fold(name)
        if not tokens:
            continue
        folded.append(" ".join(tokens))
        skeletons.append(" ".join(skeleton(t) for t in tokens if not t.isdigit()))
    return folded, skeletons


def identifier_sql(type_name: str, value: str) -> str:
    """SQL turning column ``value`` of ``type_name`` into its indexed normal form."""
    if type_name == "email":
        return f"lower({value})"
    if type_name == "phone":
        return value  # already E.164 after cleaning
    return f"upper(regexp_replace({value}, '[^A-Za-z0-9]', '', 'g'))"


def identifier_forms(text: str, region: str = "FR") -> list[str]:
    """Every indexed form ``text`` could be the query for, most specific first.

    ``region`` is the country assumed for phone numbers written without a country code.
    """
    query = text.strip()
    forms: list[str] = []
    if "@" in query:
        forms.append(query.lower())
    digits = re.sub(r"[\s().\-/]", "", query)
    if re.fullmatch(r"\+?\d{6,17}", digits):
        candidates = [digits]
        if not digits.startswith(("+", "0")):
            candidates.append("+" + digits)
        for candidate in candidates:
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(number):
                forms.append(
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                )
    compact = _ALNUM.sub("", query).upper()
    if len(compact) >= 4:
        forms.append(compact)
    return list(dict.fromkeys(forms))
