// MapLibre as the views use it: its style sheet, and its worker started from a blob: URL
// (the bundle carries the worker's code; no separate file is fetched).

import * as maplibregl from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import workerSource from "maplibre-gl/dist/maplibre-gl-worker.mjs" with { type: "text" };

export { maplibregl };

let workerUrl = null;

/** Point MapLibre at its bundled worker (once per page). */
export function useBundledWorker() {
  if (workerUrl) return;
  workerUrl = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
  maplibregl.setWorkerUrl(workerUrl);
}
