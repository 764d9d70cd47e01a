"""Ingest benchmark: call rows per second, peak memory, and a comparison with ``ftm map``.

Run it from the repository root with the project's virtual environment::

    .venv/bin/python benchmarks/ingest.py [--scales 1000000 10000000] [--ftm-rows 100000]
                                          [--out benchmarks/out]

For each scale it generates the synthetic scenario (or reuses one generated with the same
scale and seed in the output folder), writes a mapping holding only the call-records query
of ``telecom/mapping.yml`` next to ``calls.csv``, and runs ``recoupe ingest`` on it in a
fresh workspace, in a child process whose wall time and peak resident memory are measured
(end to end, process start included). It then runs FollowTheMoney's own ``ftm map`` and
``recoupe ingest`` on the first ``--ftm-rows`` call rows of the smallest scenario large
enough. Results go to ``<out>/ingest-results.json``; a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from resource import RUSAGE_SELF, getrusage
from typing import Any

import yaml

DEFAULT_SCALES = (1_000_000, 10_000_000)
DEFAULT_FTM_ROWS = 100_000
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
SEED = 42
CALLS_CSV = "calls.csv"
CALLS_MAPPING = "calls-mapping.yml"
RESULTS = "ingest-results.json"
TRUTH_HEAD = re.compile(r'\{\s*"scale":\s*(?P<scale>\d+),\s*"seed":\s*(?P<seed>\d+)')

TARGET_SCALE = 10_000_000
TARGET_ROWS_PER_S = 100_000
TARGET_PEAK_RSS_MIB = 4 * 1024
TARGET_SPEEDUP = 20.0


class BenchmarkFailed(Exception):
    """A step of the benchmark could not run or produced nothing to measure."""


@dataclass(frozen=True, slots=True)
class Measured:
    """One child process: its wall time, its own peak RSS, what it printed."""

    argv: tuple[str, ...]
    wall_seconds: float
    peak_rss_mib: float
    stdout: str
    stderr: str


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Measured:
    """Run ``argv`` and measure it alone.

    ``os.wait4`` gives the rusage of this one child (``RUSAGE_CHILDREN`` would report the
    largest child so far, hiding a smaller run after a larger one). ``ru_maxrss`` is in KiB
    on Linux. A child's ``ru_maxrss`` is never below this process's own peak RSS at the time
    it starts (Linux carries it over the fork and exec), so this process stays small: it
    generates scenarios in child processes and imports neither recoupe nor followthemoney.
    Output goes to temporary files so a chatty child can never block on a pipe.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise BenchmarkFailed(
            f"{' '.join(argv)} (in {cwd}) exited with {proc.returncode}:\n{stderr[-4000:]}"
        )
    return Measured(tuple(argv), wall, usage.ru_maxrss / 1024, stdout, stderr)


def tool(name: str) -> Path:
    """A command installed next to the running interpreter (the project's venv)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        raise BenchmarkFailed(f"{path} not found: run this with the project's .venv/bin/python")
    return path


def recoupe_env() -> dict[str, str]:
    """The environment for ``recoupe``: FTM_MODEL_PATH would change the model it loads."""
    return {k: v for k, v in os.environ.items() if k not in {"FTM_MODEL_PATH", "RECOUPE_HOME"}}


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


# -- scenario and mapping ---------------------------------------------------------------------
def truth_head(path: Path) -> tuple[int, int] | None:
    """Scale and seed from the head of a scenario's ``truth.json``.

    The file runs to a hundred MB at ten million calls; parsing it whole would raise this
    process's peak RSS (see measure), and the generator writes these two keys first.
    """
    try:
        with path.open("rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
    except OSError:
        return None
    found = TRUTH_HEAD.match(head)
    return None if found is None else (int(found["scale"]), int(found["seed"]))


def scenario(out: Path, scale: int) -> tuple[Path, Measured | None]:
    """The scenario folder for ``scale``, and how generating it went (None: reused)."""
    folder = out / f"scenario-{scale}"
    telecom = folder / "telecom"
    complete = (telecom / CALLS_CSV).is_file() and (telecom / "mapping.yml").is_file()
    if complete and truth_head(folder / "truth.json") == (scale, SEED):
        log(f"scale {scale:,}: reusing {folder}")
        return folder, None
    if folder.exists():
        shutil.rmtree(folder)
    log(f"scale {scale:,}: generating {folder}")
    argv = [str(tool("recoupe")), "generate", "--scale", str(scale), "--seed", str(SEED)]
    generated = measure([*argv, "--out", str(folder), "--json"], out, recoupe_env())
    log(f"scale {scale:,}: generated in {generated.wall_seconds:.1f} s")
    return folder, generated


def write_calls_mapping(telecom_mapping: Path, target: Path) -> None:
    """The calls query of the telecom mapping alone, with the same dataset metadata."""
    doc = yaml.safe_load(telecom_mapping.read_text("utf-8"))
    if not isinstance(doc, dict) or len(doc) != 1:
        raise BenchmarkFailed(f"{telecom_mapping}: expected one dataset at the top level")
    ((name, meta),) = doc.items()
    queries = [q for q in meta.get("queries", []) if q.get("csv_url") == CALLS_CSV]
    if len(queries) != 1:
        raise BenchmarkFailed(f"{telecom_mapping}: expected one query on {CALLS_CSV}")
    text = yaml.safe_dump(
        {name: {**meta, "queries": queries}}, allow_unicode=True, sort_keys=False, width=100
    )
    header = f"# The {CALLS_CSV} query of mapping.yml alone, for the ingest benchmark.\n"
    target.write_text(header + text, "utf-8")


def head_csv(source: Path, target: Path, rows: int) -> int:
    """Copy the header and the first ``rows`` records of a CSV file; return how many."""
    with (
        source.open(newline="", encoding="utf-8") as src,
        target.open("w", newline="", encoding="utf-8") as dst,
    ):
        writer = csv.writer(dst, lineterminator="\n")
        written = 0
        for record in itertools.islice(csv.reader(src), rows + 1):
            writer.writerow(record)
            written += 1
    return max(written - 1, 0)


# -- runs -------------------------------------------------------------------------------------
def ingest(mapping: Path, workspace: Path, keep: bool) -> dict[str, Any]:
    """``recoupe ingest --json`` in a fresh workspace, measured from outside."""
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.parent.mkdir(parents=True, exist_ok=True)
    argv = [str(tool("recoupe")), "--workspace", str(workspace), "ingest", str(mapping), "--json"]
    m = measure(argv, mapping.parent, recoupe_env())
    try:
        run = json.loads(m.stdout)
    except ValueError as exc:
        raise BenchmarkFailed(f"ingest of {mapping} printed no JSON summary:\n{m.stdout}") from exc
    if run.get("status") != "succeeded":
        raise BenchmarkFailed(f"ingest of {mapping} did not succeed: {run}")
    store_bytes = tree_bytes(workspace)
    if not keep:
        shutil.rmtree(workspace)
    return {
        "wall_seconds": round(m.wall_seconds, 3),
        "peak_rss_mib": round(m.peak_rss_mib, 1),
        "rows_per_s": round(run["rows_read"] / m.wall_seconds),
        "statements_per_s": round(run["statements"] / m.wall_seconds),
        "workspace_mib": round(store_bytes / 2**20, 1),
        "run": run,
    }


def bench_scale(out: Path, scale: int, keep: bool) -> dict[str, Any]:
    folder, generated = scenario(out, scale)
    calls = folder / "telecom" / CALLS_CSV
    mapping = folder / "telecom" / CALLS_MAPPING
    write_calls_mapping(folder / "telecom" / "mapping.yml", mapping)
    log(f"scale {scale:,}: recoupe ingest {mapping}")
    result = ingest(mapping, out / "workspaces" / f"scale-{scale}", keep)
    run = result["run"]
    log(
        f"scale {scale:,}: {run['rows_read']:,} rows, {run['statements']:,} statements in "
        f"{result['wall_seconds']:.1f} s wall ({run['seconds']} s in the run), "
        f"peak RSS {result['peak_rss_mib']:,.0f} MiB"
    )
    notes = []
    if run["rows_read"] != scale:
        notes.append(f"rows_read {run['rows_read']:,} differs from the scale {scale:,}")
    return {
        "scale": scale,
        "scenario": str(folder),
        "generate_seconds": None if generated is None else round(generated.wall_seconds, 1),
        "generate_peak_rss_mib": None if generated is None else round(generated.peak_rss_mib, 1),
        "calls_csv_mib": round(calls.stat().st_size / 2**20, 1),
        **result,
        "notes": notes,
    }


def package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise BenchmarkFailed(f"{name} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def model_dir(folder: Path) -> Path:
    """A folder of symlinks to FtM's schema files and ours, for ``FTM_MODEL_PATH``."""
    ftm_schema = package_dir("followthemoney") / "schema"
    ours = package_dir("recoupe") / "ontology" / "schemata"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for source in (ftm_schema, ours):
        for path in sorted(source.glob("*.yaml")):
            (folder / path.name).symlink_to(path.resolve())
    return folder


def bench_ftm(out: Path, source: Path, rows: int, keep: bool) -> dict[str, Any]:
    """``ftm map`` and ``recoupe ingest`` on the same first ``rows`` call records."""
    folder = out / f"ftm-{rows}"
    folder.mkdir(parents=True, exist_ok=True)
    copied = head_csv(source / "telecom" / CALLS_CSV, folder / CALLS_CSV, rows)
    if copied != rows:
        raise BenchmarkFailed(f"{source} has {copied:,} call rows, fewer than {rows:,}")
    mapping = folder / CALLS_MAPPING
    shutil.copyfile(source / "telecom" / CALLS_MAPPING, mapping)
    entities = folder / "entities.ftm.json"
    entities.unlink(missing_ok=True)
    env = {**recoupe_env(), "FTM_MODEL_PATH": str(model_dir(folder / "model"))}
    log(f"ftm: ftm map on the first {rows:,} call rows")
    argv = [str(tool("ftm")), "map", mapping.name, "-o", entities.name]
    ftm = measure(argv, folder, env)
    emitted = count_lines(entities) if entities.is_file() else 0
    if emitted == 0:
        raise BenchmarkFailed(f"ftm map wrote no entities to {entities}:\n{ftm.stderr[-4000:]}")
    log(f"ftm: {emitted:,} entities in {ftm.wall_seconds:.1f} s; now recoupe ingest")
    ours = ingest(mapping, out / "workspaces" / f"ftm-{rows}", keep)
    ratio = round(ftm.wall_seconds / ours["wall_seconds"], 1)
    log(f"ftm: recoupe {ours['wall_seconds']:.1f} s, ftm map / recoupe = {ratio:.1f}")
    return {
        "rows": rows,
        "source": str(source / "telecom" / CALLS_CSV),
        "ftm_map": {
            "command": f"FTM_MODEL_PATH={env['FTM_MODEL_PATH']} {' '.join(argv)}",
            "wall_seconds": round(ftm.wall_seconds, 3),
            "peak_rss_mib": round(ftm.peak_rss_mib, 1),
            "entities_emitted": emitted,
            "rows_per_s": round(rows / ftm.wall_seconds),
        },
        "recoupe": ours,
        "ratio": ratio,
    }


# -- report -----------------------------------------------------------------------------------
def revision() -> dict[str, Any]:
    """Which recoupe is measured: its folder and, in a git checkout, the commit and edits."""
    where = package_dir("recoupe")
    git = ["git", "-C", str(where)]
    try:
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, check=True)
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "."], capture_output=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return {"path": str(where), "commit": None, "modified": None}
    return {
        "path": str(where),
        "commit": head.stdout.decode().strip(),
        "modified": status.stdout.decode().splitlines(),
    }


def machine() -> dict[str, Any]:
    def field(path: str, key: str) -> str | None:
        try:
            for line in Path(path).read_text("utf-8").splitlines():
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
        except OSError:
            pass
        return None

    mem_kib = field("/proc/meminfo", "MemTotal")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": field("/proc/cpuinfo", "model name") or platform.processor() or None,
        "memory_total_gib": None if mem_kib is None else round(int(mem_kib.split()[0]) / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "recoupe": version("recoupe"),
        "duckdb": version("duckdb"),
        "followthemoney": version("followthemoney"),
        "pyarrow": version("pyarrow"),
        "recoupe_settings": {k: v for k, v in os.environ.items() if k.startswith("RECOUPE_")},
    }


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None


def targets(scales: list[dict[str, Any]], ftm: dict[str, Any] | None) -> list[Target]:
    at_target = [s for s in scales if s["scale"] == TARGET_SCALE]
    rate = (
        Target(f"rows/s at {TARGET_SCALE:,} rows", f">= {TARGET_ROWS_PER_S:,}", "not run", None)
        if not at_target
        else Target(
            f"rows/s at {TARGET_SCALE:,} rows",
            f">= {TARGET_ROWS_PER_S:,}",
            f"{at_target[0]['rows_per_s']:,}",
            at_target[0]["rows_per_s"] >= TARGET_ROWS_PER_S,
        )
    )
    rss = [s["peak_rss_mib"] for s in scales] + ([ftm["recoupe"]["peak_rss_mib"]] if ftm else [])
    memory = Target(
        "peak RSS of recoupe ingest (largest run)",
        f"< {TARGET_PEAK_RSS_MIB:,} MiB",
        f"{max(rss):,.0f} MiB" if rss else "not run",
        max(rss) < TARGET_PEAK_RSS_MIB if rss else None,
    )
    speed = Target(
        "ftm map wall / recoupe ingest wall",
        f">= {TARGET_SPEEDUP:g}x",
        f"{ftm['ratio']:.1f}x" if ftm else "not run",
        ftm["ratio"] >= TARGET_SPEEDUP if ftm else None,
    )
    return [rate, memory, speed]


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| scale | rows read | rejected | statements | wall s | run s | rows/s | statements/s "
        "| peak RSS MiB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in results["scales"]:
        run = s["run"]
        lines.append(
            f"| {s['scale']:,} | {run['rows_read']:,} | {run['rows_rejected']:,} "
            f"| {run['statements']:,} | {s['wall_seconds']:.1f} | {run['seconds']:.1f} "
            f"| {s['rows_per_s']:,} | {s['statements_per_s']:,} | {s['peak_rss_mib']:,.0f} |"
        )
    ftm = results["ftm"]
    if ftm is not None:
        lines += [
            "",
            "| rows | ftm map wall s | entities emitted | recoupe wall s | recoupe run s "
            "| ftm map / recoupe |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {ftm['rows']:,} | {ftm['ftm_map']['wall_seconds']:.1f} "
            f"| {ftm['ftm_map']['entities_emitted']:,} | {ftm['recoupe']['wall_seconds']:.1f} "
            f"| {ftm['recoupe']['run']['seconds']:.1f} | {ftm['ratio']:.1f}x |",
        ]
    lines += ["", "| target | goal | measured | met |", "| --- | --- | --- | --- |"]
    for t in results["targets"]:
        met = "not measured" if t["met"] is None else ("yes" if t["met"] else "no")
        lines.append(f"| {t['name']} | {t['goal']} | {t['measured']} | {met} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scales", type=int, nargs="+", default=list(DEFAULT_SCALES))
    parser.add_argument(
        "--ftm-rows",
        type=int,
        default=DEFAULT_FTM_ROWS,
        help="call rows for the ftm map comparison (0 skips it)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--keep-workspaces", action="store_true", help="keep the ingested workspaces"
    )
    args = parser.parse_args(argv)
    scales: list[int] = sorted(set(args.scales))
    ftm_rows: int = args.ftm_rows
    enough = [s for s in scales if s >= ftm_rows]
    if ftm_rows < 0 or (ftm_rows and not enough):
        parser.error(f"--ftm-rows {ftm_rows}: needs a scale of at least that many rows")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join([sys.executable, *sys.argv]),
        "machine": machine(),
        "recoupe": revision(),
        "scales": [],
        "ftm": None,
        "warnings": [],
    }
    try:
        for scale in scales:
            results["scales"].append(bench_scale(out, scale, args.keep_workspaces))
        if ftm_rows:
            source = out / f"scenario-{min(enough)}"
            results["ftm"] = bench_ftm(out, source, ftm_rows, args.keep_workspaces)
    except BenchmarkFailed as exc:
        results["error"] = str(exc)
    results["targets"] = [asdict(t) for t in targets(results["scales"], results["ftm"])]
    if revision() != results["recoupe"]:
        results["warnings"].append("recoupe's source changed while the benchmark ran")
        log(f"warning: {results['warnings'][-1]}")
    results["total_seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    # The floor under every child's peak RSS figure (see measure).
    results["own_peak_rss_mib"] = round(getrusage(RUSAGE_SELF).ru_maxrss / 1024, 1)
    path = out / RESULTS
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(markdown(results))
    log(f"results written to {path}; this process peaked at {results['own_peak_rss_mib']} MiB")
    if "error" in results:
        print(f"benchmark failed: {results['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
