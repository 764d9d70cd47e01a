"""Health analytics commands: ``recoupe health rt|chime|...``.

They read files and print results (``--json`` for machines); the numbers come from
:mod:`recoupe.health`, the file handling from :mod:`recoupe.services.health`.
"""

from __future__ import annotations

from pathlib import Path

import click

from recoupe.cli_common import emit, json_option

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


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


COMMANDS = (health,)
