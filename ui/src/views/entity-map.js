// The entity page's map: where the entity was (dated places, e.g. the cell towers its line
// used) and where it is (fixed places), on the offline basemap. Loaded only for entities
// that have places, so the entity page stays light for the others.

import { get } from "../api.js";
import { clear, h } from "../dom.js";
import { basemapStyle, collection, parseTs, SEA, TRACK_COLOURS, trackBounds, trackFeatures } from "../map-data.js";
import { maplibregl, useBundledWorker } from "../maplibre.js";

/** Draw the map of ``track`` (GET /api/entities/{id}/track) in ``box``; returns a cleanup. */
export function drawEntityMap(box, track, { title, note }) {
  const shaped = {
    id: track.entity_id,
    caption: track.caption,
    colour: TRACK_COLOURS[0],
    points: (track.points || []).map((p) => ({ ...p, t: parseTs(p.ts) })).filter((p) => !Number.isNaN(p.t)),
    fixed: track.fixed || [],
  };
  const bounds = trackBounds([shaped]);
  const container = h("div", { id: "entity-map-canvas", class: "entity-map", style: `height: 320px; background: ${SEA}` });
  clear(box, h("h2", {}, title), container, h("p", { class: "muted" }, note));
  useBundledWorker();
  const map = new maplibregl.Map({
    container,
    style: basemapStyle(),
    center: [2.5, 46.6],
    zoom: 4.7,
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  const outlines = get("/api/territories/outlines").catch(() => null);
  map.on("load", async () => {
    const drawn = trackFeatures([shaped]);
    map.getSource("lines").setData(drawn.lines);
    map.getSource("points").setData(drawn.points);
    map.getSource("fixed").setData(drawn.fixed);
    if (bounds) {
      const [[w, s], [e, n]] = bounds;
      if (w === e && s === n) map.jumpTo({ center: [w, s], zoom: 12 });
      else map.fitBounds(bounds, { padding: 40, maxZoom: 14, duration: 0 });
    }
    const geo = await outlines;
    if (geo && map.getSource("territories")) map.getSource("territories").setData(geo || collection());
    map.once("idle", () => (container.dataset.ready = "1")); // drawn, places and outlines in
    map.triggerRepaint();
  });
  return () => map.remove();
}
