// Section 4 of the health dashboards: the proposed transfers between hospitals, as a table
// and on a map (MapLibre, with the départements' outlines from this server).

import { maplibregl, useBundledWorker } from "../../maplibre.js";
import { get } from "../../api.js";
import { clear, h } from "../../dom.js";
import { colon, day, num, table, td, tdNum, tr } from "./common.js";

/** Where each hospital is (code -> {id, code, name, departement, lat, lon}), from the
 * forecast's hospitals (the server reads their coordinates with them). */
export async function locateHospitals(ctx) {
  const fc = await ctx.forecast();
  const out = new Map();
  for (const x of fc.hospitals || []) {
    out.set(x.hospital, { id: x.entity_id, code: x.hospital, name: x.name, departement: x.departement, lat: x.latitude ?? Number.NaN, lon: x.longitude ?? Number.NaN });
  }
  return out;
}

export async function transfersSection(body, ctx) {
  const plan = await get("/api/health/transfers");
  if (!ctx.alive()) return;
  ctx.shows("sante_hopitaux");
  const fc = await ctx.forecast().catch(() => null);
  const byCode = new Map((fc?.hospitals || []).map((x) => [x.hospital, x]));
  const label = (code) => {
    const x = byCode.get(code);
    return x ? `${code} ${x.name}` : code;
  };
  const moves = [...(plan.moves || [])].sort((a, b) => b.amount - a.amount);
  const summary = h(
    "p",
    { class: "transfers-summary" },
    tr("transfers.summary", {
      date: day(plan.date),
      unit: tr(`unit.${plan.unit}`),
      moved: num(plan.moved),
      before: num(plan.over_before),
      after: num(plan.over_after),
      burden: num(plan.burden, 1),
      status: plan.status,
    }),
  );
  const rows = moves.map((m) =>
    h(
      "tr",
      { dataset: { from: m.from, to: m.to } },
      td(label(m.from)),
      td(label(m.to)),
      tdNum(num(m.amount)),
      tdNum(num(m.vehicles)),
      tdNum(num(m.cost_each, 1)),
    ),
  );
  const mapBox = h("div", { id: "health-transfer-map", class: "transfer-map", role: "region", "aria-label": tr("transfers.map") });
  const mapNote = h("div", { class: "map-note" });
  clear(
    body,
    summary,
    moves.length
      ? table("transfers-table", [[tr("transfers.from")], [tr("transfers.to")], [tr("transfers.patients"), true], [tr("transfers.vehicles"), true], [tr("transfers.hours"), true]], rows)
      : h("p", { class: "muted" }, tr("transfers.none")),
    mapNote,
    mapBox,
    h("p", { class: "muted map-legend" }, tr("transfers.legend")),
  );
  try {
    await transferMap(mapBox, mapNote, plan, fc, ctx);
  } catch (exc) {
    if (!ctx.alive()) return;
    mapBox.remove();
    clear(mapNote, h("p", { class: "error", role: "alert" }, tr("transfers.nomap", { reason: exc.message || String(exc) })));
  }
}

async function transferMap(box, note, plan, fc, ctx) {
  const [places, outlines, deps] = await Promise.all([
    ctx.hospitalPlaces().catch(() => new Map()),
    get("/api/territories/outlines", { level: "departement" }),
    ctx.territories().catch(() => []),
  ]);
  if (!ctx.alive()) return;
  const depCentre = new Map(deps.map((d) => [d.code, [d.longitude, d.latitude]]));
  const codes = new Set([...(plan.sites || []).map((s) => s.site), ...(fc?.hospitals || []).map((x) => x.hospital), ...places.keys()]);
  const fcBy = new Map((fc?.hospitals || []).map((x) => [x.hospital, x]));
  const siteBy = new Map((plan.sites || []).map((s) => [s.site, s]));
  const where = new Map();
  const missing = [];
  for (const code of codes) {
    const p = places.get(code);
    if (p && Number.isFinite(p.lat) && Number.isFinite(p.lon)) where.set(code, [p.lon, p.lat]);
    else {
      const dep = p?.departement || fcBy.get(code)?.departement;
      const centre = dep && depCentre.get(dep);
      if (centre && Number.isFinite(centre[0])) where.set(code, centre);
      missing.push(code);
    }
  }
  if (missing.length) clear(note, h("p", { class: "muted" }, tr("transfers.noplace", { list: missing.join(", ") })));
  const hospitals = {
    type: "FeatureCollection",
    features: [...where].map(([code, coordinates]) => {
      const site = siteBy.get(code) || {};
      const info = places.get(code) || {};
      return {
        type: "Feature",
        geometry: { type: "Point", coordinates },
        properties: {
          code,
          name: info.name || fcBy.get(code)?.name || code,
          entity: info.id || "",
          beds: fcBy.get(code)?.icu_beds ?? null,
          over_before: site.over_before ?? 0,
          over_after: site.over_after ?? 0,
        },
      };
    }),
  };
  const lines = {
    type: "FeatureCollection",
    features: (plan.moves || [])
      .filter((m) => where.has(m.from) && where.has(m.to))
      .map((m) => ({
        type: "Feature",
        geometry: { type: "LineString", coordinates: [where.get(m.from), where.get(m.to)] },
        properties: { from: m.from, to: m.to, amount: m.amount, vehicles: m.vehicles, hours: m.cost_each },
      })),
  };
  const regions = new Set((fc?.regions || []).map((r) => r.code));
  const maxAmount = Math.max(1, ...lines.features.map((f) => f.properties.amount));
  useBundledWorker();
  const map = new maplibregl.Map({
    container: box,
    style: {
      version: 8,
      sources: {
        outlines: { type: "geojson", data: outlines },
        moves: { type: "geojson", data: lines, lineMetrics: true },
        hospitals: { type: "geojson", data: hospitals },
      },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#dfe8f0" } },
        {
          id: "outlines-fill",
          type: "fill",
          source: "outlines",
          paint: { "fill-color": ["case", ["in", ["get", "region"], ["literal", [...regions]]], "#fbfaf4", "#eef0ea"] },
        },
        { id: "outlines-line", type: "line", source: "outlines", paint: { "line-color": "#9aa5b1", "line-width": 0.8 } },
        {
          id: "moves-line",
          type: "line",
          source: "moves",
          layout: { "line-cap": "round" },
          paint: {
            "line-gradient": ["interpolate", ["linear"], ["line-progress"], 0, "#a9c8ea", 1, "#0d3f7a"],
            "line-opacity": 0.85,
            "line-width": ["interpolate", ["linear"], ["get", "amount"], 0, 1.5, maxAmount, 12],
          },
        },
        {
          id: "hospitals-circles",
          type: "circle",
          source: "hospitals",
          paint: {
            "circle-radius": 7,
            "circle-color": ["case", [">", ["get", "over_before"], 0], "#b3261e", "#2e7d32"],
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 2,
          },
        },
      ],
    },
    center: [5.5, 48.8],
    zoom: 6,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    maxPitch: 0,
  });
  box._map = map;
  ctx.undo.push(() => map.remove());
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  const points = [...where.values()];
  if (points.length) {
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    map.fitBounds(
      [
        [Math.min(...lons), Math.min(...lats)],
        [Math.max(...lons), Math.max(...lats)],
      ],
      { padding: 50, maxZoom: 9, duration: 0 },
    );
  }
  const label = (code) => places.get(code)?.name || fcBy.get(code)?.name || code;
  let popup = null;
  const open = (lngLat, node) => {
    popup?.remove();
    popup = new maplibregl.Popup({ maxWidth: "320px", className: "health-popup" }).setLngLat(lngLat).setDOMContent(node).addTo(map);
  };
  map.on("click", "hospitals-circles", (event) => {
    const f = event.features?.[0];
    if (!f) return;
    const p = f.properties;
    open(
      f.geometry.coordinates,
      h(
        "div",
        { class: "health-popup" },
        h("strong", {}, p.entity ? h("a", { href: `#/entity/${encodeURIComponent(p.entity)}` }, `${p.code} ${p.name}`) : `${p.code} ${p.name}`),
        p.beds !== null && p.beds !== undefined && p.beds !== "null" ? h("div", {}, `${tr("forecast.beds")}${colon()}${num(Number(p.beds))}`) : null,
        h("div", {}, tr("transfers.popup.over", { before: num(Number(p.over_before)), after: num(Number(p.over_after)) })),
      ),
    );
  });
  map.on("click", "moves-line", (event) => {
    const f = event.features?.[0];
    if (!f) return;
    const p = f.properties;
    open(
      event.lngLat,
      h("div", { class: "health-popup" }, tr("transfers.popup.move", { from: label(p.from), to: label(p.to), n: num(Number(p.amount)), v: num(Number(p.vehicles)), hours: num(Number(p.hours), 1) })),
    );
  });
  for (const layer of ["hospitals-circles", "moves-line"]) {
    map.on("mouseenter", layer, () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", layer, () => (map.getCanvas().style.cursor = ""));
  }
  ctx.undo.push(() => popup?.remove());
  // the section is done when the map has drawn (or after a while, on a slow machine)
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 8000);
    map.once("load", () => {
      clearTimeout(timer);
      box.dataset.loaded = "1";
      resolve();
    });
  });
}
