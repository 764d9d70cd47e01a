"""Graph explorer benchmark: open an investigation of N entities in the browser workspace.

A demo workspace is generated in ``benchmarks/out/workspaces/ui-<scale>`` if it is not
there yet and served on 127.0.0.1. An investigation of the first N entities of the link
graph's busiest ones (people, lines, accounts...) is saved through the API and shared with
the demo analyst, who logs in with Debian's Chromium (Playwright) and opens it. Measured:

- open: from the click on « Ouvrir » to the graph drawn (the server rebuilds the
  investigation, the page lays it out and draws it), and to that drawing on screen
  (animation frames flowing again);
- frames per second shown while the camera zooms for three seconds, while the mouse drags
  the graph and while the wheel zooms (sigma, WebGL; Chromium renders with SwiftShader on
  the CPU here). Past 3,000 nodes and links the moving frames move the last picture drawn
  (ui/src/views/graph-motion.js), so these measure the preview;
- the time from the end of a zoom to the graph drawn again at rest and shown: what one
  real frame costs;
- a click on a node: time until the selection is drawn.

Results go to ``benchmarks/out/ui-graph-<nodes>.json``; docs/benchmarks.md quotes them.

    python benchmarks/ui_graph.py [--nodes 10000] [--scale 20000]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
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


# Frames sigma put on screen: drawn at rest, or the picture moved (graph-motion.js).
FRAMES = "(Number(box.dataset.drawn || 0) + Number(box.dataset.previewed || 0))"
# Frames shown while the camera zooms for 3 s, then the time from the end of the zoom to
# the graph drawn again at rest and shown (two animation frames after the draw).
ZOOM = """() => new Promise((resolve) => {
    const box = document.querySelector('#graph');
    const sigma = box._sigma;
    const first = FRAMES;
    const before = box.dataset.drawn;
    const shown = (frames, ended) => requestAnimationFrame(() => requestAnimationFrame(() =>
        resolve({ frames, rest: (performance.now() - ended) / 1000 })));
    sigma.getCamera().animate({ ratio: sigma.getCamera().ratio * 0.2 }, { duration: 3000 }, () => {
        const frames = FRAMES - first;
        const ended = performance.now();
        const wait = () => box.dataset.drawn !== before
            ? shown(frames, ended) : setTimeout(wait, 5);
        wait();
    });
})""".replace("FRAMES", FRAMES)
# Animation frames in 2 s of rest.
IDLE = """() => new Promise((resolve) => {
    let frames = 0;
    let done = false;
    const count = () => { frames += 1; if (!done) requestAnimationFrame(count); };
    requestAnimationFrame(count);
    setTimeout(() => { done = true; resolve(frames); }, 2000);
})"""
# Until ten animation frames in a row come less than 40 ms apart (at most 30 s): the last
# draw has reached the screen.
SETTLED = """() => new Promise((resolve) => {
    let last = performance.now();
    let good = 0;
    const started = last;
    const tick = () => {
        const now = performance.now();
        good = now - last < 40 ? good + 1 : 0;
        last = now;
        if (good >= 10 || now - started > 30000) resolve(now - started);
        else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})"""
# Sigma's frames while Playwright drives the mouse.
COUNT = "() => { const box = document.querySelector('#graph'); window.__first = FRAMES; }".replace(
    "FRAMES", FRAMES
)
STOP = "() => { const box = document.querySelector('#graph'); return FRAMES - window.__first; }"
STOP = STOP.replace("FRAMES", FRAMES)


def _mouse_fps(page: Any, action: str) -> float:
    """Frames per second shown while the mouse pans (drag) or zooms (wheel) for ~2 s."""
    box = page.locator("#graph").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.evaluate(COUNT)
    started = time.perf_counter()
    if action == "drag":
        page.mouse.down()
        for i in range(60):
            page.mouse.move(x + 4 * i, y + 2 * i)
            page.wait_for_timeout(30)
        page.mouse.up()
    else:
        for i in range(16):
            page.mouse.wheel(0, -120 if i < 8 else 120)
            page.wait_for_timeout(120)
    frames = int(page.evaluate(STOP))
    return round(frames / (time.perf_counter() - started), 1)


def _step(text: str) -> None:
    print(f"… {text}", file=sys.stderr, flush=True)


def _rest(page: Any) -> None:
    """Let the last draw reach the screen (it can take a second under software WebGL)."""
    page.wait_for_selector("#graph[data-moving='0']")
    page.evaluate(SETTLED)


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
        _rest(page)
        result["open_shown_s"] = round(time.perf_counter() - started, 2)
        _step("opened; zooming")
        zoom = page.evaluate(ZOOM)
        result["zoom_fps"] = round(zoom["frames"] / 3.0, 1)
        result["rest_draw_s"] = round(zoom["rest"], 2)
        _step("dragging")
        _rest(page)
        result["drag_fps"] = _mouse_fps(page, "drag")
        _step("wheel")
        _rest(page)
        result["wheel_fps"] = _mouse_fps(page, "wheel")
        _rest(page)
        result["idle_fps"] = round(page.evaluate(IDLE) / 2.0, 1)
        started = time.perf_counter()
        page.select_option("#graph-pick", index=1)
        page.wait_for_selector("#graph-info .selected-node")
        result["select_s"] = round(time.perf_counter() - started, 3)
        page.screenshot(path=str(OUT / f"ui-graph-{args.nodes}.png"))
        # The same zoom on an empty graph: what the renderer costs with nothing to draw.
        page.click("#graph-clear")
        page.wait_for_selector("#graph[data-order='0']")
        _rest(page)
        result["empty_zoom_fps"] = round(page.evaluate(ZOOM)["frames"] / 3.0, 1)
        browser.close()
    server.should_exit = True
    OUT.mkdir(exist_ok=True)
    (OUT / f"ui-graph-{args.nodes}.json").write_text(
        json.dumps(result, indent=1) + "\n", encoding="utf-8"
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
