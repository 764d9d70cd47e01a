"""The ground truth: which record in which file is which person, and what is hidden.

``truth.json`` lets tests and benchmarks score entity resolution and pattern finding:
every person record with the id ingestion gives it (``recoupe.ontology.entity_id``), the
cell and its tell-tale rows, and the rows that are bad on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoupe.ontology import entity_id
from recoupe.scenario.people import Population
from recoupe.scenario.tables import BadRow


@dataclass(frozen=True, slots=True)
class Record:
    """One row of a source that describes a person (``person`` indexes the population)."""

    person: int
    dataset: str
    file: str
    key_literal: str
    key_column: str
    key_value: str
    written_as: str
    false_name: bool

    @property
    def entity_id(self) -> str | None:
        return entity_id(self.key_literal, [self.key_value])

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dataset": self.dataset,
            "file": self.file,
            "schema": "Person",
            "key_literal": self.key_literal,
            "keys": {self.key_column: self.key_value},
            "entity_id": self.entity_id,
            "written_as": self.written_as,
        }
        if self.false_name:
            data["false_name"] = True
        return data


class Truth:
    """Collects the ground truth while the sources are written."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.bad_rows: list[BadRow] = []
        self.cell: dict[str, Any] = {}
        self.phones: dict[int, list[str]] = {}
        self.accounts: dict[int, list[str]] = {}

    def add(
        self,
        dataset: str,
        file: str,
        key_literal: str,
        key_column: str,
        persons: Sequence[int],
        keys: Sequence[str],
        names: Sequence[str],
        false_names: Sequence[bool] | None = None,
    ) -> None:
        """Person records of one file; the same key twice is recorded once."""
        flags = false_names if false_names is not None else [False] * len(persons)
        seen: set[str] = set()
        for person, key, name, false in zip(persons, keys, names, flags, strict=True):
            if key in seen:
                continue
            seen.add(key)
            self.records.append(
                Record(int(person), dataset, file, key_literal, key_column, key, name, bool(false))
            )

    def link(
        self, kind: dict[int, list[str]], persons: Sequence[int], values: Sequence[str]
    ) -> None:
        for person, value in zip(persons, values, strict=True):
            kind.setdefault(int(person), []).append(value)

    def write(self, path: Path, population: Population, scale: int, seed: int) -> None:
        """Write truth.json, one person per line (people without any record left out)."""
        members = {int(m) for m in self.cell.get("member_index", [])}
        by_person: dict[int, list[Record]] = {}
        for record in self.records:
            by_person.setdefault(record.person, []).append(record)
        cell = {k: v for k, v in self.cell.items() if k != "member_index"}
        bad = [{"file": b.file, "row": b.row, "reason": b.reason} for b in self.bad_rows]
        with path.open("w", encoding="utf-8") as out:
            out.write(f'{{"scale": {scale}, "seed": {seed},\n"people": [')
            separator = "\n"
            for index in sorted(by_person):
                person = {
                    "person": population.ids[index],
                    "name": population.names[index].canonical,
                    "cell": index in members,
                    "records": [r.as_json() for r in by_person[index]],
                    "phones": self.phones.get(index, []),
                    "accounts": self.accounts.get(index, []),
                }
                out.write(separator + json.dumps(person, ensure_ascii=False))
                separator = ",\n"
            out.write("\n],\n")
            out.write(f'"cell": {json.dumps(cell, ensure_ascii=False, indent=1)},\n')
            out.write(f'"bad_rows": {json.dumps(bad, ensure_ascii=False, indent=1)}\n}}\n')


def telecom_people(truth: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(person, name as the telecom file writes it, entity id, cell member) for every person
    with a telecom subscriber record (their first one), in truth.json order."""
    found: list[tuple[str, str, str, bool]] = []
    for person in truth.get("people", []):
        for record in person.get("records", []):
            if record.get("dataset") == "telecom" and record.get("schema") == "Person":
                found.append(
                    (
                        str(person["person"]),
                        str(record["written_as"]),
                        str(record["entity_id"]),
                        bool(person.get("cell")),
                    )
                )
                break
    return found
