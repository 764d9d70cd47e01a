"""Names of the synthetic population, with every spelling each name may take.

A name is a sequence of tokens; a token knows its canonical Latin spelling, its other
Latin spellings (transliteration variants) and, for Arabic and Russian names, its form in
the original script. Given names and family names come from Faker's bundled locales
(offline) and, where Faker has no Latin forms to pair with the original script, from
``name_tables``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from recoupe.scenario import name_tables as tables


class Origin(IntEnum):
    """Where a person's name comes from; it sets spellings, nationality and birthplace."""

    FRENCH = 0
    MAGHREBI = 1
    ARABIC = 2
    RUSSIAN = 3
    TURKISH = 4
    SPANISH = 5
    PORTUGUESE = 6
    WEST_AFRICAN = 7


#: share of each origin in the population, in Origin order
ORIGIN_WEIGHTS: tuple[float, ...] = (0.44, 0.22, 0.05, 0.07, 0.06, 0.05, 0.05, 0.06)


@dataclass(frozen=True, slots=True)
class Token:
    """One word (or fixed group of words) of a name, in all the spellings it may take."""

    forms: tuple[str, ...]
    native: str = ""

    @property
    def canonical(self) -> str:
        return self.forms[0]


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's given and family names; ``origin`` drives how sources spell them."""

    given: tuple[Token, ...]
    family: tuple[Token, ...]
    origin: Origin

    @property
    def first(self) -> str:
        return " ".join(t.canonical for t in self.given)

    @property
    def last(self) -> str:
        return " ".join(t.canonical for t in self.family)

    @property
    def canonical(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def has_native(self) -> bool:
        return all(t.native for t in (*self.given, *self.family))


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _faker_list(locale: str, attribute: str) -> tuple[str, ...]:
    """A name list bundled with Faker (read from the provider class, no network)."""
    module = importlib.import_module(f"faker.providers.person.{locale}")
    values = getattr(module.Provider, attribute)
    return _unique([str(v) for v in values])


# -- Russian: one Cyrillic word, four romanisations ----------------------------------------

_VOWELS = set("\u0430\u0435\u0451\u0438\u043e\u0443\u044b\u044d\u044e\u044faeiouy")
_FRONT_VOWELS = "\u0435\u0438\u044b\u044d"  # Cyrillic e, i, y, e
_GE, _ES = "\u0433", "\u0441"  # Cyrillic g and s


def romanise(word: str, system: dict[str, str]) -> str:
    """Romanise a Cyrillic word with ``system`` over the passport table."""
    out: list[str] = []
    lower = word.lower()
    french = system is tables.CYRILLIC_FRENCH
    german = system is tables.CYRILLIC_GERMAN
    for i, char in enumerate(lower):
        latin = system.get(char, tables.CYRILLIC_ICAO.get(char, char))
        after = lower[i + 1] if i + 1 < len(lower) else ""
        before = lower[i - 1] if i > 0 else ""
        if french and char == _GE and after in _FRONT_VOWELS:
            latin = "gu"  # Sergueï, not Sergeï
        if (french or german) and char == _ES and before in _VOWELS and after in _VOWELS:
            latin = "ss"  # one s between vowels would sound z
        out.append(latin)
    text = "".join(out)
    return text[:1].upper() + text[1:]


def russian_token(word: str) -> Token:
    systems = (
        tables.CYRILLIC_ICAO,
        tables.CYRILLIC_ENGLISH,
        tables.CYRILLIC_FRENCH,
        tables.CYRILLIC_GERMAN,
    )
    return Token(_unique([romanise(word, s) for s in systems]), native=word)


# -- Turkish: the dotless i and the cedillas that other systems drop -------------------------

_TURKISH_ASCII = str.maketrans("ıİşŞğĞçÇöÖüÜ", "iIsSgGcCoOuU")


def turkish_token(word: str) -> Token:
    return Token(_unique([word, word.translate(_TURKISH_ASCII)]))


def _entry_token(entry: tables.Entry) -> Token:
    return Token(tuple(entry[1:]), native=entry[0])


@dataclass(frozen=True, slots=True)
class Pool:
    """The tokens a population of one origin draws its names from."""

    given_male: tuple[Token, ...]
    given_female: tuple[Token, ...]
    family_male: tuple[tuple[Token, ...], ...]
    family_female: tuple[tuple[Token, ...], ...]
    #: share of names drawn from the first ``tabled`` entries (the paired tables)
    tabled_share: float = 0.0
    tabled_given_male: int = 0
    tabled_given_female: int = 0
    tabled_family: int = 0


def _plain(words: Sequence[str]) -> tuple[Token, ...]:
    return tuple(Token((w,)) for w in words)


def _known(tokens: Sequence[Token]) -> dict[str, Token]:
    return {form: t for t in tokens for form in t.forms}


def _maghrebi_pool() -> Pool:
    male = tuple(_entry_token(e) for e in tables.ARABIC_GIVEN_MALE)
    female = tuple(_entry_token(e) for e in tables.ARABIC_GIVEN_FEMALE)
    family = _arabic_family()
    known = _known([*male, *female, *(t for name in family for t in name)])
    # Algerian names in French transliteration, reusing our variants when we have them.
    extra_male = tuple(known.get(w, Token((w,))) for w in _faker_list("fr_DZ", "first_names_male"))
    extra_female = tuple(
        known.get(w, Token((w,))) for w in _faker_list("fr_DZ", "first_names_female")
    )
    extra_family = tuple((known.get(w, Token((w,))),) for w in _faker_list("fr_DZ", "last_names"))
    return Pool(
        given_male=male + extra_male,
        given_female=female + extra_female,
        family_male=family + extra_family,
        family_female=family + extra_family,
        tabled_share=0.7,
        tabled_given_male=len(male),
        tabled_given_female=len(female),
        tabled_family=len(tables.ARABIC_FAMILY),
    )


def _arabic_family() -> tuple[tuple[Token, ...], ...]:
    """Common family names first, then the rare ones (outside the tabled share)."""
    names = tables.ARABIC_FAMILY + tables.ARABIC_FAMILY_RARE
    return tuple(tuple(_entry_token(e) for e in name) for name in names)


def _arabic_pool() -> Pool:
    male = tuple(_entry_token(e) for e in tables.ARABIC_GIVEN_MALE)
    female = tuple(_entry_token(e) for e in tables.ARABIC_GIVEN_FEMALE)
    family = _arabic_family()
    return Pool(
        male,
        female,
        family,
        family,
        tabled_share=0.95,
        tabled_given_male=len(male),
        tabled_given_female=len(female),
        tabled_family=len(tables.ARABIC_FAMILY),
    )


def _russian_pool() -> Pool:
    return Pool(
        given_male=tuple(russian_token(w) for w in _faker_list("ru_RU", "first_names_male")),
        given_female=tuple(russian_token(w) for w in _faker_list("ru_RU", "first_names_female")),
        family_male=tuple((russian_token(w),) for w in _faker_list("ru_RU", "last_names_male")),
        family_female=tuple((russian_token(w),) for w in _faker_list("ru_RU", "last_names_female")),
    )


def _turkish_pool() -> Pool:
    family = tuple((turkish_token(w),) for w in _faker_list("tr_TR", "last_names"))
    return Pool(
        given_male=tuple(turkish_token(w) for w in _faker_list("tr_TR", "first_names_male")),
        given_female=tuple(turkish_token(w) for w in _faker_list("tr_TR", "first_names_female")),
        family_male=family,
        family_female=family,
    )


def _two_surnames(locale: str, count: int) -> tuple[tuple[Token, ...], ...]:
    """Iberian family names: two surnames, from a deterministic pairing of Faker's list."""
    words = _faker_list(locale, "last_names")
    rng = np.random.default_rng(len(words))
    first = rng.integers(0, len(words), count)
    second = rng.integers(0, len(words), count)
    pairs = [(words[a], words[b]) for a, b in zip(first.tolist(), second.tolist(), strict=True)]
    return tuple((Token((a,)), Token((b,))) for a, b in dict.fromkeys(pairs) if a != b)


def _iberian_pool(locale: str) -> Pool:
    family = _two_surnames(locale, 3000)
    return Pool(
        given_male=_plain(_faker_list(locale, "first_names_male")),
        given_female=_plain(_faker_list(locale, "first_names_female")),
        family_male=family,
        family_female=family,
    )


def _west_african_pool() -> Pool:
    male = tuple(_entry_token(e) for e in tables.WEST_AFRICAN_GIVEN_MALE)
    female = tuple(_entry_token(e) for e in tables.WEST_AFRICAN_GIVEN_FEMALE)
    family = tuple(tuple(_entry_token(e) for e in name) for name in tables.WEST_AFRICAN_FAMILY)
    # anglophone West Africa (Yoruba, Akan) from Faker
    extra_male = _plain(
        _faker_list("yo_NG", "first_names_male") + _faker_list("tw_GH", "first_names_male")
    )
    extra_female = _plain(
        _faker_list("yo_NG", "first_names_female") + _faker_list("tw_GH", "first_names_female")
    )
    extra_family = tuple(
        (t,)
        for t in _plain(_faker_list("yo_NG", "last_names") + _faker_list("tw_GH", "last_names"))
    )
    return Pool(
        given_male=male + extra_male,
        given_female=female + extra_female,
        family_male=family + extra_family,
        family_female=family + extra_family,
        tabled_share=0.75,
        tabled_given_male=len(male),
        tabled_given_female=len(female),
        tabled_family=len(family),
    )


def _french_pool() -> Pool:
    family = tuple((t,) for t in _plain(_faker_list("fr_FR", "last_names")))
    return Pool(
        given_male=_plain(_faker_list("fr_FR", "first_names_male")),
        given_female=_plain(_faker_list("fr_FR", "first_names_female")),
        family_male=family,
        family_female=family,
    )


@functools.cache
def pools() -> tuple[Pool, ...]:
    """One pool per Origin, in Origin order (built once: they are constants)."""
    return (
        _french_pool(),
        _maghrebi_pool(),
        _arabic_pool(),
        _russian_pool(),
        _turkish_pool(),
        _iberian_pool("es_ES"),
        _iberian_pool("pt_PT"),
        _west_african_pool(),
    )


def _draw(rng: np.random.Generator, size: int, total: int, tabled: int, share: float) -> list[int]:
    """Indices into a pool list, ``share`` of them among the first ``tabled`` entries."""
    index = rng.integers(0, total, size)
    if tabled and share:
        from_table = rng.random(size) < share
        index = np.where(from_table, rng.integers(0, tabled, size), index)
    result: list[int] = index.tolist()
    return result


def draw_names(
    rng: np.random.Generator, origins: np.ndarray, female: np.ndarray
) -> list[PersonName]:
    """A name for each person, given their origins and genders (arrays of equal length)."""
    names: list[PersonName | None] = [None] * len(origins)
    for origin in Origin:
        for is_female in (False, True):
            where = np.flatnonzero((origins == origin) & (female == is_female)).tolist()
            if not where:
                continue
            pool = pools()[origin]
            given = pool.given_female if is_female else pool.given_male
            family = pool.family_female if is_female else pool.family_male
            tabled_given = pool.tabled_given_female if is_female else pool.tabled_given_male
            g = _draw(rng, len(where), len(given), tabled_given, pool.tabled_share)
            f = _draw(rng, len(where), len(family), pool.tabled_family, pool.tabled_share)
            for person, gi, fi in zip(where, g, f, strict=True):
                names[person] = PersonName((given[gi],), family[fi], origin)
    return [n for n in names if n is not None]


def false_names(rng: np.random.Generator, count: int) -> list[PersonName]:
    """Made-up French names, as given when registering a prepaid line under a false name."""
    pool = pools()[Origin.FRENCH]
    g = rng.integers(0, len(pool.given_male), count).tolist()
    f = rng.integers(0, len(pool.family_male), count).tolist()
    return [
        PersonName((pool.given_male[a],), pool.family_male[b], Origin.FRENCH)
        for a, b in zip(g, f, strict=True)
    ]
