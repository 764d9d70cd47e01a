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

from recoupe.search.keys import fold, skeleton

TITLES = frozenset(
    {"m", "mr", "mme", "mlle", "mrs", "ms", "miss", "dr", "pr", "me", "sr", "sra"}
    | {"herr", "frau", "hr", "sayin", "bay", "bayan"}
)
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)
def latin_words(name: str) -> tuple[str, ...]:
    """The words of a name as search folds them (:func:`recoupe.search.keys.fold`: Latin
    letters, lower case, any script), titles dropped."""
    words = fold(name)
    kept = tuple(w for w in words if w not in TITLES)
    return kept or words


def name_form(name: str) -> str | None:
    """Latin letters, lower case, titles dropped, words sorted (None when empty)."""
    words = latin_words(name)
    return " ".join(sorted(words)) if words else None


def name_keys(name: str) -> list[str]:
    """Skeletons (:func:`recoupe.search.keys.skeleton`, the ones search uses) of each word
    and of each pair of adjacent words, sorted, no duplicates.

    Keys of one letter are dropped (they match too much); an article written apart
    ("el", "al") still shows in the pair keys.
    """
    bones = [skeleton(w) for w in latin_words(name) if not w.isdigit()]
    keys = {b for b in bones if len(b) >= 2}
    for a, b in itertools.pairwise(bones):
        joined = _REPEATS.sub(r"\1", a + b)
        if len(joined) >= 3:
            keys.add(joined)
    return sorted(keys)
