"""Health analytics over HTTP: forecasts with bands, shortage alerts, transfer plans, exit
scenarios and transmission trees, computed from what the reader may see.

The model's assumptions (population, hospital pathway, phases) are the workspace's health
model file, ``scenario/sante/modele.yaml`` (the demo writes one; docs/health.md describes
it). Every call is audited like any other read.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from recoupe.api.deps import RuntimeDep, ScopedReaderDep, SessionDep, fast_json
from recoupe.errors import ConfigError, NotFound
from recoupe.services import health_data, tracing
from recoupe.services.health import HealthModel, read_model

router = APIRouter(prefix="/api/health", tags=["health"])
MODEL_FILE = ("scenario", "sante", "modele.yaml")


def _model(runtime: RuntimeDep) -> HealthModel:
    path = runtime.workspace.joinpath(*MODEL_FILE)
    if not path.exists():
        raise NotFound(f"no health model at {path} (run the demo, or write one: docs/health.md)")
    return read_model(path)


def _data(
    session: SessionDep, reader: ScopedReaderDep, runtime: RuntimeDep
) -> tuple[health_data.HealthData, HealthModel]:
    return health_data.load(session, reader), _model(runtime)


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from exc


Days = Annotated[int, Query(ge=1, le=120, description="Days to forecast")]
From = Annotated[
    str | None, Query(alias="from", description="Forecast from this day (default: the last)")
]


@router.get("/forecast", summary="Hospital load forecast with 90 % bands, by hospital")
@fast_json
def forecast(
    session: SessionDep,
    reader: ScopedReaderDep,
    runtime: RuntimeDep,
    days: Days = 14,
    until: From = None,
    draws: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> dict[str, Any]:
    data, model = _data(session, reader, runtime)
    return health_data.forecast_report(
        data, model, days=days, until=_date(until, "from"), draws=draws
    )


@router.get("/backtest", summary="A forecast from a past day against what happened")
@fast_json
def backtest(
    session: SessionDep,
    reader: ScopedReaderDep,
    runtime: RuntimeDep,
    origin: Annotated[str, Query(alias="from", description="The past day")],
    unit: Literal["hospitalized", "ward", "icu", "ventilated"] = "icu",
    draws: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> dict[str, Any]:
    data, model = _data(session, reader, runtime)
    when = _date(origin, "from")
    assert when is not None
    return health_data.backtest_report(data, model, origin=when, unit=unit, draws=draws)


@router.get("/alerts", summary="Shortages of equipment and beds, most urgent first")
@fast_json
def alerts(
    session: SessionDep,
    reader: ScopedReaderDep,
    runtime: RuntimeDep,
    days: Days = 14,
    until: From = None,
) -> list[dict[str, Any]]:
    data, model = _data(session, reader, runtime)
    return health_data.alerts_report(data, model, days=days, until=_date(until, "from"))


@router.get("/transfers", summary="Proposed patient transfers (or stock moves) between hospitals")
@fast_json
def transfers(
    session: SessionDep,
    reader: ScopedReaderDep,
    runtime: RuntimeDep,
    days: Days = 14,
    until: From = None,
    day: Annotated[int | None, Query(ge=0)] = None,
    unit: Literal["icu", "hospitalized"] = "icu",
    vehicle_size: Annotated[int, Query(ge=1, le=100)] = 4,
    item: str | None = None,
) -> dict[str, Any]:
    data, model = _data(session, reader, runtime)
    return health_data.transfers_report(
        data,
        model,
        days=days,
        until=_date(until, "from"),
        day=day,
        unit=unit,
        vehicle_size=vehicle_size,
        item=item,
    )


@router.get("/scenarios", summary="Lockdown-exit scenarios side by side")
@fast_json
def scenarios(
    session: SessionDep,
    reader: ScopedReaderDep,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=30, le=730)] = 180,
) -> dict[str, Any]:
    data, model = _data(session, reader, runtime)
    return health_data.scenarios_report(data, model, days=days)


@router.get("/rt", summary="Rt of a place's case counts (Cori et al. 2013, as EpiEstim)")
@fast_json
def rt(
    session: SessionDep,
    reader: ScopedReaderDep,
    place: Annotated[str, Query(description="A place code, e.g. a département: 67")],
    si_mean: Annotated[float, Query(gt=1, description="Mean serial interval, days")],
    si_sd: Annotated[float, Query(gt=0, description="Its standard deviation, days")],
    window: Annotated[int, Query(ge=1, le=60)] = 7,
) -> dict[str, Any]:
    return health_data.rt_report(
        health_data.load(session, reader), place, si_mean=si_mean, si_sd=si_sd, window=window
    )


@router.get("/trace", summary="Transmission trees of the traced cases")
@fast_json
def trace(
    session: SessionDep,
    reader: ScopedReaderDep,
    dataset: str | None = None,
    top: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> dict[str, Any]:
    return tracing.transmission_report(session, reader, dataset, top)
