"""Analysis commands: search, graph, timeline, near; and the server (``serve``, ``index``).

When a server runs on the workspace (it announces itself in ``WORKSPACE/server.json``) the
commands ask it, since it holds the store; otherwise they open the workspace themselves.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from recoupe.cli_common import emit, json_option, progress_bar, settings_of
from recoupe.config import Settings
from recoupe.errors import ConfigError, ServerError
from recoupe.security.reader import Reader

if TYPE_CHECKING:  # imported when a command runs, so that `recoupe --help` stays quick
    from recoupe.client import Client
    from recoupe.services.local import LocalBackend


def running_server(settings: Settings) -> str | None:
    """The server to talk to: ``--server`` if given, else a live one announced in the
    workspace, else None."""
    if settings.server is not None:
        return settings.server
    path = settings.workspace / "server.json"
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(info["url"])


def server_token(settings: Settings) -> str:
    """The token to send: ``RECOUPE_TOKEN`` for ``--server``; for the server on this
    workspace, the operator token it wrote into the workspace folder."""
    if settings.server is not None:
        if settings.token is None:
            raise ConfigError("--server needs an API token in RECOUPE_TOKEN (recoupe users token)")
        return settings.token
    if settings.token is not None:
        return settings.token
    try:
        info = json.loads((settings.workspace / "server.json").read_text())
        return str(info["token"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{settings.workspace}/server.json: cannot read the server's operator token ({exc})"
        ) from exc


def client(settings: Settings, url: str) -> Client:
    """A client of ``url`` with the right token (see :func:`server_token`)."""
    from recoupe.client import Client as HTTPClient

    return HTTPClient(url, token=server_token(settings), justification=settings.justification)


@contextmanager
def backend(settings: Settings, *, fresh: bool = True) -> Iterator[LocalBackend | Client]:
    """The running server's client, or the local workspace opened for reading.

    ``fresh`` first brings a local workspace's search index and graph up to date when an
    import left them behind.
    """
    from recoupe.services.local import LocalBackend

    url = running_server(settings)
    if url is not None:
        with client(settings, url) as remote:
            yield remote
        return
    from recoupe.services.runtime import Runtime

    with Runtime(settings, read_only=True) as runtime:
        if fresh:
            runtime.ensure_fresh()
        local = LocalBackend(runtime, Reader.system(f"os:{getpass.getuser()}", settings.scale))
        try:
            yield local
        finally:
            local.close()


# -- search -----------------------------------------------------------------------------------
@click.command()
@click.argument("query", required=False, default="")
@click.option("--schema", multiple=True, help="Only this schema (and its descendants).")
@click.option("--dataset", multiple=True, help="Only this dataset.")
@click.option("--country", multiple=True, help="Only entities linked to this country code.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Dates from.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Dates up to.")
@click.option("--exact", is_flag=True, help="No fuzzy matching (spelling variants still meet).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@json_option
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    schema: tuple[str, ...],
    dataset: tuple[str, ...],
    country: tuple[str, ...],
    date_from: Any,
    date_to: Any,
    exact: bool,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Search entities by name (any script or spelling), identifier or any value.

    QUERY: words, "a phrase", prefix*, fuzzy~2; a phone, IBAN, e-mail or document number
    in any common format.
    """
    filters: dict[str, Any] = {
        "schema": list(schema) or None,
        "dataset": list(dataset) or None,
        "country": list(country) or None,
        "date_from": date_from.date().isoformat() if date_from else None,
        "date_to": date_to.date().isoformat() if date_to else None,
        "fuzzy": not exact,
        "limit": limit,
        "offset": offset,
    }
    with backend(settings_of(ctx)) as api:
        found = api.search(query, **{k: v for k, v in filters.items() if v is not None})

    def text() -> None:
        click.echo(f"{found['total']:,} matching records ({found['took_ms']} ms)")
        for hit in found["results"]:
            click.echo(
                f"  {hit['schema']:<12} {hit['caption'] or '-':<40} {hit['id']}  "
                f"[{', '.join(hit['datasets'])}]"
            )
            for mark in hit["highlights"][:2]:
                click.echo("      " + mark.replace("<mark>", "[").replace("</mark>", "]"))
        for name, buckets in found["facets"].items():
            if buckets:
                shown = ", ".join(f"{b['value']} {b['count']}" for b in buckets[:8])
                click.echo(f"  {name}: {shown}")

    emit(found, as_json, text)


# -- graph ------------------------------------------------------------------------------------
@click.group()
def graph() -> None:
    """The link graph: neighbourhoods, paths, communities, centrality, exports."""


def _print_graph(data: dict[str, Any]) -> None:
    nodes = {n["id"]: n for n in data["nodes"]}
    click.echo(
        f"{len(nodes)} nodes, {len(data['edges'])} edges"
        + (f" (capped at {data.get('cap')} nodes)" if data.get("capped") else "")
    )
    for node in data["nodes"][:50]:
        click.echo(
            f"  {node.get('schema') or node.get('kind'):<14} {node.get('caption')}  {node['id']}"
        )
    if len(data["nodes"]) > 50:
        click.echo(f"  ... {len(data['nodes']) - 50} more (use --json)")


@graph.command()
@click.argument("entity_ids", nargs=-1, required=True)
@click.option("--depth", default=1, show_default=True, type=click.IntRange(1, 6))
@click.option("--schema", multiple=True, help="Only edges of this schema.")
@click.option("--dataset", multiple=True, help="Only edges from this dataset.")
@click.option("--since", help="Only edges dated from (YYYY-MM-DD).")
@click.option("--until", help="Only edges dated up to (YYYY-MM-DD).")
@click.option("--cap", default=500, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@click.pass_context
def expand(
    ctx: click.Context,
    entity_ids: tuple[str, ...],
    depth: int,
    schema: tuple[str, ...],
    dataset: tuple[str, ...],
    since: str | None,
    until: str | None,
    cap: int,
    as_json: bool,
) -> None:
    """The neighbourhood of entities, DEPTH links out, at most CAP nodes."""
    filters = {
        "schema": list(schema) or None,
        "dataset": list(dataset) or None,
        "since": since,
        "until": until,
        "cap": cap,
    }
    with backend(settings_of(ctx)) as api:
        data = api.expand(
            list(entity_ids), depth, **{k: v for k, v in filters.items() if v is not None}
        )
    emit(data, as_json, lambda: _print_graph(data))


@graph.command()
@click.argument("source")
@click.argument("target")
@click.option(
    "-k",
    "k",
    default=1,
    show_default=True,
    type=click.IntRange(1, 20),
    help="How many shortest paths.",
)
@json_option
@click.pass_context
def path(ctx: click.Context, source: str, target: str, k: int, as_json: bool) -> None:
    """Shortest paths between two entities."""
    with backend(settings_of(ctx)) as api:
        data = api.paths(source, target, k=k)

    def text() -> None:
        if not data["paths"]:
            click.echo("No path between these entities.")
        nodes = {n["id"]: n for n in data["nodes"]}
        for number, found in enumerate(data["paths"], 1):
            steps = " -> ".join(
                f"{nodes[i].get('caption') or i} ({nodes[i].get('schema') or nodes[i]['kind']})"
                for i in found["nodes"]
            )
            click.echo(f"{number}. {found['length']} links: {steps}")

    emit(data, as_json, text)


@graph.command()
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def communities(ctx: click.Context, top: int, as_json: bool) -> None:
    """Communities of the whole graph (Leiden), largest first."""
    with backend(settings_of(ctx)) as api:
        data = api.communities(top=top)

    def text() -> None:
        click.echo(f"{data.get('count', '?')} communities")
        for c in data["communities"]:
            sample = ", ".join(str(m.get("caption") or m["id"]) for m in c["members"][:5])
            click.echo(f"  #{c['community']:<6} {c['size']:>8,} nodes  {sample}")

    emit(data, as_json, text)


@graph.command()
@click.option(
    "--measure",
    type=click.Choice(["degree", "pagerank", "betweenness"]),
    default="degree",
    show_default=True,
)
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def centrality(ctx: click.Context, measure: str, top: int, as_json: bool) -> None:
    """The most central entities."""
    with backend(settings_of(ctx)) as api:
        data = api.centrality(measure, top=top)

    def text() -> None:
        for item in data["nodes"]:
            click.echo(
                f"  {item['score']:>12.6g}  {item.get('schema') or '-':<12} "
                f"{item.get('caption')}  {item['id']}"
            )

    emit(data, as_json, text)


# -- time and places --------------------------------------------------------------------------
@click.command()
@click.argument("entity_id")
@click.option("--since", help="From this date (YYYY-MM-DD or a timestamp).")
@click.option("--until", help="Up to this date.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@json_option
@click.pass_context
def timeline(
    ctx: click.Context,
    entity_id: str,
    since: str | None,
    until: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """The dated events of an entity: calls, payments, travel, dates of its records."""
    params = {"since": since, "until": until, "limit": limit, "offset": offset}
    with backend(settings_of(ctx)) as api:
        data = api.timeline(entity_id, **{k: v for k, v in params.items() if v is not None})

    def text() -> None:
        click.echo(f"{data['caption'] or entity_id} ({data['schema']}): {data['total']:,} events")
        for item in data["items"]:
            if item["kind"] == "statement":
                what = f"{item['prop']} of {item.get('subject_caption') or item['subject']}"
            else:
                arrow = "<-" if item.get("direction") == "in" else "->"
                what = f"{arrow} {item.get('other_caption') or item.get('other') or ''}"
            click.echo(f"  {item['date']:<20} {item['schema']:<14} {what}  [{item['dataset']}]")

    emit(data, as_json, text)


@click.command()
@click.argument("entity_id")
@click.option("--metres", default=500.0, show_default=True, type=click.FloatRange(min=1))
@click.option("--minutes", default=30.0, show_default=True, type=click.FloatRange(min=1))
@json_option
@click.pass_context
def near(ctx: click.Context, entity_id: str, metres: float, minutes: float, as_json: bool) -> None:
    """Who was within METRES of an entity within MINUTES (from cell towers, addresses, travel)."""
    with backend(settings_of(ctx)) as api:
        data = api.near(entity_id, metres=metres, minutes=minutes)

    def text() -> None:
        click.echo(
            f"Near {data.get('caption') or entity_id} within {metres:g} m and {minutes:g} min:"
        )
        for n in data["neighbours"]:
            click.echo(
                f"  {n['encounters']:>4} times, closest {n['closest']:.0f} m  "
                f"{n.get('caption') or ''}  {n['entity_id']}"
            )

    emit(data, as_json, text)


# -- server -----------------------------------------------------------------------------------
@click.command()
@click.option("--rebuild", is_flag=True, help="Rebuild everything from scratch.")
@json_option
@click.pass_context
def index(ctx: click.Context, rebuild: bool, as_json: bool) -> None:
    """Bring the search index, places and the link graph up to date with the store."""
    from recoupe.services.runtime import Runtime

    settings = settings_of(ctx)
    if running_server(settings) is not None:
        raise ServerError("a server runs on this workspace and keeps it up to date itself")
    with Runtime(settings) as runtime, progress_bar(not as_json) as progress:
        report = runtime.refresh(progress, rebuild=rebuild)
    data = report.to_dict()
    emit(data, as_json, lambda: click.echo(json.dumps(data, indent=2)))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the analyst workspace (/), the API and its documentation (/docs)."""
    import uvicorn

    from recoupe.api.app import create_app

    settings = settings_of(ctx)
    other = running_server(settings)
    if other is not None:
        raise ServerError(f"a server already runs on this workspace at {other}")
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    url = f"http://{shown}:{port}"
    click.echo(
        f"Recoupe serves {settings.workspace}: the workspace at {url}/ (API docs: {url}/docs)",
        err=True,
    )
    app = create_app(settings, url=f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}")  # noqa: S104
    uvicorn.run(app, host=host, port=port, log_level="warning")


COMMANDS = (search, graph, timeline, near, index, serve)
