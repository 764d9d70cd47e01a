"""Health analytics over HTTP: forecasts with bands, shortage alerts, transfer plans, exit
scenarios and transmission trees, computed from what the reader may see.

The model's assumptions (population, hospital pathway, phases) are the workspace's health
model file, ``scenario/sante/modele.yaml`` (the demo writes one; docs/health.md describes
it). Every call is audited like any other read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from recoupe.api.deps import RuntimeDep, ScopedReaderDep, SessionDep, fast_json
from recoupe.errors import NotFound
from recoupe.services import health_data, tracing
from recoupe.services.health import HealthModel, read_model

router = APIRouter(prefix="/api/health", tags=["health"])
MODEL_FILE = ("scenario", "sante", "modele.yaml")


def _model(runtime: RuntimeDep) -> HealthModel:
    path = runtime.workspace.joinpath(*MODEL_FILE)
    if not path.exists():
        raise NotFound(f"no health model at {path} (run the demo, or write one: docs/health.md)")
    return read_model(path)


def _forecast(
    session: SessionDep, reader: ScopedReaderDep, runtime: RuntimeDep, days: int, draws: int
) -> health_data.RegionForecast:
    model = _model(runtime)
    data = health_data.load(session, reader)
    return health_data.region_forecast(
        data,
        days=days,
        changes=model.changes,
        pathway=model.pathway,
        population=model.population,
        draws=draws,
    )


Days = Annotated[int, Query(ge=1, le=120, description="Days to forecast")]


@router.get("/forecast", summary="Hospital load forecast with 90 % bands, by hospital")
@fast_json
def forecast(
    session: SessionDep,
    reader: ScopedReaderDep,
    runtime: RuntimeDep,
    days: Days = 14,
    draws: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> dict[str, Any]:
    return _forecast(session, reader, runtime, days, draws).to_dict()


@router.get("/alerts", summary="Shortages of equipment and beds, most urgent first")
@fast_json
def alerts(
    session: SessionDep, reader: ScopedReaderDep, runtime: RuntimeDep, days: Days = 14
) -> list[dict[str, Any]]:
    return health_data.shortage_alerts(_forecast(session, reader, runtime, days, 100))


@router.get("/transfers", summary="Proposed patient transfers (or stock moves) between hospitals")
@fast_json
def transfers(
    session: SessionDep,
    reader: ScopedReaderDep,
    runtime: RuntimeDep,
    days: Days = 14,
    unit: Literal["icu", "hospitalized"] = "icu",
    vehicle_size: Annotated[int, Query(ge=1, le=100)] = 4,
    item: str | None = None,
) -> dict[str, Any]:
    result = _forecast(session, reader, runtime, days, 100)
    if item is not None:
        return {"item": item, **health_data.stock_plan(result, item).to_dict()}
    plan, when = health_data.transfer_plan(result, unit=unit, vehicle_size=vehicle_size)
    return {"date": when.isoformat(), "unit": unit, **plan.to_dict()}


@router.get("/scenarios", summary="Lockdown-exit scenarios side by side")
@fast_json
def scenarios(
    session: SessionDep,
    reader: ScopedReaderDep,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=30, le=730)] = 180,
) -> dict[str, Any]:
    result = _forecast(session, reader, runtime, 14, 1)
    summary, outcomes, start, today = health_data.exit_scenarios(result, _model(runtime), days=days)
    summary["curves"] = {
        "start": start.isoformat(),
        "today": today,
        "icu": {o.name: [round(float(x), 1) for x in o.icu] for o in outcomes},
    }
    return summary


@router.get("/trace", summary="Transmission trees of the traced cases")
@fast_json
def trace(
    session: SessionDep,
    reader: ScopedReaderDep,
    dataset: str | None = None,
    top: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> dict[str, Any]:
    return tracing.transmission_report(session, reader, dataset, top)
