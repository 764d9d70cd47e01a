"""Generate a whole scenario: sources, mapping files and ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recoupe.errors import ConfigError
from recoupe.scenario import (
    bank,
    calls,
    cell,
    companies,
    geo,
    mappings,
    people,
    registry,
    telecom,
    travel,
)
from recoupe.scenario.output import Output, Progress

MIN_SCALE = 1000
TRUTH = "truth.json"


@dataclass(frozen=True, slots=True)
class WrittenFile:
    """A data file of the scenario: path relative to the output folder, data rows."""

    name: str
    rows: int


@dataclass(frozen=True, slots=True)
class ScenarioSummary:
    """What ``generate`` wrote. Row counts include the bad rows; the other counts don't."""

    out_dir: Path
    scale: int
    seed: int
    files: tuple[WrittenFile, ...]
    mappings: tuple[Path, ...]
    truth: Path
    people: int
    phones: int
    calls: int
    transfers: int
    travels: int
    companies: int
    cell_members: int


def _quiet(stage: str, done: int, total: int) -> None:
    """The default progress callback: report nothing."""


def _check(out_dir: Path, scale: int, seed: int) -> None:
    if isinstance(scale, bool) or not isinstance(scale, int):
        raise ConfigError(f"scale must be a whole number of calls, not {scale!r}")
    if scale < MIN_SCALE:
        raise ConfigError(f"scale must be at least {MIN_SCALE} calls (got {scale})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a whole number, zero or more, not {seed!r}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"out_dir {out_dir} exists and is a file, not a folder")


def generate(
    out_dir: Path,
    scale: int,
    seed: int = 42,
    progress: Progress | None = None,
    people_count: int | None = None,
) -> ScenarioSummary:
    """Write a synthetic investigation of ``scale`` call records into ``out_dir``.

    The population is ``people_count`` people (default: one per hundred calls, at least
    300); the other sources grow with it.

    Same seed and scale, same files byte for byte. ``progress(stage, done, total)`` is
    called as work proceeds (calls: rows written out of ``scale``; other stages 0 then 1
    out of 1). Files already in ``out_dir`` with the same names are replaced.
    """
    out_dir = Path(out_dir)
    _check(out_dir, scale, seed)
    if people_count is not None and people_count < 300:
        raise ConfigError(f"people_count must be at least 300 (got {people_count})")
    report = progress or _quiet
    out_dir.mkdir(parents=True, exist_ok=True)
    out = Output(out_dir, seed, scale, report)

    report("people", 0, 1)
    population = people.build(people_count or max(300, scale // 100), seed)
    plan = cell.plan(population, seed)
    home = cell.share_home(population, plan)
    report("people", 1, 1)

    report("telecom", 0, 1)
    towers = telecom.build_towers(population, scale, seed)
    lines = telecom.build_lines(population, plan, seed)
    telecom.write_towers(out, towers)
    telecom.write_subscribers(out, population, lines)
    report("telecom", 1, 1)

    report("civil_registry", 0, 1)
    registry.write(out, population, lines)
    report("civil_registry", 1, 1)

    report("calls", 0, scale)
    call_count = calls.write_calls(out, population, lines, towers, plan)

    report("bank", 0, 1)
    accounts = bank.build_accounts(out, population, plan)
    transfer_count = bank.write_transfers(out, population, accounts, plan)
    report("bank", 1, 1)

    report("companies", 0, 1)
    company_count = companies.write(out, population, plan)
    report("companies", 1, 1)

    report("travel", 0, 1)
    travel_count = travel.write(out, population, plan)
    report("travel", 1, 1)

    report("truth", 0, 1)
    out.mappings.extend(mappings.write_all(out_dir))
    ids = population.ids
    out.truth.cell.update(
        {
            "members": [ids[int(m)] for m in plan.members],
            "member_index": plan.members.tolist(),
            "roles": {
                "financier": ids[plan.financier],
                "intermediaries": [ids[int(m)] for m in plan.intermediaries],
                "operatives": [ids[int(m)] for m in plan.operatives],
            },
            "hub_city": geo.CITIES[plan.hub_city].name,
            "shared_home": [ids[home[0]], ids[home[1]]],
        }
    )
    truth_path = out_dir / TRUTH
    out.truth.write(truth_path, population, scale, seed)
    report("truth", 1, 1)

    return ScenarioSummary(
        out_dir=out_dir,
        scale=scale,
        seed=seed,
        files=tuple(WrittenFile(name, rows) for name, rows in out.files),
        mappings=tuple(out.mappings),
        truth=truth_path,
        people=population.size,
        phones=lines.subscribed,
        calls=call_count,
        transfers=transfer_count,
        travels=travel_count,
        companies=company_count,
        cell_members=len(plan.members),
    )
