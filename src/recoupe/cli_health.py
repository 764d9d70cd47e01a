"""Health analytics commands: ``recoupe health rt|chime|...``.

They read files and print results (``--json`` for machines); the numbers come from
:mod:`recoupe.health`, the file handling from :mod:`recoupe.services.health`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from recoupe.cli_common import emit, json_option, settings_of
from recoupe.errors import ConfigError

if TYPE_CHECKING:
    from recoupe.services.health import HealthModel
    from recoupe.services.health_data import HealthData

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_CHART = click.Path(dir_okay=False, path_type=Path)
MODEL_FILE = Path("scenario") / "sante" / "modele.yaml"
"""Where the demo writes its health model, inside the workspace."""


@click.group()
def health() -> None:
    """Epidemic and hospital analytics: Rt, hospital census, equipment, transfers."""


def _num(value: float | None, digits: int = 3) -> str:
    return "NA" if value is None else f"{value:.{digits}f}"


@health.command("rt")
@click.argument("incidence", type=_FILE)
@click.option("--si-mean", type=float, help="Mean serial interval, days (parametric).")
@click.option("--si-sd", type=float, help="Its standard deviation, days.")
@click.option(
    "--si-distr", type=_FILE, help="Serial interval as day,probability from day 0 (a CSV)."
)
@click.option("--window", default=7, show_default=True, type=click.IntRange(1), help="Days.")
@click.option("--prior-mean", default=5.0, show_default=True, type=click.FloatRange(0, None))
@click.option("--prior-sd", default=5.0, show_default=True, type=click.FloatRange(0, None))
@json_option
def rt_command(
    incidence: Path,
    si_mean: float | None,
    si_sd: float | None,
    si_distr: Path | None,
    window: int,
    prior_mean: float,
    prior_sd: float,
    as_json: bool,
) -> None:
    """Rt over sliding windows by the method of Cori et al. (2013), as EpiEstim.

    INCIDENCE is a CSV file with a `local` column of daily case counts (and optionally
    `imported`), one row per day. Windows with no estimate (ending before the mean
    serial interval) print NA, null in JSON.
    """
    from recoupe.services.health import rt

    found = rt(
        incidence,
        si_mean=si_mean,
        si_sd=si_sd,
        si_distr=si_distr,
        window=window,
        prior_mean=prior_mean,
        prior_sd=prior_sd,
    )
    rows = found.rows()

    def text() -> None:
        click.echo(f"mean serial interval {found.si_mean:.3f} days; {len(rows)} windows")
        click.echo("t_start  t_end     mean      std     q025     q975")
        for r in rows:
            click.echo(
                f"{r['t_start']:>7}  {r['t_end']:>5}  {_num(r['mean']):>7}  "
                f"{_num(r['std']):>7}  {_num(r['q025']):>7}  {_num(r['q975']):>7}"
            )

    emit(rows, as_json, text)


@health.command("rt-place")
@click.argument("place")
@click.option("--si-mean", type=float, required=True, help="Mean serial interval, days.")
@click.option("--si-sd", type=float, required=True, help="Its standard deviation, days.")
@click.option("--window", default=7, show_default=True, type=click.IntRange(1), help="Days.")
@json_option
@click.pass_context
def rt_place_command(
    ctx: click.Context, place: str, si_mean: float, si_sd: float, window: int, as_json: bool
) -> None:
    """Rt of a place's case counts in the workspace (a département's code or name: 67,
    Bas-Rhin), by the method of Cori et al. (2013), each window with its dates."""
    from recoupe.services.health_data import rt_report

    out = _ask(
        ctx,
        "rt",
        {"place": place, "si_mean": si_mean, "si_sd": si_sd, "window": window},
        lambda data: rt_report(data, place, si_mean=si_mean, si_sd=si_sd, window=window),
    )

    def text() -> None:
        where = out["place"] if out.get("name") is None else f"{out['name']} ({out['place']})"
        click.echo(f"{where}: mean serial interval {out['si_mean']:.3f} days")
        click.echo("from        to               mean      q025     q975")
        for r in out["windows"]:
            click.echo(
                f"{r['start_date']}  {r['end_date']}  {_num(r['mean']):>7}  "
                f"{_num(r['q025']):>7}  {_num(r['q975']):>7}"
            )

    emit(out, as_json, text)


@health.command("chime")
@click.argument("config", type=_FILE)
@json_option
def chime_command(config: Path, as_json: bool) -> None:
    """Hospital census projection, CHIME-compatible (Penn Medicine's SIR model).

    CONFIG is a JSON file with CHIME's parameter names: population,
    current_hospitalized, doubling_time, infectious_days, relative_contact_rate,
    market_share, hospitalized/icu/ventilated ({"rate", "days"}), n_days, current_date,
    mitigation_date.
    """
    from recoupe.services.health import chime

    result = chime(config).to_dict()

    def text() -> None:
        click.echo(
            f"day 0 = simulation day {result['i_day']}; R0 {result['r0']:.3f}, "
            f"Rt {result['rt']:.3f}, doubling time after mitigation "
            f"{result['doubling_time_t']:.2f} days"
        )
        click.echo("day  date        hospitalized      icu  ventilated")
        for r in result["census"]:
            click.echo(
                f"{r['day']:>3}  {r['date']}  {r['hospitalized']:>12.1f}  {r['icu']:>7.1f}  "
                f"{r['ventilated']:>10.1f}"
            )

    emit(result, as_json, text)


# -- over the store ----------------------------------------------------------------------


def _report(
    ctx: click.Context,
    endpoint: str,
    params: dict[str, Any],
    local: Callable[[HealthData, HealthModel], Any],
    model_path: Path | None,
) -> Any:
    """A report that needs the health model (see :func:`_ask`)."""
    return _ask(
        ctx, endpoint, params, lambda data: local(data, _model(ctx, model_path)), model_path
    )


def _ask(
    ctx: click.Context,
    endpoint: str,
    params: dict[str, Any],
    local: Callable[[HealthData], Any],
    model_path: Path | None = None,
) -> Any:
    """The report from the running server (it holds the workspace), or computed here on
    the workspace read as its operator; either way the read is audited."""
    from recoupe.cli_analysis import client, running_server

    settings = settings_of(ctx)
    url = running_server(settings)
    if url is not None:
        if model_path is not None:
            raise ConfigError("--model: a running server uses the workspace's health model")
        api = client(settings, url)
        try:
            return api.get(f"/api/health/{endpoint}", params)
        finally:
            api.close()
    from recoupe.cli_security import audit_local, operator
    from recoupe.security.reader import Reader
    from recoupe.services.health_data import load
    from recoupe.services.workspace import open_workspace

    with open_workspace(settings, read_only=True) as store:
        reader = Reader.system(operator(), settings.scale)
        data = load(store, reader)
        datasets = [d for d in store.visible_datasets(reader) if d.startswith("sante")]
    found = local(data)
    audit_local(settings, f"health.{endpoint}", datasets=datasets, query=str(params))
    return found


def _model(ctx: click.Context, path: Path | None) -> HealthModel:
    from recoupe.services.health import read_model

    found = path or settings_of(ctx).workspace / MODEL_FILE
    if not found.exists():
        raise ConfigError(
            f"{found}: no health model; give --model FILE (population, admission_share, "
            "changes...: see docs/health.md)"
        )
    return read_model(found)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{text!r}: expected a date YYYY-MM-DD") from exc


_model_option = click.option(
    "--model",
    "model_path",
    type=_FILE,
    help="Health model (YAML); default WORKSPACE/scenario/sante/modele.yaml.",
)
_from_option = click.option("--from", "until", help="Forecast from this day (default: the last).")


@health.command("forecast")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 120))
@_from_option
@click.option("--draws", default=200, show_default=True, type=click.IntRange(1, 5000))
@click.option("--chart", type=_CHART, help="Write a chart of ICU load (.png or .svg).")
@_model_option
@json_option
@click.pass_context
def forecast_command(
    ctx: click.Context,
    days: int,
    until: str | None,
    draws: int,
    chart: Path | None,
    model_path: Path | None,
    as_json: bool,
) -> None:
    """Hospital load forecast of the region, with 90 % bands, and by hospital.

    Fits R (one per phase of the model's `changes`) to the admissions up to --from,
    follows the patients already in hospital, and projects admissions and the census
    of each unit (ward, ICU, ventilated) with ICU and ventilation inside the stay.
    """
    from recoupe.services.health_data import forecast_report

    out = _report(
        ctx,
        "forecast",
        {"days": days, "from": until, "draws": draws},
        lambda data, model: forecast_report(data, model, days=days, until=_day(until), draws=draws),
        model_path,
    )
    if chart is not None:
        from recoupe.services.health_charts import forecast_chart

        rows = out["days"]
        start = date.fromisoformat(out["start"])
        forecast_chart(
            chart,
            start=start,
            observed=out["observed_icu"],
            first_forecast_day=(date.fromisoformat(rows[0]["date"]) - start).days,
            median=[r["icu"] for r in rows],
            low=[r["icu_low"] for r in rows],
            high=[r["icu_high"] for r in rows],
            capacity=float(out["capacity"]["icu"]),
            title=f"Réanimation, prévision à {days} jours depuis le {out['from']}",
        )
        out["chart"] = str(chart)

    def text() -> None:
        r = ", ".join(
            f"{v:.2f} ± {e:.2f}" for v, e in zip(out["r"], out["r_standard_errors"], strict=True)
        )
        click.echo(
            f"R by phase: {r}; forecast from {out['from']}, ICU beds {out['capacity']['icu']:.0f}"
        )
        click.echo("date        admissions  hospitalized        icu (90 %)           ventilated")
        for row in out["days"]:
            click.echo(
                f"{row['date']}  {row['admissions']:>10.0f}  {row['hospitalized']:>12.0f}  "
                f"{row['icu']:>5.0f} ({row['icu_low']:.0f}-{row['icu_high']:.0f})"
                f"{'':>8}{row['ventilated']:>6.0f}"
            )
        click.echo("")
        click.echo("hospital  ICU beds  peak ICU  on         days over")
        for h in out["hospitals"]:
            click.echo(
                f"{h['hospital']:<8}  {h['icu_beds']:>8.0f}  {h['peak_icu']:>8.0f}  "
                f"{h['peak_icu_date']}  {h['days_over_icu_capacity']:>9}"
            )
        if chart is not None:
            click.echo(f"chart: {chart}")

    emit(out, as_json, text)


@health.command("backtest")
@click.option("--from", "origin", required=True, help="Forecast from this past day.")
@click.option(
    "--unit",
    default="icu",
    show_default=True,
    type=click.Choice(["hospitalized", "ward", "icu", "ventilated"]),
)
@click.option("--draws", default=200, show_default=True, type=click.IntRange(1, 5000))
@_model_option
@json_option
@click.pass_context
def backtest_command(
    ctx: click.Context, origin: str, unit: str, draws: int, model_path: Path | None, as_json: bool
) -> None:
    """Forecast from a past day, and compare with what happened 7 and 14 days later."""
    from recoupe.services.health_data import backtest_report

    when = _day(origin)
    assert when is not None
    result = _report(
        ctx,
        "backtest",
        {"from": origin, "unit": unit, "draws": draws},
        lambda data, model: backtest_report(data, model, origin=when, unit=unit, draws=draws),
        model_path,
    )

    def text() -> None:
        click.echo(f"forecast of {unit} from {origin}:")
        for h in result["horizons"]:
            rel = h["relative_error"]
            click.echo(
                f"  +{h['days_ahead']:>2} days: observed {h['observed']:.0f}, forecast "
                f"{h['predicted']:.0f} ({h['low']:.0f}-{h['high']:.0f}), error "
                f"{h['error']:+.0f}{'' if rel is None else f' ({rel:+.0%})'}, "
                f"{'inside' if h['covered'] else 'outside'} the 90 % band"
            )

    emit(result, as_json, text)


@health.command("alerts")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 120))
@_from_option
@_model_option
@json_option
@click.pass_context
def alerts_command(
    ctx: click.Context, days: int, until: str | None, model_path: Path | None, as_json: bool
) -> None:
    """Shortages within the forecast, most urgent first: protective equipment (at the Penn
    calculator's standard rates, with announced deliveries) and ICU or ventilator beds."""
    from recoupe.services.health_data import alerts_report

    alerts = _report(
        ctx,
        "alerts",
        {"days": days, "from": until},
        lambda data, model: alerts_report(data, model, days=days, until=_day(until)),
        model_path,
    )

    def text() -> None:
        if not alerts:
            click.echo("no shortage within the forecast")
            return
        click.echo("days left  runs out    hospital  what                 have    need/day")
        for a in alerts:
            click.echo(
                f"{a['days_left']:>9}  {a['runs_out']}  {a['hospital']:<8}  "
                f"{a['kind'] + ':' + a['item']:<19}  {a['stock']:>6.0f}  {a['daily_need']:>10.1f}"
            )

    emit(alerts, as_json, text)


@health.command("transfers")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 120))
@click.option("--day", type=int, help="Forecast day to plan for (default: the peak).")
@click.option(
    "--unit", default="icu", show_default=True, type=click.Choice(["icu", "hospitalized"])
)
@click.option(
    "--vehicle-size",
    default=4,
    show_default=True,
    type=click.IntRange(1),
    help="Patients per vehicle (a medical TGV car carries 4).",
)
@click.option("--item", help="Plan stock moves of this item instead (e.g. n95).")
@_from_option
@_model_option
@json_option
@click.pass_context
def transfers_command(
    ctx: click.Context,
    days: int,
    day: int | None,
    unit: str,
    vehicle_size: int,
    item: str | None,
    until: str | None,
    model_path: Path | None,
    as_json: bool,
) -> None:
    """Proposed patient transfers (or stock moves) between hospitals: fewest patients
    over capacity first, then the least travel (an optimiser, HiGHS)."""
    from recoupe.services.health_data import transfers_report

    out = _report(
        ctx,
        "transfers",
        {
            "days": days,
            "day": day,
            "unit": unit,
            "vehicle_size": vehicle_size,
            "item": item,
            "from": until,
        },
        lambda data, model: transfers_report(
            data,
            model,
            days=days,
            until=_day(until),
            day=day,
            unit=unit,
            vehicle_size=vehicle_size,
            item=item,
        ),
        model_path,
    )

    def text() -> None:
        what = f"stock of {item}" if item else f"{unit} patients on {out['date']}"
        click.echo(
            f"{what}: {out['over_before']:.0f} over before, {out['over_after']:.0f} after; "
            f"{out['moved']} moved"
        )
        for m in out["moves"]:
            cars = f" in {m['vehicles']} vehicles" if m["vehicles"] else ""
            click.echo(
                f"  {m['from']} -> {m['to']}: {m['amount']}{cars} ({m['cost_each']:.1f} h each)"
            )

    emit(out, as_json, text)


@health.command("scenarios")
@click.option(
    "--file",
    "scenario_file",
    type=_FILE,
    help="Scenarios (YAML: a list of {name, phases: [{from: DATE, reduction: 0-1}]}).",
)
@click.option("--days", default=180, show_default=True, type=click.IntRange(30, 730))
@click.option("--chart", type=_CHART, help="Write a chart of ICU load (.png or .svg).")
@_model_option
@json_option
@click.pass_context
def scenarios_command(
    ctx: click.Context,
    scenario_file: Path | None,
    days: int,
    chart: Path | None,
    model_path: Path | None,
    as_json: bool,
) -> None:
    """Lockdown-exit scenarios side by side: peak ICU against beds, deaths, duration.

    The epidemic is the one fitted to the admissions (R before and during the lockdown);
    a scenario sets the contact reduction from given days on. Without --file: keep the
    lockdown, a gradual exit, an abrupt exit. Figures count from today.
    """
    from recoupe.services.health_data import scenarios_report

    if scenario_file is not None:
        from recoupe.cli_analysis import running_server

        if running_server(settings_of(ctx)) is not None:
            raise ConfigError("--file: stop the server, or compare the default scenarios")
    out = _report(
        ctx,
        "scenarios",
        {"days": days},
        lambda data, model: scenarios_report(
            data,
            model,
            days=days,
            chosen=_scenario_list(scenario_file, data.start) if scenario_file else None,
        ),
        model_path,
    )
    rows = out["scenarios"]
    if chart is not None:
        from recoupe.services.health_charts import scenarios_chart

        curves = out["curves"]
        scenarios_chart(
            chart,
            start=date.fromisoformat(curves["start"]),
            curves=curves["icu"],
            capacity=float(out["icu_capacity"]),
            today=int(curves["today"]),
            title="Scénarios de déconfinement : patients en réanimation",
        )
        out["chart"] = str(chart)

    def text() -> None:
        fitted = ", ".join(f"{r:.2f}" for r in out["r_fitted"])
        click.echo(f"fitted R by phase {fitted}; figures from {out['today']} on")
        click.echo(
            "scenario                    peak ICU  on          days over beds  deaths   duration"
        )
        for r in rows:
            duration = "beyond" if r["duration_days"] is None else f"{r['duration_days']} d"
            click.echo(
                f"{r['scenario']:<26}  {r['peak_icu']:>8.0f}  {r['peak_icu_date']}  "
                f"{r['days_over_capacity']:>14}  {r['deaths']:>6.0f}   {duration}"
            )
        if chart is not None:
            click.echo(f"chart: {chart}")

    emit(out, as_json, text)


def _scenario_list(path: Path, start: date) -> list[tuple[str, list[tuple[int, float]]]]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the scenarios ({exc})") from exc
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{path}: expected a list of scenarios")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "name" not in item:
            raise ConfigError(f"{path}: scenario {i}: needs a name and phases")
        phases = []
        for j, phase in enumerate(item.get("phases", [])):
            key = f"{path}: scenario {i} ({item['name']}), phase {j}"
            try:
                when = date.fromisoformat(str(phase["from"]))
                reduction = float(phase["reduction"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"{key}: needs from: YYYY-MM-DD and reduction: 0-1") from exc
            phases.append(((when - start).days, reduction))
        out.append((str(item["name"]), phases))
    return out


@health.command("trace")
@click.option("--dataset", help="Only the cases of this dataset.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def trace_command(ctx: click.Context, dataset: str | None, top: int, as_json: bool) -> None:
    """Transmission trees of the traced cases: chains, generations, super-spreaders and
    serial intervals (cases and infector links are entities of the store)."""
    from recoupe.cli_analysis import client, running_server
    from recoupe.cli_security import audit_local, operator
    from recoupe.security.reader import Reader
    from recoupe.services.tracing import transmission_report
    from recoupe.services.workspace import open_workspace

    settings = settings_of(ctx)
    url = running_server(settings)
    if url is not None:
        api = client(settings, url)
        try:
            report = api.get("/api/health/trace", {"dataset": dataset, "top": top})
        finally:
            api.close()
    else:
        with open_workspace(settings, read_only=True) as store:
            reader = Reader.system(operator(), settings.scale)
            report = transmission_report(store, reader, dataset, top)
        audit_local(
            settings,
            "health.trace",
            datasets=[dataset] if dataset else [],
            results=int(report["cases"]),
        )

    def text() -> None:
        click.echo(
            f"{report['cases']} cases, {report['links']} infector links, {report['trees']} trees "
            f"(sizes {report['tree_sizes']}); deepest generation {report['deepest_generation']}"
        )
        si = report["serial_interval_mean"]
        if si is not None:
            click.echo(
                f"serial interval {si:.2f} days (sd {report['serial_interval_sd'] or 0:.2f})"
            )
        click.echo("super-spreaders:")
        for s in report["super_spreaders"]:
            who = f"{s['caption']}, onset {s['onset']}"
            click.echo(f"  {s['case']:<8} infected {s['infected']:>3}  ({who})")
        click.echo(f"longest chain: {' -> '.join(report['longest_chain'])}")

    emit(report, as_json, text)


COMMANDS = (health,)
