"""Names made comparable across scripts, spellings and word orders.

Two forms of a name feed the comparisons:

- :func:`name_form`: Latin letters (Arabic and Cyrillic are transliterated), lower case,
  titles dropped, words sorted: "Mme GILBERT Claire" and "Claire Gilbert" are one form;
- :func:`name_keys`: consonant skeletons of each word and of each pair of adjacent words.
  Transliteration keeps the consonants and loses the vowels: "مهدي عبد القادر" gives
  "mhdy ʿbd alqadr" and "Mehdi ABDELKADER" shares its keys ``mhd`` and ``bdlkdr``.

Pure functions over strings; the store calls them once per distinct name.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from normality import ascii_text

TITLES = frozenset(
    [
        "m",
        "mr",
        "mme",
        "mlle",
        "mrs",
        "ms",
        "miss",
        "dr",
        "pr",
        "me",
        "sr",
        "sra",
        "herr",
        "frau",
        "sayin",
        "bay",
        "bayan",
        "hr",
    ]
)
_NOT_LETTER = re.compile(r"[^a-z0-9]+")
_DIGRAPHS = (
    ("sch", "s"),
    ("tch", "c"),
    ("dj", "j"),
    ("dzh", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("gh", "g"),
    ("sh", "s"),
    ("ch", "s"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("ck", "k"),
    ("ts", "c"),
    ("tz", "c"),
    ("x", "ks"),
    ("q", "k"),
    ("c", "k"),
)
_VOWELS = re.compile(r"[aeiouyvw]")
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)
def latin_words(name: str) -> tuple[str, ...]:
    """The words of a name in lower-case Latin letters, titles dropped."""
    text = ascii_text(name).lower()
    words = [w for w in _NOT_LETTER.split(text) if w]
    kept = [w for w in words if w not in TITLES]
    return tuple(kept or words)


def name_form(name: str) -> str | None:
    """Latin letters, lower case, titles dropped, words sorted (None when empty)."""
    words = latin_words(name)
    return " ".join(sorted(words)) if words else None


@lru_cache(maxsize=500_000)
def skeleton(word: str) -> str:
    """The consonants of a word, spelling variants folded ("Youssef" and "Yusuf": ``sf``)."""
    for old, new in _DIGRAPHS:
        word = word.replace(old, new)
    if word.startswith("j"):
        word = "J" + word[1:]
    word = _VOWELS.sub("", word.replace("j", "")).replace("J", "j")
    return _REPEATS.sub(r"\1", word)


def name_keys(name: str) -> list[str]:
    """Skeletons of each word and of each pair of adjacent words, sorted, no duplicates.

    Keys of one letter are dropped (they match too much); an article written apart
    ("el", "al") still shows in the pair keys.
    """
    words = latin_words(name)
    bones = [skeleton(w) for w in words]
    keys = {b for b in bones if len(b) >= 2}
    for a, b in itertools.pairwise(bones):
        joined = _REPEATS.sub(r"\1", a + b)
        if len(joined) >= 3:
            keys.add(joined)
    return sorted(keys)
