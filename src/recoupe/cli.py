"""The ``recoupe`` command line: thin over the services.

Every command that prints data takes ``--json``. Errors print one clear line on stderr
and exit with status 2 (bad input or configuration) or 1 (a failed operation).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click

from recoupe import __version__
from recoupe.cli_analysis import COMMANDS, backend, running_server
from recoupe.cli_analysis import client as remote_client
from recoupe.cli_analysis import serve as serve_command
from recoupe.cli_common import emit, json_option, progress_bar, settings_of
from recoupe.cli_health import COMMANDS as HEALTH_COMMANDS
from recoupe.cli_resolve import COMMANDS as RESOLVE_COMMANDS
from recoupe.cli_security import COMMANDS as SECURITY_COMMANDS
from recoupe.cli_territories import COMMANDS as TERRITORY_COMMANDS
from recoupe.config import Settings
from recoupe.errors import (
    ConfigError,
    MappingError,
    NotFound,
    OntologyError,
    RecoupeError,
    ServerError,
)
from recoupe.security.reader import Reader
from recoupe.services import ingest as ingest_service
from recoupe.services.workspace import open_workspace
from recoupe.store.base import Progress
from recoupe.store.duckdb import EXPORT_FORMATS


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="recoupe")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Workspace folder (default: $RECOUPE_HOME, else ./recoupe-data).",
)
@click.option(
    "--server",
    default=None,
    help="Talk to this Recoupe server (with the API token in $RECOUPE_TOKEN), bound by "
    "that user's rights ($RECOUPE_SERVER).",
)
@click.option(
    "--justification",
    default=None,
    help="Why you need the data, for the server's checkpoints (exports, compartmented data) "
    "and its audit log ($RECOUPE_JUSTIFICATION).",
)
@click.pass_context
def cli(
    ctx: click.Context, workspace: Path | None, server: str | None, justification: str | None
) -> None:
    """Recoupe: sovereign data fusion and investigation, fully offline.

    Commands that open the workspace folder act as its operator (whoever can read the
    folder can read the data: protect it with file permissions) and are audited under
    the operating-system user.
    """
    settings = Settings.from_os(workspace, server)
    if justification is not None:
        settings = replace(settings, justification=justification)
    ctx.obj = settings


def main() -> None:
    """Entry point: run the CLI and turn Recoupe errors into one-line messages."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ConfigError, MappingError, NotFound, OntologyError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except RecoupeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


# -- workspace --------------------------------------------------------------------------------
@cli.command()
@json_option
@click.pass_context
def init(ctx: click.Context, as_json: bool) -> None:
    """Create the workspace folder, its store and its server secret (harmless if they exist).

    The secret (``WORKSPACE/secret.key``, mode 0600) keys browser sessions; ``recoupe serve``
    refuses to start without it unless ``RECOUPE_SECRET`` is set.
    """
    from recoupe.security.secret import ensure_secret

    settings = settings_of(ctx)
    with open_workspace(settings, create=True) as store:
        counts = store.counts(Reader.system())
    secret = ensure_secret(settings.workspace)
    data = {"workspace": str(settings.workspace.resolve()), "secret": str(secret), **counts}
    emit(data, as_json, lambda: click.echo(f"Workspace ready: {data['workspace']}"))


# -- ingestion --------------------------------------------------------------------------------
def print_run(data: dict[str, Any], as_json: bool) -> None:
    """Print a run's summary (``Run.summary()``, also what the server answers)."""

    def text() -> None:
        click.echo(f"Run {data['run_id']} on dataset {data['dataset']!r}: {data['status']}")
        click.echo(
            f"  rows read {data['rows_read']:,} = loaded {data['rows_loaded']:,} "
            f"+ rejected {data['rows_rejected']:,} + filtered {data['rows_filtered']:,}"
        )
        click.echo(
            f"  entities {data['entities']:,}, statements {data['statements']:,} "
            f"({data['statements_new']:,} new), values dropped {data['values_dropped']:,}, "
            f"{data['seconds'] or 0:.1f} s"
        )
        if data["rows_rejected"] or data["values_dropped"]:
            click.echo(f"  see why: recoupe rejected {data['run_id']}")

    emit(data, as_json, text)


def _refresh_after(settings: Settings, progress: Progress | None) -> None:
    """Bring search, places and the graph up to date after a local run."""
    from recoupe.services.runtime import Runtime

    with Runtime(settings) as runtime:
        report = runtime.refresh(progress)
    for part, error in report.errors.items():
        click.echo(
            f"warning: the run is stored, but updating {part} failed: {error}; "
            "`recoupe index` retries",
            err=True,
        )


@cli.command()
@click.argument("mapping", type=click.Path(path_type=Path))
@click.option("--dataset", help="Dataset name (overrides the one in the mapping file).")
@json_option
@click.pass_context
def ingest(ctx: click.Context, mapping: Path, dataset: str | None, as_json: bool) -> None:
    """Run a mapping file: read its sources, map, clean and store the statements.

    When a server runs on the workspace, the mapping and its files are sent to it and the
    run is queued there; readers never see a half-finished run.
    """
    settings = settings_of(ctx)
    url = running_server(settings)
    if url is not None:
        from recoupe.ontology import model

        files = ingest_service.mapping_sources(mapping, model())
        with remote_client(settings, url) as api, progress_bar(not as_json) as progress:
            job = api.ingest(mapping, files, dataset=dataset, progress=progress)
        if job["state"] != "done":
            raise ServerError(f"the server's run of {mapping} failed: {job['error']}")
        print_run(job["result"]["run"], as_json)
        return
    with progress_bar(not as_json) as progress:
        with open_workspace(settings, create=True) as store:
            run = ingest_service.ingest_mapping(store, mapping, dataset, progress, settings.scale)
        _refresh_after(settings, progress)
    print_run(run.summary(), as_json)


@cli.command("import-ftm")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dataset", required=True, help="Dataset to import the entities into.")
@json_option
@click.pass_context
def import_ftm(ctx: click.Context, file: Path, dataset: str, as_json: bool) -> None:
    """Import FollowTheMoney entity JSON lines (from Aleph, OpenSanctions, an export)."""
    settings = settings_of(ctx)
    if running_server(settings) is not None:
        raise ServerError(
            "a server runs on this workspace: stop it to import FtM files, or write a "
            "mapping with `source: {format: ftm}` and ingest it"
        )
    with progress_bar(not as_json) as progress:
        with open_workspace(settings, create=True) as store:
            run = ingest_service.import_ftm(store, file, dataset, progress)
        _refresh_after(settings, progress)
    print_run(run.summary(), as_json)


# -- reading ----------------------------------------------------------------------------------
# These ask the running server when there is one (it holds the workspace), else open it.
@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def datasets(ctx: click.Context, as_json: bool) -> None:
    """List datasets with their metadata and sizes (``datasets mark`` sets a marking)."""
    if ctx.invoked_subcommand is not None:
        return
    with backend(settings_of(ctx), fresh=False) as api:
        items = api.datasets()

    def text() -> None:
        if not items:
            click.echo("No datasets yet: recoupe ingest MAPPING")
        for ds in items:
            title = f" - {ds['title']}" if ds["title"] else ""
            click.echo(
                f"{ds['name']}{title}\n  {ds['entities']:,} entities, "
                f"{ds['statements']:,} statements; owner {ds['owner'] or '-'}; "
                f"marking {ds['marking'] or '-'}"
            )

    emit(items, as_json, text)


@datasets.command("mark")
@click.argument("dataset")
@click.option("--level", required=True, help="NP, DR, S, TS or the full French name.")
@click.option("--compartment", "compartments", multiple=True, help="A compartment needed.")
@json_option
@click.pass_context
def datasets_mark(
    ctx: click.Context, dataset: str, level: str, compartments: tuple[str, ...], as_json: bool
) -> None:
    """Mark a dataset: every statement of it inherits the level and compartments.

    Through the running server when there is one (``--server`` needs an admin's token).
    """
    from recoupe.cli_security import audit_local

    settings = settings_of(ctx)
    url = running_server(settings)
    if url is not None:
        with remote_client(settings, url) as remote:
            data = remote.mark_dataset(dataset, level, compartments)
    else:
        marking = settings.scale.marking(level, compartments)
        with open_workspace(settings) as store:
            store.set_marking(dataset, str(marking))
        audit_local(settings, "datasets mark", datasets=[dataset], query=str(marking))
        data = {"dataset": dataset, **marking.to_dict()}
    emit(data, as_json, lambda: click.echo(f"{dataset}: {data['banner']}"))


@cli.command()
@click.option("--dataset", help="Only runs of this dataset.")
@json_option
@click.pass_context
def runs(ctx: click.Context, dataset: str | None, as_json: bool) -> None:
    """List import runs and how their rows were accounted for."""
    with backend(settings_of(ctx), fresh=False) as api:
        items = api.runs(dataset)

    def text() -> None:
        for run in items:
            click.echo(
                f"{run['run_id']}  {run['dataset']:<20} {run['status']:<11} "
                f"read {run['rows_read']:>10,} loaded {run['rows_loaded']:>10,} "
                f"rejected {run['rows_rejected']:>6,}  {run['source']}"
            )
            if run["error"]:
                click.echo(f"    {run['error']}")

    emit(items, as_json, text)


@cli.command()
@click.argument("run_id")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@json_option
@click.pass_context
def rejected(ctx: click.Context, run_id: str, limit: int, offset: int, as_json: bool) -> None:
    """Show the rows a run rejected and the values it dropped, with reasons."""
    with backend(settings_of(ctx), fresh=False) as api:
        data = api.rejected(run_id, limit, offset)
    rows, dropped = data["rejected_rows"], data["dropped_values"]

    def text() -> None:
        click.echo(f"Rejected rows ({len(rows)} shown):")
        for r in rows:
            click.echo(
                f"  {Path(r['source_file']).name} row {r['row']}: {r['reason']}\n    {r['record']}"
            )
        click.echo(f"Dropped values ({len(dropped)} shown):")
        for d in dropped:
            click.echo(
                f"  {Path(d['source_file']).name} row {d['row']}: {d['entity']}.{d['prop']} = "
                f"{d['value']!r}: {d['reason']}"
            )

    emit(data, as_json, text)


def _minute(value: object) -> str:
    """A timestamp (a datetime here, an ISO string from a server) to the minute."""
    return str(value).replace("T", " ")[:16]


@cli.command()
@click.argument("entity_id")
@json_option
@click.pass_context
def entity(ctx: click.Context, entity_id: str, as_json: bool) -> None:
    """Show an entity: every property value with its provenance."""
    with backend(settings_of(ctx), fresh=False) as api:
        data = api.entity(entity_id)

    def text() -> None:
        click.echo(f"{data['schema']} {data['id']}  (datasets: {', '.join(data['datasets'])})")
        for s in data["statements"]:
            if s["prop"] == "id":
                continue
            origin = f" (was {s['original_value']!r})" if s["original_value"] != s["value"] else ""
            click.echo(
                f"  {s['prop']:<18} {s['value']}{origin}\n"
                f"  {'':<18} {s['dataset']} / run {s['run_id']} / "
                f"{Path(s['source_file'] or '-').name} row {s['source_row']}; seen "
                f"{_minute(s['first_seen'])} .. {_minute(s['last_seen'])}"
            )

    emit(data, as_json, text)


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="ftm", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
@click.option("--dataset", help="Only this dataset.")
@json_option
@click.pass_context
def export(
    ctx: click.Context, fmt: str, out: Path | None, dataset: str | None, as_json: bool
) -> None:
    """Export entities (ftm), statements with provenance (csv) or the graph (gexf)."""
    suffix = {"ftm": "ftm.json", "csv": "statements.csv", "gexf": "gexf"}[fmt]
    target = out or Path(f"recoupe-export.{suffix}")
    with backend(settings_of(ctx), fresh=False) as api:
        data = api.export(target, fmt, dataset)

    def text() -> None:
        click.echo(f"[{data.get('banner') or '?'}]")
        click.echo(f"Wrote {data['records']:,} records to {target}")

    emit(data, as_json, text)


# -- ontology ---------------------------------------------------------------------------------
@cli.command()
@click.argument("schema", required=False)
@json_option
def ontology(schema: str | None, as_json: bool) -> None:
    """List the schemata, or show one schema's properties, types and edge roles."""
    from recoupe.ontology.describe import describe_schema, list_schemata

    if schema is None:
        items = list_schemata()

        def listing() -> None:
            for s in items:
                click.echo(f"{s['name']:<24} {s['label']:<28} {s['origin']:<8} {s['kind']}")

        emit(items, as_json, listing)
        return
    info = describe_schema(schema)

    def text() -> None:
        click.echo(f"{info['name']} ({info['label']}) - {info['origin']}")
        if info["description"]:
            click.echo(f"  {info['description']}")
        click.echo(f"  extends: {', '.join(info['extends']) or '-'}")
        if info["edge"]:
            e = info["edge"]
            click.echo(f"  edge: {e['source']} --[{e['label']}]--> {e['target']}")
        click.echo("  properties:")
        for p in info["properties"]:
            rng = f" -> {p['range']}" if p["range"] else ""
            role = f" [{p['edge_role']}]" if p["edge_role"] else ""
            click.echo(f"    {p['name']:<22} {p['type']}{rng}{role}")

    emit(info, as_json, text)


# -- scenario ---------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--scale",
    default=10_000,
    show_default=True,
    type=click.IntRange(1_000),
    help="Number of call records (the other sources grow with it).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("scenario"),
    show_default=True,
    help="Folder to write the scenario into.",
)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option(
    "--people",
    type=click.IntRange(300),
    default=None,
    help="Population size (default: one person per hundred calls).",
)
@json_option
def generate(scale: int, out: Path, seed: int, people: int | None, as_json: bool) -> None:
    """Generate a synthetic investigation: CSV sources, their mappings and a truth file."""
    from recoupe.scenario import generate as make

    with progress_bar(not as_json) as progress:
        summary = make(out, scale=scale, seed=seed, progress=progress, people_count=people)
    data = asdict(summary)
    emit(data, as_json, lambda: click.echo(json.dumps(data, indent=2, default=str)))


def _invoked_as() -> str:
    """How the user ran this program, so printed examples can be pasted as they are."""
    import shutil

    argv0 = Path(sys.argv[0])
    if argv0.name == "recoupe" and shutil.which("recoupe") != str(argv0.resolve()):
        try:
            return str(argv0.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(argv0)
    return "recoupe"


@cli.command()
@click.option("--scale", default=20_000, show_default=True, type=click.IntRange(1_000))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Scenario folder (default: WORKSPACE/scenario).",
)
@click.option("--serve", is_flag=True, help="Then serve the API on the demo workspace.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@json_option
@click.pass_context
def demo(
    ctx: click.Context,
    scale: int,
    out: Path | None,
    serve: bool,
    host: str,
    port: int,
    as_json: bool,
) -> None:
    """Generate the demo scenario, ingest it, and print a summary and example commands."""
    from recoupe.services.demo import run_demo

    settings = settings_of(ctx)
    if running_server(settings) is not None:
        raise ServerError("a server runs on this workspace; stop it before rebuilding the demo")
    with progress_bar(not as_json) as progress:
        report = run_demo(settings, scale=scale, out=out, progress=progress, command=_invoked_as())
    emit(report.to_dict(), as_json, lambda: click.echo(report.text()))
    if serve:
        ctx.invoke(serve_command, host=host, port=port)


for command in (
    *COMMANDS,
    *RESOLVE_COMMANDS,
    *SECURITY_COMMANDS,
    *HEALTH_COMMANDS,
    *TERRITORY_COMMANDS,
):
    cli.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
