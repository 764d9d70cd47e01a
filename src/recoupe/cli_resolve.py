"""Entity resolution commands: ``recoupe resolve run|pairs|queue|judge|undo|explain|...``.

When a server runs on the workspace the commands ask it (it holds the store); otherwise
they open the workspace, act, bring search and the graph up to date after a change of the
merged entities, and record the command in the audit log under the operating-system user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import yaml

from recoupe.cli_analysis import client, running_server
from recoupe.cli_common import emit, json_option, progress_bar, settings_of
from recoupe.cli_security import audit_log, operator
from recoupe.config import Settings
from recoupe.errors import ConfigError
from recoupe.security.reader import Reader


class _Local:
    """The resolution calls on a local workspace, in the shape the API answers."""

    def __init__(self, settings: Settings) -> None:
        from recoupe.services.runtime import Runtime

        self.settings = settings
        self.runtime = Runtime(settings)
        self.store = self.runtime.session()
        self.reader = Reader.system(operator(), settings.scale)

    def close(self) -> None:
        self.store.con.close()
        self.runtime.close()

    def _audit(self, action: str, entities: list[str], query: str | None, n: int | None) -> None:
        log = audit_log(self.settings)
        try:
            log.append(
                actor=self.reader.name,
                origin="local",
                action=f"resolve {action}",
                entities=entities,
                query=query,
                results=n,
            )
        finally:
            log.close()

    def _refresh(self, changed: int) -> None:
        if changed:
            with progress_bar(True) as progress:
                self.runtime.refresh(progress)

    def resolve_run(self, datasets: list[str], full: bool) -> list[dict[str, Any]]:
        from recoupe.services import resolve

        with progress_bar(True) as progress:
            reports = resolve.run(
                self.store,
                self.settings.resolve_spec(),
                datasets=datasets,
                full=full,
                progress=progress,
                threads=self.settings.threads,
                memory_limit=self.settings.memory_limit,
            )
        self._refresh(sum(r.merged for r in reports))
        found = [r.to_dict() for r in reports]
        self._audit("run", [], f"datasets={datasets} full={full}", sum(r.pairs for r in reports))
        return found

    def resolve_pairs(self, **params: Any) -> list[dict[str, Any]]:
        from recoupe.services import resolve

        found = resolve.pairs(self.store, self.reader, **params)
        self._audit("pairs", [], json.dumps(params), len(found))
        return found

    def resolve_queue(self, **params: Any) -> list[dict[str, Any]]:
        from recoupe.services import resolve

        found = resolve.queue(self.store, self.reader, **params)
        self._audit("queue", [], json.dumps(params), len(found))
        return found

    def resolve_judge(
        self, left: str, right: str, verdict: str, reason: str | None
    ) -> dict[str, Any]:
        from recoupe.services import resolve

        found = resolve.judge(self.store, self.reader, left, right, verdict, reason=reason)
        self._refresh(found["changed"])
        self._audit("judge", [left, right], f"{verdict}: {reason or ''}", 1)
        return found

    def resolve_undo(self, judgement_id: int, reason: str | None) -> dict[str, Any]:
        from recoupe.services import resolve

        found = resolve.undo(self.store, self.reader, judgement_id, reason=reason)
        self._refresh(found["changed"])
        self._audit("undo", [found["left"], found["right"]], f"judgement {judgement_id}", 1)
        return found

    def resolve_undo_entity(self, entity_id: str, reason: str | None) -> dict[str, Any]:
        from recoupe.services import resolve

        found = resolve.undo_entity(self.store, self.reader, entity_id, reason=reason)
        self._refresh(len(found["undone"]))
        self._audit("undo", [entity_id], reason, len(found["undone"]))
        return found

    def resolve_judgements(self, entity_id: str | None, limit: int) -> list[dict[str, Any]]:
        from recoupe.services import resolve

        found = resolve.judgements(self.store, self.reader, entity_id=entity_id, limit=limit)
        self._audit("judgements", [entity_id] if entity_id else [], None, len(found))
        return found

    def resolve_explain(self, entity_id: str) -> dict[str, Any]:
        from recoupe.services import resolve

        found = resolve.explain(self.store, self.reader, entity_id)
        self._audit("explain", [entity_id], None, len(found["records"]))
        return found


@contextmanager
def _backend(settings: Settings) -> Iterator[Any]:
    url = running_server(settings)
    if url is not None:
        with client(settings, url) as remote:
            yield remote
        return
    local = _Local(settings)
    try:
        yield local
    finally:
        local.close()


def _weights(pair: dict[str, Any]) -> str:
    parts = [
        f"{e['feature']} {e['weight']:+.1f} ({e['level']})"
        for e in pair["explanation"]
        if e["level"] != "unknown"
    ]
    return "; ".join(parts)


@click.group()
def resolve() -> None:
    """Entity resolution: score candidate pairs, review them, judge, undo, explain.

    A full run trains the model on the records; later runs compare only new and changed
    records with the others. The settings are the default spec, or WORKSPACE/resolve.yaml
    when it exists (`recoupe resolve spec` prints the default to start from).
    """


@resolve.command("run")
@click.option("--dataset", "datasets", multiple=True, help="Compare its records again.")
@click.option("--full", is_flag=True, help="Train again and score every pair anew.")
@json_option
@click.pass_context
def run_command(ctx: click.Context, datasets: tuple[str, ...], full: bool, as_json: bool) -> None:
    """Compute candidate pairs (per schema of the spec) and store them with their scores."""
    with _backend(settings_of(ctx)) as api:
        reports = api.resolve_run(list(datasets), full)

    def text() -> None:
        for r in reports:
            click.echo(
                f"{r['schema']:<13} {r['mode']:<11} {r['records']:>9,} records "
                f"({r['new_records']:,} compared anew), {r['compared']:,} candidate pairs, "
                f"{r['pairs']:,} kept, {r['merged']:,} merged automatically; "
                f"{(r['seconds'] or {}).get('total', 0)} s"
            )

    emit(reports, as_json, text)


@resolve.command("pairs")
@click.option("--min-probability", default=0.5, show_default=True, type=click.FloatRange(0, 1))
@click.option("--schema", help="Only pairs of this schema.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@json_option
@click.pass_context
def pairs_command(
    ctx: click.Context,
    min_probability: float,
    schema: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Candidate pairs at MIN_PROBABILITY or more, most likely first."""
    params: dict[str, Any] = {
        "min_probability": min_probability,
        "limit": limit,
        "offset": offset,
    }
    if schema is not None:
        params["schema"] = schema
    with _backend(settings_of(ctx)) as api:
        found = api.resolve_pairs(**params)

    def text() -> None:
        click.echo(f"{len(found)} pairs")
        for p in found:
            merged = "  [one entity]" if p["merged"] else ""
            click.echo(f"  {p['probability']:.4f}  {p['left']}  {p['right']}{merged}")
            click.echo(f"          {_weights(p)}" + (f"; rule: {p['rule']}" if p["rule"] else ""))

    emit(found, as_json, text)


@resolve.command("queue")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 500))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--min-probability", default=0.1, show_default=True, type=click.FloatRange(0, 1))
@json_option
@click.pass_context
def queue_command(
    ctx: click.Context, limit: int, offset: int, min_probability: float, as_json: bool
) -> None:
    """Pairs to review, most useful first, each with both records and the explanation."""
    with _backend(settings_of(ctx)) as api:
        found = api.resolve_queue(limit=limit, offset=offset, min_probability=min_probability)

    def side(entity: dict[str, Any] | None) -> str:
        if entity is None:
            return "(not visible)"
        props = entity["properties"]
        shown = [f"{k}={'|'.join(v)}" for k, v in props.items() if k != "addressEntity"]
        return f"[{', '.join(entity['datasets'])}] " + "; ".join(shown[:6])

    def text() -> None:
        click.echo(f"{len(found)} pairs to review")
        for p in found:
            click.echo(
                f"\n  {p['probability']:.4f} (usefulness {p['usefulness']}, would join "
                f"{p['would_join']} records)"
            )
            click.echo(f"    {p['left']}  {side(p['left_entity'])}")
            click.echo(f"    {p['right']}  {side(p['right_entity'])}")
            click.echo(f"    {_weights(p)}")
            click.echo(f"    recoupe resolve judge {p['left']} {p['right']} same|different|unsure")

    emit(found, as_json, text)


@resolve.command("judge")
@click.argument("left")
@click.argument("right")
@click.argument("verdict", type=click.Choice(["same", "different", "unsure"]))
@click.option("--reason", help="Why (kept with the judgement).")
@json_option
@click.pass_context
def judge_command(
    ctx: click.Context, left: str, right: str, verdict: str, reason: str | None, as_json: bool
) -> None:
    """Judge two records (entity ids) the same, different or unsure."""
    with _backend(settings_of(ctx)) as api:
        found = api.resolve_judge(left, right, verdict, reason)

    def text() -> None:
        click.echo(
            f"judgement {found['judgement_id']}: {found['left']} {found['verdict']} "
            f"{found['right']}; entity {found['entity']} "
            f"({found['changed']} records changed entity)"
        )

    emit(found, as_json, text)


@resolve.command("undo")
@click.argument("judgement_id", type=int, required=False)
@click.option("--entity", "entity_id", help="Undo every merge inside this entity instead.")
@click.option("--reason", help="Why (kept with the judgement).")
@json_option
@click.pass_context
def undo_command(
    ctx: click.Context,
    judgement_id: int | None,
    entity_id: str | None,
    reason: str | None,
    as_json: bool,
) -> None:
    """Undo a judgement (by number) or part a merged entity (--entity) into its records."""
    if (judgement_id is None) == (entity_id is None):
        raise ConfigError("give a JUDGEMENT_ID or --entity ID (one of them)")
    with _backend(settings_of(ctx)) as api:
        if entity_id is not None:
            found = api.resolve_undo_entity(entity_id, reason)
        else:
            assert judgement_id is not None
            found = api.resolve_undo(judgement_id, reason)

    def text() -> None:
        if "undone" in found:
            click.echo(f"entity {found['entity']}: undid judgements {found['undone']}")
        else:
            click.echo(
                f"undid judgement {found['judgement_id']} ({found['left']} {found['verdict']} "
                f"{found['right']}): now {found['left_entity']} and {found['right_entity']}"
            )

    emit(found, as_json, text)


@resolve.command("judgements")
@click.option("--entity", "entity_id", help="Only judgements on this entity's records.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@click.pass_context
def judgements_command(
    ctx: click.Context, entity_id: str | None, limit: int, as_json: bool
) -> None:
    """Judgements, newest first: who, when, why, and who undid them."""
    with _backend(settings_of(ctx)) as api:
        found = api.resolve_judgements(entity_id, limit)

    def text() -> None:
        for j in found:
            undone = f"  UNDONE by {j['undone_by']} {j['undone_at']}" if j["undone_at"] else ""
            click.echo(
                f"  #{j['judgement_id']} {j['judged_at']} {j['author']}: {j['left']} "
                f"{j['verdict']} {j['right']} ({j['reason'] or 'no reason given'}){undone}"
            )

    emit(found, as_json, text)


@resolve.command("explain")
@click.argument("entity_id")
@json_option
@click.pass_context
def explain_command(ctx: click.Context, entity_id: str, as_json: bool) -> None:
    """Why records are one entity: each record with its sources, the judgements, the scores."""
    with _backend(settings_of(ctx)) as api:
        found = api.resolve_explain(entity_id)

    def text() -> None:
        state = "merged" if found["merged"] else "one record"
        click.echo(f"entity {found['entity']} ({state}, {len(found['records'])} records)")
        for r in found["records"]:
            names = "|".join(r["properties"].get("name", []))
            click.echo(f"  {r['id']}  [{', '.join(r['datasets'])}] {names}")
            for source in r["sources"][:3]:
                click.echo(f"      from {source}")
        for j in found["judgements"]:
            click.echo(
                f"  judgement #{j['judgement_id']} by {j['author']} {j['judged_at']}: "
                f"{j['verdict']} ({j['reason'] or 'no reason given'})"
            )
        for p in found["pairs"]:
            click.echo(f"  scored {p['probability']:.4f}: {p['left']} ~ {p['right']}")
            click.echo(f"      {_weights(p)}")

    emit(found, as_json, text)


@resolve.command("spec")
@click.pass_context
def spec_command(ctx: click.Context) -> None:
    """Print the resolution spec in use (YAML): save it as WORKSPACE/resolve.yaml to edit."""
    spec = settings_of(ctx).resolve_spec()
    click.echo(yaml.safe_dump(spec.to_dict(), sort_keys=False, allow_unicode=True), nl=False)


COMMANDS = (resolve,)
