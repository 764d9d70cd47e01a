"""The bank's side: accounts with their holders, and transfers between accounts.

Structured transfers of the cell: the financier splits money into amounts just under the
reporting threshold, sent to two intermediaries who pass it on to the operatives within
a few weeks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from recoupe.scenario import identifiers, spelling
from recoupe.scenario.cell import REPORTING_THRESHOLD_CENTS, CellPlan
from recoupe.scenario.output import Output
from recoupe.scenario.people import Population
from recoupe.scenario.streams import stream, text_stream
from recoupe.scenario.tables import (
    PERIOD_DAYS,
    Defect,
    amounts,
    blank_where,
    concat,
    digits,
    iso_dates,
    strings,
)

Ints = npt.NDArray[np.int64]

ACCOUNTS = "bank/accounts.csv"
TRANSFERS = "bank/transfers.csv"

#: (name, bank code, BIC)
BANKS: tuple[tuple[str, int, str], ...] = (
    ("BNP Paribas", 30004, "BNPAFRPPXXX"),
    ("Société Générale", 30003, "SOGEFRPPXXX"),
    ("Crédit Agricole", 18206, "AGRIFRPP882"),
    ("LCL", 30002, "CRLYFRPPXXX"),
    ("La Banque Postale", 20041, "PSSTFRPPPAR"),
    ("Crédit Mutuel", 10278, "CMCIFR2AXXX"),
    ("CIC", 30066, "CMCIFRPPXXX"),
    ("Caisse d'Épargne", 17515, "CEPAFRPP751"),
    ("Banque Populaire", 10207, "CCBPFRPPMTG"),
    ("Boursorama", 40618, "BOUSFRPPXXX"),
)
_SHARES = np.array([0.16, 0.14, 0.18, 0.08, 0.12, 0.1, 0.06, 0.08, 0.05, 0.03])
_ONLINE_BANK = 9

PURPOSES: tuple[str, ...] = (
    "Loyer",
    "Remboursement",
    "Cadeau",
    "Participation vacances",
    "Facture",
    "Prêt",
    "Courses",
    "Virement",
    "Frais de scolarité",
    "Achat véhicule",
    "Dette",
    "Anniversaire",
    "Voyage",
    "Mariage",
    "Avance",
    "Charges",
    "",
)
_PURPOSE_SHARES = np.array([10, 12, 6, 3, 6, 4, 5, 10, 2, 1, 2, 3, 3, 1, 2, 4, 12], dtype=float)
_QUIET_PURPOSES = ("Remboursement", "Prêt", "Avance", "Participation frais", "Cadeau", "")


@dataclass(frozen=True, slots=True)
class Accounts:
    """Accounts as parallel arrays; the IBANs and customer ids are Arrow strings."""

    person: Ints
    customer: Ints  #: index into ``customer_ids``
    iban: pa.Array
    customer_ids: pa.Array
    first: Ints  #: per person, first account (-1: none)


def build_accounts(out: Output, population: Population, cell: CellPlan) -> Accounts:
    """Write accounts.csv; most adults hold one account, some two, at different banks."""
    rng = stream(out.seed, "accounts")
    rnd = text_stream(out.seed, "accounts")
    size = population.size
    count = rng.choice(3, size, p=[0.1, 0.75, 0.15]).astype(np.int64)
    count[cell.members] = np.maximum(count[cell.members], 1)
    count[cell.intermediaries] = 2  # an online account opened just before
    person = np.repeat(np.arange(size), count).astype(np.int64)
    second = np.zeros(len(person), dtype=bool)
    second[1:] = person[1:] == person[:-1]
    bank = rng.choice(len(BANKS), len(person), p=_SHARES / _SHARES.sum())
    bank[second] = (
        bank[np.flatnonzero(second) - 1] + 1 + rng.integers(0, 8, int(second.sum()))
    ) % len(BANKS)
    opened = -rng.integers(30, 25 * 365, len(person))
    fresh = second & np.isin(person, cell.intermediaries)
    bank[fresh] = _ONLINE_BANK
    opened[fresh] = cell.start - rng.integers(50, 70, int(fresh.sum()))
    branch = rng.integers(1, 99_999, len(person))
    number = identifiers.unique_ints(rng, 10_000_000, 99_999_999_999, len(person))
    codes = np.array([b[1] for b in BANKS])[bank]
    iban = identifiers.french_iban(codes, branch, number)
    customers = len(person)  # one customer record per account-holding relation
    customer_ids = identifiers.prefixed(rng, "CLI-", customers, 9)
    names = []
    for p in person.tolist():
        first, last = spelling.spell(
            population.names[p], spelling.BANK, rnd, native=rnd.random() < 0.05
        )
        names.append(
            spelling.full_name(first, last, spelling.BANK, rnd, bool(population.female[p]))
        )
    missing_birth = rng.random(len(person)) < 0.03
    columns = {
        "iban": iban,
        "bank_name": strings(np.array([b[0] for b in BANKS])[bank]),
        "bic": strings(np.array([b[2] for b in BANKS])[bank]),
        "opened": iso_dates(opened),
        "holder_name": strings(names),
        "holder_birth_date": blank_where(iso_dates(population.birth[person]), missing_birth),
        "customer_id": customer_ids,
    }
    out.truth.add(
        "bank",
        ACCOUNTS,
        "bank-customer",
        "customer_id",
        person.tolist(),
        customer_ids.to_pylist(),
        names,
    )
    out.truth.link(out.truth.accounts, person.tolist(), iban.to_pylist())
    defects = (
        Defect("iban", "", "empty iban (key of the account)"),
        Defect("holder_name", "", "empty holder_name (required)"),
        Defect("opened", "2023-13-45", "invalid opened date"),
    )
    out.write(ACCOUNTS, columns, defects, shuffle=True)
    first_account = np.full(size, -1, dtype=np.int64)
    starts = np.flatnonzero(~second)
    first_account[person[starts]] = starts
    return Accounts(
        person, np.arange(len(person), dtype=np.int64), iban, customer_ids, first_account
    )


def _structured(
    rng: np.random.Generator, accounts: Accounts, cell: CellPlan
) -> tuple[Ints, Ints, Ints, Ints]:
    """(payer account, payee account, day, cents) of the cell's structured transfers."""

    def fresh(person: int) -> int:
        return int(accounts.first[person]) + 1  # the intermediaries' online account

    payer, payee, day, cents = [], [], [], []
    financier = int(accounts.first[cell.financier])
    for _ in range(int(rng.integers(12, 19))):
        payer.append(financier)
        payee.append(fresh(int(rng.choice(cell.intermediaries))))
        day.append(cell.start - int(rng.integers(12, 42)))
        cents.append(int(rng.integers(900, 996)) * 1000)
    for _ in range(int(rng.integers(20, 29))):
        payer.append(fresh(int(rng.choice(cell.intermediaries))))
        payee.append(int(accounts.first[int(rng.choice(cell.operatives))]))
        day.append(cell.start - int(rng.integers(0, 30)))
        cents.append(int(rng.integers(450, 996)) * 1000 + int(rng.integers(0, 10)) * 100)
    amount = np.array(cents, dtype=np.int64)
    if (amount >= REPORTING_THRESHOLD_CENTS).any():
        raise ValueError("structured transfers must stay under the reporting threshold")
    return (
        np.array(payer, dtype=np.int64),
        np.array(payee, dtype=np.int64),
        np.array(day, dtype=np.int64),
        amount,
    )


def write_transfers(out: Output, population: Population, accounts: Accounts, cell: CellPlan) -> int:
    """Write transfers.csv in date order; returns the number of transfers (good rows)."""
    rng = stream(out.seed, "transfers")
    count = max(400, out.scale // 20)
    holders = accounts.first >= 0
    weight = population.activity * holders
    cumulative = np.cumsum(weight)
    payer_p = np.searchsorted(cumulative, rng.random(count) * cumulative[-1], side="right")
    payee_p = population.contacts[payer_p, rng.integers(0, 6, count)]
    stranger = (rng.random(count) < 0.2) | ~holders[payee_p] | (payee_p == payer_p)
    n_accounts = len(accounts.person)
    payer = accounts.first[payer_p]
    payee = np.where(stranger, rng.integers(0, n_accounts, count), accounts.first[payee_p])
    external = rng.random(count) < 0.05
    cents = np.clip(rng.lognormal(np.log(12_000), 1.3, count), 100, 5_000_000).astype(np.int64)
    cents = np.where(rng.random(count) < 0.3, cents // 1000 * 1000, cents)
    day = rng.integers(0, PERIOD_DAYS, count)
    s_payer, s_payee, s_day, s_cents = _structured(rng, accounts, cell)
    structured = np.concatenate([np.zeros(count, dtype=bool), np.ones(len(s_payer), dtype=bool)])
    payer = np.concatenate([payer, s_payer])
    payee = np.concatenate([payee, s_payee])
    external = np.concatenate([external, np.zeros(len(s_payer), dtype=bool)])
    cents = np.concatenate([cents, s_cents])
    day = np.concatenate([day, s_day])
    order = np.argsort(day, kind="stable")
    payer, payee, cents, day = payer[order], payee[order], cents[order], day[order]
    external, structured = external[order], structured[order]
    total = len(order)
    # transfers to accounts at other banks: only the IBAN is known
    outside = identifiers.french_iban(
        rng.choice([b[1] for b in BANKS], total),
        rng.integers(1, 99_999, total),
        rng.integers(10_000_000, 99_999_999_999, total),
    )
    purpose = np.array(PURPOSES)[
        rng.choice(len(PURPOSES), total, p=_PURPOSE_SHARES / _PURPOSE_SHARES.sum())
    ]
    quiet = np.array(_QUIET_PURPOSES)[rng.integers(0, len(_QUIET_PURPOSES), total)]
    purpose = np.where(structured, quiet, purpose)
    ids = concat("VIR", digits(np.arange(1, total + 1), 9))
    payer_take, payee_take = pa.array(payer), pa.array(payee)
    ext = pa.array(external)
    columns = {
        "transfer_id": ids,
        "date": iso_dates(day),
        "amount": amounts(cents),
        "currency": pa.array(np.full(total, "EUR")),
        "from_iban": accounts.iban.take(payer_take),
        "from_customer_id": accounts.customer_ids.take(payer_take),
        "to_iban": pc.if_else(ext, outside, accounts.iban.take(payee_take)),
        "to_customer_id": pc.if_else(ext, "", accounts.customer_ids.take(payee_take)),
        "purpose": strings(purpose),
    }
    out.truth.cell["structured_transfers"] = ids.filter(pa.array(structured)).to_pylist()
    defects = (
        Defect("transfer_id", "", "empty transfer_id (key)"),
        Defect("date", "2024-13-45", "invalid date"),
        Defect("date", "2024-02-30", "invalid date"),
    )
    out.write(TRANSFERS, columns, defects, protect=structured)
    return total
