"""Identifiers with their real check digits, computed on whole arrays.

French IBAN (RIB key and ISO 7064 mod 97-10), SIREN and IMEI (Luhn), social security
number (NIR key), E.164 French mobile numbers, booking references, passport numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from recoupe.scenario.tables import Column, concat, digits

Ints = npt.NDArray[np.int64]

_PNR_ALPHABET = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_DIGITS = np.array(list("0123456789"))


def unique_ints(rng: np.random.Generator, low: int, high: int, count: int) -> Ints:
    """``count`` distinct integers in [low, high), in random order."""
    if high - low < count:
        raise ValueError(f"cannot draw {count} distinct values from {high - low}")
    if high - low <= 4 * count:
        return (rng.permutation(high - low)[:count] + low).astype(np.int64)
    result = np.empty(0, dtype=np.int64)
    while len(result) < count:
        draw = rng.integers(low, high, int((count - len(result)) * 1.1) + 16, dtype=np.int64)
        merged = np.concatenate([result, draw])
        _, first = np.unique(merged, return_index=True)
        result = merged[np.sort(first)]
    return result[:count]


def luhn_digit(body: Ints, length: int) -> Ints:
    """The Luhn check digit of ``length``-digit numbers."""
    rest = np.asarray(body, dtype=np.int64).copy()
    total = np.zeros_like(rest)
    for position in range(length):
        digit = rest % 10
        rest //= 10
        if position % 2 == 0:  # rightmost digit of the body is doubled
            digit = digit * 2
            digit = digit // 10 + digit % 10
        total += digit
    return (10 - total % 10) % 10


def siren(rng: np.random.Generator, count: int) -> Column:
    """Distinct SIREN numbers (9 digits, Luhn-valid)."""
    body = unique_ints(rng, 10_000_000, 99_999_999, count)
    return digits(body * 10 + luhn_digit(body, 8), 9)


def imei(rng: np.random.Generator, count: int) -> Ints:
    """IMEIs (15 digits, Luhn-valid) with type allocation codes of common handsets."""
    tacs = np.array([35_209_900, 35_332_011, 35_875_608, 86_691_203, 35_391_110, 35_684_610])
    body = tacs[rng.integers(0, len(tacs), count)] * 1_000_000 + rng.integers(0, 1_000_000, count)
    return body * 10 + luhn_digit(body, 14)


def rib_key(bank: Ints, branch: Ints, account: Ints) -> Ints:
    """The two-digit key of a French RIB (numeric account numbers)."""
    return 97 - (89 * bank + 15 * branch + 3 * account) % 97


def french_iban(bank: Ints, branch: Ints, account: Ints) -> Column:
    """French IBANs (27 characters) with valid RIB keys and IBAN check digits."""
    bank, branch, account = (np.asarray(a, dtype=np.int64) for a in (bank, branch, account))
    key = rib_key(bank, branch, account)
    remainder = bank % 97
    remainder = (remainder * 100_000 + branch) % 97
    remainder = (remainder * 100_000_000_000 + account) % 97
    remainder = (remainder * 100 + key) % 97
    remainder = (remainder * 1_000_000 + 152_700) % 97  # "FR00": F=15, R=27
    check = 98 - remainder
    return concat(
        "FR",
        digits(check, 2),
        digits(bank, 5),
        digits(branch, 5),
        digits(account, 11),
        digits(key, 2),
    )


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 check of one IBAN (used by the tests and by callers who doubt)."""
    text = iban.replace(" ", "").upper()
    moved = text[4:] + text[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return len(text) > 4 and int(number) % 97 == 1


def nir(
    male: npt.NDArray[np.bool_],
    year: Ints,
    month: Ints,
    department: Ints,
    commune: Ints,
    rng: np.random.Generator,
) -> Column:
    """French social security numbers (13 digits and the 2-digit key)."""
    order = rng.integers(1, 999, len(year))
    number = (
        np.where(male, 1, 2) * 10**12
        + (year % 100) * 10**10
        + month * 10**8
        + department * 10**6
        + commune * 10**3
        + order
    )
    return concat(digits(number, 13), digits(97 - number % 97, 2))


#: four-digit prefixes that are not metropolitan mobile numbers: 06 39, 06 90-94 and
#: 06 96-97 belong to overseas departments, 07 00-07 29 are not assigned
_NOT_MOBILE = ((6390, 6399), (6900, 6949), (6960, 6979), (7000, 7299))
_MOBILE_PREFIXES = np.array(
    [p for p in range(6000, 8000) if not any(lo <= p <= hi for lo, hi in _NOT_MOBILE)],
    dtype=np.int64,
)


def french_mobiles(rng: np.random.Generator, count: int) -> Ints:
    """Distinct French mobile numbers as E.164 digits without '+' (33612345678)."""
    draw = unique_ints(rng, 0, len(_MOBILE_PREFIXES) * 100_000, count)
    national = _MOBILE_PREFIXES[draw // 100_000] * 100_000 + draw % 100_000
    return 33_000_000_000 + national


def human_phone(msisdn: Ints, rng: np.random.Generator) -> Column:
    """French mobile numbers as people write them: "06 12 34 56 78", "+33 6 12 34 56 78"."""
    national = digits(np.asarray(msisdn) - 33_000_000_000, 9)

    def part(start: int, stop: int) -> Column:
        return pc.utf8_slice_codeunits(national, start, stop)

    d, p1, p2, p3, p4 = part(0, 1), part(1, 3), part(3, 5), part(5, 7), part(7, 9)
    styles = (
        concat("0", d, " ", p1, " ", p2, " ", p3, " ", p4),
        concat("+33 ", d, " ", p1, " ", p2, " ", p3, " ", p4),
        concat("0", national),
        concat("0", d, ".", p1, ".", p2, ".", p3, ".", p4),
        concat("+33", national),
    )
    index = rng.choice(len(styles), len(msisdn), p=[0.55, 0.2, 0.15, 0.05, 0.05])
    return pc.choose(index.astype(np.int8), *styles)


def _pattern(rng: np.random.Generator, count: int, pattern: str) -> npt.NDArray[Any]:
    """Random strings following ``pattern``: '9' a digit, 'A' a letter, else literal."""
    columns = []
    for char in pattern:
        if char == "9":
            columns.append(_DIGITS[rng.integers(0, 10, count)])
        elif char == "A":
            columns.append(_LETTERS[rng.integers(0, 26, count)])
        else:
            columns.append(np.full(count, char))
    if not columns:
        return np.full(count, "")
    matrix = np.ascontiguousarray(np.stack(columns, axis=1).astype("<U1"))
    return matrix.view(f"<U{len(pattern)}").reshape(count)


def patterned(rng: np.random.Generator, count: int, pattern: str) -> npt.NDArray[Any]:
    """Distinct random strings following ``pattern`` (see ``_pattern``)."""
    values = _pattern(rng, count, pattern)
    while True:
        _, first = np.unique(values, return_index=True)
        duplicate = np.ones(count, dtype=bool)
        duplicate[first] = False
        if not duplicate.any():
            return values
        values[duplicate] = _pattern(rng, int(duplicate.sum()), pattern)


def booking_refs(rng: np.random.Generator, count: int) -> npt.NDArray[Any]:
    """Distinct six-character booking references (no 0/O, 1/I look-alikes)."""
    number = unique_ints(rng, 0, len(_PNR_ALPHABET) ** 6, count)
    columns = []
    for _ in range(6):
        columns.append(_PNR_ALPHABET[number % len(_PNR_ALPHABET)])
        number = number // len(_PNR_ALPHABET)
    matrix = np.ascontiguousarray(np.stack(columns[::-1], axis=1).astype("<U1"))
    return matrix.view("<U6").reshape(count)


def prefixed(rng: np.random.Generator, prefix: str, count: int, width: int) -> Column:
    """Distinct opaque identifiers such as "ABN-0412345" (random, not in row order)."""
    return concat(prefix, digits(unique_ints(rng, 1, 10**width, count), width))
