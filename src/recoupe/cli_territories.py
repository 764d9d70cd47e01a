"""Built-in places: ``recoupe territories list|show|locate|outlines|load``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from recoupe import territories
from recoupe.cli_common import emit, json_option

_LEVEL = click.Choice(territories.LEVELS)


@click.group("territories")
def territories_group() -> None:
    """French régions and départements, built in: codes, names, outlines, which is where."""


@territories_group.command("list")
@click.option("--level", type=_LEVEL, help="Only départements or only régions.")
@click.option("--region", help="Only the départements of this région (code or name).")
@json_option
def list_command(level: str | None, region: str | None, as_json: bool) -> None:
    """List the territories: code, name, région, population."""
    if region is not None:
        found = territories.members(territories.find(region, level="region").code)
    else:
        found = (*territories.regions(), *territories.departements())
        if level is not None:
            found = tuple(t for t in found if t.level == level)

    def text() -> None:
        for t in found:
            where = f"  région {t.region}" if t.region else ""
            click.echo(f"{t.level:<12} {t.code:<4} {t.name:<32} {t.population:>10,}{where}")

    emit([t.to_dict() for t in found], as_json, text)


@territories_group.command("show")
@click.argument("name_or_code")
@click.option("--level", type=_LEVEL, help='Needed when a code is both ("11").')
@json_option
def show_command(name_or_code: str, level: str | None, as_json: bool) -> None:
    """One territory by code or name ("67", "Bas-Rhin", "région 44"), with its parts."""
    found = territories.find(name_or_code, level=level)
    data = found.to_dict()
    if found.level == "region":
        data["departements"] = [t.code for t in territories.members(found.code)]
    elif (region := territories.region_of(found)) is not None:
        data["region_name"] = region.name

    def text() -> None:
        click.echo(f"{territories.LABELS[found.level]} {found.label}")
        click.echo(f"  population {found.population:,}")
        click.echo(f"  point inside {found.latitude:.4f}, {found.longitude:.4f}")
        if "region_name" in data:
            click.echo(f"  région {data['region_name']} ({found.region})")
        if "departements" in data:
            click.echo(f"  départements {', '.join(data['departements'])}")
        click.echo(f"  entity {found.entity_id}")

    emit(data, as_json, text)


@territories_group.command("locate")
@click.argument("latitude", type=click.FloatRange(-90, 90))
@click.argument("longitude", type=click.FloatRange(-180, 180))
@json_option
def locate_command(latitude: float, longitude: float, as_json: bool) -> None:
    """The département (and région) a point lies in."""
    found = territories.locate(latitude, longitude)
    region = territories.region_of(found) if found else None
    data = {
        "latitude": latitude,
        "longitude": longitude,
        "departement": found.to_dict() if found else None,
        "region": region.to_dict() if region else None,
    }

    def text() -> None:
        if found is None:
            click.echo(f"({latitude}, {longitude}) is in no French département")
        else:
            click.echo(f"{found.label}, {region.label if region else ''}")

    emit(data, as_json, text)


@territories_group.command("outlines")
@click.option("--level", type=_LEVEL, help="Only départements or only régions.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the GeoJSON here (default: standard output).",
)
def outlines_command(level: str | None, out: Path | None) -> None:
    """The simplified outlines as GeoJSON (about 400 m precision), for maps and GIS."""
    text = json.dumps(territories.outlines(level), ensure_ascii=False, separators=(",", ":"))
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


@territories_group.command("load")
@json_option
@click.pass_context
def load_command(ctx: click.Context, as_json: bool) -> None:
    """Load the territories into the store as FrenchTerritory entities (dataset territoires_fr).

    Records of other datasets link to them through an entity with key literal
    ``fr-departement`` (or ``fr-region``) and the code as its key. Loading again changes
    nothing."""
    from recoupe.cli import ingest

    ctx.invoke(ingest, mapping=territories.mapping_path(), dataset=None, as_json=as_json)


COMMANDS = (territories_group,)
