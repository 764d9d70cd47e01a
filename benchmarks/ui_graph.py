"""Graph explorer benchmark: open an investigation of N entities in the browser workspace.

A demo workspace is generated in ``benchmarks/out/workspaces/ui-<scale>`` if it is not
there yet and served on 127.0.0.1. An investigation of the first N entities of the link
graph's busiest ones (people, lines, accounts...) is saved through the API and shared with
the demo analyst, who logs in with Debian's Chromium (Playwright) and opens it. Measured:

- open: from the click on « Ouvrir » to the graph drawn (the server rebuilds the
  investigation, the page lays it out and draws it);
- frames per second while the camera zooms for three seconds (sigma, WebGL; Chromium
  renders with SwiftShader on the CPU here, so this is a floor);
- a click on a node: time until the selection is drawn.

Results go to ``benchmarks/out/ui-graph-<nodes>.json``; docs/benchmarks.md quotes them.

    python benchmarks/ui_graph.py [--nodes 10000] [--scale 20000]
"""

from __future__ import annotations

import argparse
import json
import platform
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from recoupe.api.app import create_app
from recoupe.config import Settings
from recoupe.services.demo import demo_accounts, run_demo
from recoupe.services.workspace import open_workspace

OUT = Path(__file__).parent / "out"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]


# Frames drawn while the camera zooms for 3 s, and animation frames in 2 s of rest.
ZOOM = """() => new Promise((resolve) => {
    const sigma = document.querySelector('#graph')._sigma;
    let frames = 0;
    let done = false;
    const count = () => { frames += 1; if (!done) requestAnimationFrame(count); };
    requestAnimationFrame(count);
    sigma.getCamera().animate({ ratio: 0.2 }, { duration: 3000 });
    setTimeout(() => { done = true; resolve(frames); }, 3000);
})"""
IDLE = """() => new Promise((resolve) => {
    let frames = 0;
    let done = false;
    const count = () => { frames += 1; if (!done) requestAnimationFrame(count); };
    requestAnimationFrame(count);
    setTimeout(() => { done = true; resolve(frames); }, 2000);
})"""


def _busiest(settings: Settings, n: int) -> list[str]:
    with open_workspace(settings) as store:
        rows = store.con.execute(
            "SELECT id, count(*) AS degree FROM (SELECT source AS id FROM edges "
            "UNION ALL SELECT target FROM edges) GROUP BY id ORDER BY degree DESC, id LIMIT ?",
            [n],
        ).fetchall()
    return [r[0] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--scale", type=int, default=20_000)
    args = parser.parse_args()
    workspace = OUT / "workspaces" / f"ui-{args.scale}"
    settings = Settings(workspace=workspace, memory_limit="4GB", threads=2)
    if not (workspace / "store.duckdb").exists():
        run_demo(settings, scale=args.scale)
    accounts = {a.login: a for a in demo_accounts(settings)}
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=8799, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = "http://127.0.0.1:8799"
    ids = _busiest(settings, args.nodes)
    token = app.state.operator_token
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:
        saved = api.post(
            "/api/investigations",
            json={
                "title": f"Banc d'essai {len(ids)} entités",
                "nodes": [{"id": i} for i in ids],
                "shares": ["user:analyste"],
            },
            timeout=120,
        )
        saved.raise_for_status()
        investigation = saved.json()["id"]
    from playwright.sync_api import sync_playwright

    result: dict[str, Any] = {"nodes_asked": len(ids), "machine": platform.platform()}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(300_000)
        page.goto(f"{base}/")
        page.fill("#login", "analyste")
        page.fill("#password", accounts["analyste"].password)
        page.click("#login-submit")
        page.wait_for_selector("header.top")
        page.fill("#justification", "banc d'essai")
        page.goto(f"{base}/#/investigations")
        button = page.locator(f"#inv-table tr[data-id='{investigation}'] .inv-open")
        button.wait_for()
        started = time.perf_counter()
        button.click()
        page.wait_for_selector("#view-graph[data-ready='1']")
        result["open_s"] = round(time.perf_counter() - started, 2)
        result["nodes_drawn"] = int(page.get_attribute("#graph", "data-order") or 0)
        result["edges_drawn"] = int(page.get_attribute("#graph", "data-size") or 0)
        frames = page.evaluate(ZOOM)
        result["zoom_fps"] = round(frames / 3.0, 1)
        result["idle_fps"] = round(page.evaluate(IDLE) / 2.0, 1)
        started = time.perf_counter()
        page.select_option("#graph-pick", index=1)
        page.wait_for_selector("#graph-info .selected-node")
        result["select_s"] = round(time.perf_counter() - started, 3)
        page.screenshot(path=str(OUT / f"ui-graph-{args.nodes}.png"))
        # The same zoom on an empty graph: what the renderer costs with nothing to draw.
        page.click("#graph-clear")
        page.wait_for_selector("#graph[data-order='0']")
        result["empty_zoom_fps"] = round(page.evaluate(ZOOM) / 3.0, 1)
        browser.close()
    server.should_exit = True
    OUT.mkdir(exist_ok=True)
    (OUT / f"ui-graph-{args.nodes}.json").write_text(
        json.dumps(result, indent=1) + "\n", encoding="utf-8"
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
