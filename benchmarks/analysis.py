"""Analysis benchmark: search, expand, paths, Leiden and the API under load, per scale.

For each scale (call records; the population is a tenth of it) the scenario is generated
and ingested into ``benchmarks/out/workspaces/<scale>`` if it is not there yet, the derived
data is refreshed (timed), then:

- search: name queries taken from the scenario (as written in one source, and with one
  typing error), in process, warm; p50/p95 and how often the person is in the top 10;
- expand depth 2 from the busiest entities, capped at 500 nodes; p50/p95;
- shortest path between two people (telecom subscribers); p50/p95;
- Leiden over the whole graph, once;
- the API (``recoupe serve``) under 20 concurrent clients for 60 s, mixing search (50 %),
  entity (25 %) and expand (25 %); p50/p95/p99 and errors.

Results go to ``benchmarks/out/analysis-<scale>.json``; docs/benchmarks.md quotes them.

    python benchmarks/analysis.py --scales 100k,1m,10m [--duration 60] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from recoupe.config import Settings
from recoupe.scenario import generate
from recoupe.scenario.truth import telecom_people
from recoupe.search.query import SearchQuery
from recoupe.security.reader import Reader
from recoupe.services.ingest import ingest_mapping
from recoupe.services.runtime import Runtime
from recoupe.services.workspace import open_workspace

OUT = Path(__file__).parent / "out"
SCALES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
SAMPLES = 300


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.array(values) * 1000
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
        "p99_ms": round(float(np.percentile(arr, 99)), 2),
        "max_ms": round(float(arr.max()), 2),
    }


def typo(name: str, rng: random.Random) -> str:
    """One typing error (a letter dropped, doubled or swapped) in the longest word."""
    words = name.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    if len(w) < 5:
        return name
    j = rng.randrange(1, len(w) - 2)
    w = rng.choice([w[:j] + w[j + 1 :], w[:j] + w[j] + w[j:], w[:j] + w[j + 1] + w[j] + w[j + 2 :]])
    words[i] = w
    return " ".join(words)


def ensure_workspace(scale: str) -> tuple[Settings, dict[str, Any]]:
    calls = SCALES[scale]
    scenario = OUT / f"scenario-{scale}"
    workspace = OUT / "workspaces" / scale
    settings = Settings(workspace=workspace)
    if not (scenario / "truth.json").exists():
        generate(scenario, scale=calls, people_count=calls // 10)
    ingest: dict[str, Any] = {}
    if not (workspace / "ingested").exists():
        started = time.monotonic()
        with open_workspace(settings, create=True) as store:
            for mapping in sorted(scenario.glob("*/mapping.yml")):
                ingest_mapping(store, mapping)
        ingest["seconds"] = round(time.monotonic() - started, 1)
        (workspace / "ingested").touch()
    truth = json.loads((scenario / "truth.json").read_text())
    return settings, {"ingest": ingest, "truth": truth}


def bench_in_process(settings: Settings, truth: dict[str, Any], rng: random.Random) -> Any:
    result: dict[str, Any] = {}
    reader = Reader.system()
    with Runtime(settings) as runtime:
        started = time.monotonic()
        result["refresh"] = runtime.refresh().to_dict()
        result["refresh"]["seconds"] = round(time.monotonic() - started, 1)
        earlier = OUT / f"refresh-{settings.workspace.name}.json"
        if earlier.exists():
            result["first_refresh"] = json.loads(earlier.read_text())
        store = runtime.store
        result["counts"] = store.counts(reader)
        people = [(name, eid, cell) for _, name, eid, cell in telecom_people(truth)]
        sample = rng.sample(people, min(SAMPLES, len(people)))
        # search
        timings: dict[str, list[float]] = {"exact": [], "typo": []}
        found: dict[str, int] = {"exact": 0, "typo": 0}
        for kind in ("exact", "typo"):
            for name, entity_id, _ in sample:
                q = name if kind == "exact" else typo(name, rng)
                t = time.perf_counter()
                hits = runtime.search.search(store, reader, SearchQuery(q=q, limit=10))
                timings[kind].append(time.perf_counter() - t)
                found[kind] += entity_id in [h.id for h in hits.results]
        result["search"] = {
            kind: {**percentiles(timings[kind]), "found_in_top10": found[kind] / len(sample)}
            for kind in timings
        }
        result["search"]["all"] = percentiles(timings["exact"] + timings["typo"])
        # graph
        graph_service = runtime.graph
        t = time.perf_counter()
        graph = graph_service.graph()
        result["graph_load_s"] = round(time.perf_counter() - t, 2)
        result["graph"] = {"nodes": len(graph), "edges": int(graph.n_edges)}
        degree = graph.degree()
        entity_nodes = np.flatnonzero(graph.node_kind == 0)
        busiest = entity_nodes[np.argsort(degree[entity_nodes])[-50:]]
        busy_ids = list(graph.ids(busiest))
        expand_t = []
        for entity_id in busy_ids:
            t = time.perf_counter()
            graph_service.expand(reader, [entity_id], depth=2, cap=500)
            expand_t.append(time.perf_counter() - t)
        result["expand_depth2_cap500"] = {
            **percentiles(expand_t),
            "busiest_degree": int(degree[busiest].max()),
        }
        path_t = []
        path_found = 0
        ids = [p[1] for p in people if graph.find(p[1]) >= 0]
        for _ in range(200):
            a, b = rng.sample(ids, 2)
            t = time.perf_counter()
            paths = graph_service.paths(reader, a, b)
            path_t.append(time.perf_counter() - t)
            path_found += bool(paths["paths"])
        result["shortest_path_people"] = {**percentiles(path_t), "found": path_found / 200}
        t = time.perf_counter()
        communities = graph_service.communities(reader, top=5)
        result["leiden"] = {
            "seconds": round(time.perf_counter() - t, 1),
            "communities": communities["count"],
            "modularity": round(communities["modularity"], 3),
        }
        result["load_sample"] = {
            "names": [p[0] for p in sample],
            "ids": [p[1] for p in sample],
        }
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def load(url: str, names: list[str], ids: list[str], clients: int, duration: float) -> Any:
    latencies: dict[str, list[float]] = {"search": [], "entity": [], "expand": []}
    errors: dict[str, int] = {}
    deadline = time.monotonic() + duration
    rng = random.Random(7)

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            roll = rng.random()
            if roll < 0.5:
                op, path, params = "search", "/api/search", {"q": rng.choice(names)}
            elif roll < 0.75:
                op, path, params = "entity", f"/api/entities/{rng.choice(ids)}", {}
            else:
                op = "expand"
                path, params = "/api/graph/expand", {"id": rng.choice(ids), "depth": 2}
            t = time.perf_counter()
            try:
                response = await client.get(path, params=params)
                ok = response.status_code == 200
            except httpx.HTTPError as exc:
                ok = False
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            latencies[op].append(time.perf_counter() - t)
            if not ok:
                errors[op] = errors.get(op, 0) + 1

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    every = [x for v in latencies.values() for x in v]
    return {
        "clients": clients,
        "seconds": duration,
        "requests": len(every),
        "requests_per_s": round(len(every) / duration, 1),
        "errors": errors,
        "all": percentiles(every),
        **{op: percentiles(v) for op, v in latencies.items()},
    }


def bench_api(settings: Settings, sample: dict[str, Any], clients: int, duration: float) -> Any:
    port = free_port()
    cmd = [sys.executable, "-m", "recoupe.cli", "--workspace", str(settings.workspace), "serve"]
    server = subprocess.Popen([*cmd, "--port", str(port)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        # warm the graph and index once, as an analyst's first request would
        httpx.get(f"{url}/api/graph/expand", params={"id": sample["ids"][0]}, timeout=600)
        return asyncio.run(load(url, sample["names"], sample["ids"], clients, duration))
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="100k,1m,10m")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--no-api", action="store_true")
    parser.add_argument(
        "--refresh-only",
        action="store_true",
        help="Only bring the derived data up to date (timed into refresh-<scale>.json).",
    )
    args = parser.parse_args()
    for scale in args.scales.split(","):
        rng = random.Random(42)
        settings, prepared = ensure_workspace(scale)
        print(f"[{scale}] workspace ready", flush=True)
        if args.refresh_only:
            started = time.monotonic()
            with Runtime(settings) as runtime:
                report = runtime.refresh().to_dict()
            report["seconds"] = round(time.monotonic() - started, 1)
            report["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            (OUT / f"refresh-{scale}.json").write_text(json.dumps(report, indent=2))
            print(json.dumps(report), flush=True)
            continue
        result = {
            "scale": scale,
            "calls": SCALES[scale],
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
            "ingest": prepared["ingest"],
        }
        result.update(bench_in_process(settings, prepared["truth"], rng))
        print(f"[{scale}] in-process done", flush=True)
        if not args.no_api:
            result["api"] = bench_api(settings, result["load_sample"], args.clients, args.duration)
        result.pop("load_sample")
        out = OUT / f"analysis-{scale}.json"
        out.write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
