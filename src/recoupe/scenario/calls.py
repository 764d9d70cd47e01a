"""Call detail records: the bulk of the scenario, drawn and written in chunks.

Background calls go mostly to the caller's social circle and through cells near home;
they are drawn with numpy one chunk of days at a time and written by Arrow. The cell's
calls (burner to burner, and calls placed from the same sites at the same hour) are
drawn first and merged into the chunk of their day, so the file stays in time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from recoupe.scenario import geo
from recoupe.scenario.cell import CellPlan
from recoupe.scenario.output import Output
from recoupe.scenario.people import CIRCLE, Population
from recoupe.scenario.streams import stream
from recoupe.scenario.tables import (
    PERIOD_DAYS,
    ChunkWriter,
    concat,
    digits,
    iso_dates,
    iso_datetimes,
)
from recoupe.scenario.telecom import NETWORKS, Lines, Towers

Ints = npt.NDArray[np.int64]

CALLS = "telecom/calls.csv"
CHUNK = 1_000_000

#: relative number of calls started in each hour of the day
_HOURS = np.array(
    [
        0.5,
        0.3,
        0.2,
        0.15,
        0.15,
        0.3,
        1,
        2.5,
        4,
        5,
        5.5,
        6,
        6.5,
        6,
        5.5,
        5.5,
        6,
        6.5,
        7,
        7,
        6,
        4.5,
        3,
        1.5,
    ]
)
_SLOTS = 1.0 / (np.arange(CIRCLE) + 1.0) ** 0.9


@dataclass(frozen=True, slots=True)
class Calls:
    """Calls as parallel arrays (line indices, seconds from PERIOD_START, cells)."""

    caller: Ints
    callee: Ints
    start: Ints
    duration: Ints
    caller_cell: Ints
    callee_cell: Ints

    def __len__(self) -> int:
        return len(self.caller)

    def select(self, mask: npt.NDArray[np.bool_]) -> Calls:
        return Calls(*(getattr(self, f)[mask] for f in self.__slots__))

    @staticmethod
    def join(parts: list[Calls]) -> Calls:
        return Calls(*(np.concatenate([getattr(p, f) for p in parts]) for f in Calls.__slots__))


def _cell(site: Ints, lines: Lines, line: Ints) -> Ints:
    """The cell of the line's network at that site."""
    return site * len(NETWORKS) + lines.network[line]


def _town_site(rng: np.random.Generator, towers: Towers, town: Ints) -> Ints:
    return towers.first[town] + (rng.random(len(town)) * towers.count[town]).astype(np.int64)


def _seconds(rng: np.random.Generator, days: Ints) -> Ints:
    hour = rng.choice(24, len(days), p=_HOURS / _HOURS.sum())
    return days * 86_400 + hour * 3600 + rng.integers(0, 3600, len(days))


def _durations(rng: np.random.Generator, count: int, median: float) -> Ints:
    talk = np.clip(rng.lognormal(np.log(median), 1.0, count), 1, 10_800).astype(np.int64)
    return np.where(rng.random(count) < 0.1, 0, talk)


def cell_calls(
    population: Population, lines: Lines, towers: Towers, cell: CellPlan, scale: int, out: Output
) -> Calls:
    """Burner-to-burner calls and meetings (several members under one site in one hour)."""
    rng = stream(out.seed, "cell-calls")
    budget = min(400, scale // 5)
    meetings = int(rng.integers(4, 7))
    per_meeting = max(1, min(len(cell.members), budget // 4 // meetings))
    burners = lines.burners
    # -- burner calls: each burner calls other members' burners active the same day
    wanted = max(1, budget - meetings * per_meeting * 2)
    span = (lines.active_to[burners] - lines.active_from[burners] + 1).astype(np.float64)
    caller_pick = rng.choice(burners, wanted * 2, p=span / span.sum())
    day = lines.active_from[caller_pick] + (
        rng.random(len(caller_pick))
        * (lines.active_to[caller_pick] - lines.active_from[caller_pick] + 1)
    ).astype(np.int64)
    callers, callees, days = [], [], []
    for line, d in zip(caller_pick.tolist(), day.tolist(), strict=True):
        live = burners[
            (lines.active_from[burners] <= d)
            & (lines.active_to[burners] >= d)
            & (lines.person[burners] != lines.person[line])
        ]
        if len(live) == 0:
            continue
        callers.append(line)
        callees.append(
            int(live[rng.integers(0, len(live))])
            if rng.random() > 0.05
            else int(rng.choice(lines.unidentified))
        )
        days.append(d)
        if len(callers) == wanted:
            break
    caller = np.array(callers, dtype=np.int64)
    callee = np.array(callees, dtype=np.int64)
    owner = np.maximum(lines.person[callee], 0)
    home_or_hub = rng.random(len(caller)) < 0.6
    caller_site = np.where(
        home_or_hub,
        towers.home_site[lines.person[caller]],
        _town_site(rng, towers, np.full(len(caller), cell.hub_city)),
    )
    callee_site = np.where(
        lines.person[callee] >= 0,
        towers.home_site[owner],
        _town_site(rng, towers, np.full(len(callee), cell.hub_city)),
    )
    parts = [
        Calls(
            caller,
            callee,
            _seconds(rng, np.array(days, dtype=np.int64)),
            _durations(rng, len(caller), 35.0),
            _cell(caller_site, lines, caller),
            _cell(callee_site, lines, callee),
        )
    ]
    parts.append(_meetings(rng, population, lines, towers, cell, meetings, per_meeting, out))
    return Calls.join(parts)


def _meetings(
    rng: np.random.Generator,
    population: Population,
    lines: Lines,
    towers: Towers,
    cell: CellPlan,
    meetings: int,
    per_meeting: int,
    out: Output,
) -> Calls:
    """Members meet; each calls someone from the same site within the same hour.

    The burners stay among themselves; what gives the meetings away is the members'
    everyday lines showing up under the same cell site at the same hour.
    """
    parts, facts = [], []
    for _ in range(meetings):
        day = int(rng.integers(cell.start, cell.end))
        site = int(_town_site(rng, towers, np.array([cell.hub_city]))[0])
        moment = day * 86_400 + int(rng.integers(9, 22)) * 3600
        present = rng.choice(cell.members, per_meeting, replace=False)
        # ordinary calls from their own (identified) lines, to their usual contacts
        caller = lines.first[np.repeat(present, 2)]
        friend = population.contacts[np.repeat(present, 2), rng.integers(0, CIRCLE, len(caller))]
        has_line = lines.count[friend] > 0
        callee = np.where(
            has_line, lines.first[friend], rng.choice(lines.unidentified, len(caller))
        )
        start = moment + rng.integers(-2400, 2400, len(caller))
        callee_site = towers.home_site[friend]
        sites = np.full(len(caller), site)
        parts.append(
            Calls(
                caller,
                callee,
                start,
                _durations(rng, len(caller), 60.0),
                _cell(sites, lines, caller),
                _cell(callee_site, lines, callee),
            )
        )
        cells = sorted(set(towers.cell_ids.take(pa.array(_cell(sites, lines, caller))).to_pylist()))
        facts.append(
            {
                "date": iso_dates(np.array([day])).to_pylist()[0],
                "city": geo.CITIES[cell.hub_city].name,
                "latitude": round(float(towers.lat[site]), 6),
                "longitude": round(float(towers.lon[site]), 6),
                "cell_ids": cells,
                "members": sorted(population.ids[int(m)] for m in present),
            }
        )
    out.truth.cell["co_location"] = sorted(facts, key=lambda f: str(f["date"]))
    return Calls.join(parts)


def background_calls(
    rng: np.random.Generator,
    population: Population,
    lines: Lines,
    towers: Towers,
    count: int,
    first_day: int,
    last_day: int,
) -> Calls:
    """``count`` ordinary calls on days [first_day, last_day)."""
    weight = population.activity * (lines.count > 0)
    cumulative = np.cumsum(weight)
    caller_p = np.searchsorted(cumulative, rng.random(count) * cumulative[-1], side="right")
    slot = rng.choice(CIRCLE, count, p=_SLOTS / _SLOTS.sum())
    callee_p = population.contacts[caller_p, slot]
    kind = rng.random(count)
    stranger = kind >= 0.80
    callee_p = np.where(stranger, rng.integers(0, population.size, count), callee_p)
    unknown = (kind >= 0.88) | (lines.count[callee_p] == 0) | (callee_p == caller_p)

    def line_of(person: Ints) -> Ints:
        second = (lines.count[person] == 2) & (rng.random(len(person)) < 0.3)
        line: Ints = lines.first[person] + second
        return line

    caller = line_of(caller_p)
    callee = np.where(unknown, rng.choice(lines.unidentified, count), line_of(callee_p))
    caller_site = _site(rng, towers, population, caller_p)
    callee_site = np.where(
        unknown, rng.integers(0, towers.sites, count), _site(rng, towers, population, callee_p)
    )
    # half of the calls with unidentified lines come from them
    swap = unknown & (rng.random(count) < 0.5)
    caller, callee = np.where(swap, callee, caller), np.where(swap, caller, callee)
    caller_site, callee_site = (
        np.where(swap, callee_site, caller_site),
        np.where(swap, caller_site, callee_site),
    )
    days = rng.integers(first_day, last_day, count)
    return Calls(
        caller,
        callee,
        _seconds(rng, days),
        _durations(rng, count, 70.0),
        _cell(caller_site, lines, caller),
        _cell(callee_site, lines, callee),
    )


def _site(rng: np.random.Generator, towers: Towers, population: Population, person: Ints) -> Ints:
    """Mostly the site nearest home, else one in the home town, else anywhere (travel)."""
    where = rng.random(len(person))
    town = _town_site(rng, towers, population.city[person])
    anywhere = rng.integers(0, towers.sites, len(person))
    return np.where(where < 0.55, towers.home_site[person], np.where(where < 0.88, town, anywhere))


def write_calls(
    out: Output, population: Population, lines: Lines, towers: Towers, cell: CellPlan
) -> int:
    """Write exactly ``out.scale`` calls in time order; returns the number written."""
    special = cell_calls(population, lines, towers, cell, out.scale, out)
    special_day = special.start // 86_400
    background = out.scale - len(special)
    chunks = int(min(PERIOD_DAYS, max(1, -(-background // CHUNK))))
    bounds = [PERIOD_DAYS * k // chunks for k in range(chunks + 1)]
    width = max(10, len(str(out.scale)))
    writer = ChunkWriter(
        out.path(CALLS),
        [
            "call_id",
            "caller_msisdn",
            "callee_msisdn",
            "start_time",
            "duration_s",
            "caller_cell_id",
            "callee_cell_id",
        ],
        [pa.string(), pa.int64(), pa.int64(), pa.string(), pa.int64(), pa.string(), pa.string()],
    )
    try:
        for k in range(chunks):
            rng = stream(out.seed, f"calls-{k}")
            first, last = bounds[k], bounds[k + 1]
            size = background * last // PERIOD_DAYS - background * first // PERIOD_DAYS
            chunk = background_calls(rng, population, lines, towers, size, first, last)
            mine = special.select((special_day >= first) & (special_day < last))
            chunk = Calls.join([chunk, mine])
            order = np.argsort(chunk.start, kind="stable")
            ids = np.arange(writer.rows, writer.rows + len(order), dtype=np.int64) + 1
            writer.write(
                {
                    "call_id": concat("C", digits(ids, width)),
                    "caller_msisdn": pa.array(lines.msisdn[chunk.caller[order]]),
                    "callee_msisdn": pa.array(lines.msisdn[chunk.callee[order]]),
                    "start_time": iso_datetimes(chunk.start[order]),
                    "duration_s": pa.array(chunk.duration[order]),
                    "caller_cell_id": towers.cell_ids.take(pa.array(chunk.caller_cell[order])),
                    "callee_cell_id": towers.cell_ids.take(pa.array(chunk.callee_cell[order])),
                }
            )
            out.progress("calls", writer.rows, out.scale)
    finally:
        writer.close()
    out.files.append((CALLS, writer.rows))
    out.truth.cell["burner_phones"] = sorted(str(m) for m in lines.msisdn[lines.burners].tolist())
    return writer.rows
