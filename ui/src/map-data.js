// Pure helpers of the map view: the offline basemap's style, distances and circles on the
// sphere, the viewport as a bounding box for the API, tracks as GeoJSON filtered by a time
// window. No DOM, no map object.

import { feature } from "topojson-client";
import countries from "world-atlas/countries-50m.json";

export const SEA = "#b9d3e6";
export const EARTH_RADIUS_M = 6_371_008.8;
export const MAX_RADIUS_M = 100_000; // the server's bound on /api/places/radius

export const SCHEMA_COLOURS = {
  Person: "#1f5fa8",
  Company: "#b23b3b",
  Organization: "#b23b3b",
  LegalEntity: "#b23b3b",
  Phone: "#2a8a4a",
  CellTower: "#8a5a00",
  Address: "#6b6b6b",
  Hospital: "#c2185b",
  Case: "#e65100",
  FrenchTerritory: "#455a64",
};
export const OTHER_COLOUR = "#7a3fa0";
export const TRACK_COLOURS = [
  "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2",
  "#bcbd22", "#7f7f7f",
];

/** A MapLibre expression: the colour of a feature's ``schema`` property. */
export function schemaColourExpression() {
  return ["match", ["get", "schema"], ...Object.entries(SCHEMA_COLOURS).flat(), OTHER_COLOUR];
}

const rad = (deg) => (deg * Math.PI) / 180;
const deg = (r) => (r * 180) / Math.PI;

/** Great-circle distance in metres between two [lon, lat] points. */
export function haversine([lon1, lat1], [lon2, lat2]) {
  const a =
    Math.sin(rad(lat2 - lat1) / 2) ** 2 +
    Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, a)));
}

/** The point ``metres`` from ``[lon, lat]`` in the direction ``bearing`` (degrees). */
export function destination([lon, lat], metres, bearing) {
  const d = metres / EARTH_RADIUS_M;
  const b = rad(bearing);
  const lat1 = rad(lat);
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(b));
  const lon2 =
    rad(lon) + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(lat1), Math.cos(d) - Math.sin(lat1) * Math.sin(lat2));
  return [((deg(lon2) + 540) % 360) - 180, deg(lat2)];
}

/** A GeoJSON polygon of ``steps`` points around ``centre`` ([lon, lat]) at ``metres``. */
export function circlePolygon(centre, metres, steps = 64) {
  const ring = [];
  for (let i = 0; i < steps; i++) ring.push(destination(centre, metres, (360 * i) / steps));
  ring.push(ring[0]);
  return { type: "Feature", properties: { metres }, geometry: { type: "Polygon", coordinates: [ring] } };
}

export const collection = (features = []) => ({ type: "FeatureCollection", features });

const wrap = (lon) => ((((lon + 180) % 360) + 360) % 360) - 180;

/** The viewport (``map.getBounds()``) as the API's box: longitudes wrapped into
 * [-180, 180] (west > east when it crosses the 180th meridian), the whole world when wider. */
export function viewportBox(bounds) {
  const south = Math.max(-90, bounds.getSouth());
  const north = Math.min(90, bounds.getNorth());
  let west = bounds.getWest();
  let east = bounds.getEast();
  if (east - west >= 360) {
    west = -180;
    east = 180;
  } else {
    west = wrap(west);
    east = wrap(east);
    if (east === -180) east = 180;
  }
  const round = (x) => Math.round(x * 1e6) / 1e6;
  return { south: round(south), west: round(west), north: round(north), east: round(east) };
}

/** Milliseconds of an ISO date-time; a time without zone is read as UTC (as it is shown). */
export function parseTs(ts) {
  if (!ts) return NaN;
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(ts);
  return Date.parse(zoned || ts.length <= 10 ? ts : `${ts}Z`);
}

/** The earliest and latest instants of the tracks' points, or null without points. */
export function timeSpan(tracks) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const track of tracks) {
    for (const p of track.points) {
      if (p.t < lo) lo = p.t;
      if (p.t > hi) hi = p.t;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** The tracks as GeoJSON within [lo, hi] (ms, inclusive): a line per track through its
 * points in time order, the dated points, the fixed points; and the datasets they show. */
export function trackFeatures(tracks, lo = -Infinity, hi = Infinity) {
  const lines = [];
  const points = [];
  const fixed = [];
  const datasets = new Set();
  for (const track of tracks) {
    const shown = track.points.filter((p) => p.t >= lo && p.t <= hi);
    const base = { entity_id: track.id, caption: track.caption || track.id, colour: track.colour };
    if (shown.length >= 2) {
      lines.push({
        type: "Feature",
        properties: base,
        geometry: { type: "LineString", coordinates: shown.map((p) => [p.lon, p.lat]) },
      });
    }
    shown.forEach((p, i) => {
      for (const name of p.datasets || []) datasets.add(name);
      points.push({
        type: "Feature",
        properties: {
          ...base,
          t: p.t,
          ts: p.ts,
          n: i + 1,
          place_id: p.place_id,
          place_caption: p.place_caption || p.place_id,
          event_id: p.event_id,
          event_schema: p.schema,
          role: p.role,
          subject: p.subject,
          subject_caption: p.subject_caption || p.subject,
        },
        geometry: { type: "Point", coordinates: [p.lon, p.lat] },
      });
    });
    for (const f of track.fixed) {
      for (const name of f.datasets || []) datasets.add(name);
      fixed.push({
        type: "Feature",
        properties: { ...base, place_id: f.place_id, place_caption: f.place_caption || f.place_id },
        geometry: { type: "Point", coordinates: [f.lon, f.lat] },
      });
    }
  }
  return { lines: collection(lines), points: collection(points), fixed: collection(fixed), datasets };
}

/** [[west, south], [east, north]] around every point and fixed point of ``tracks``. */
export function trackBounds(tracks) {
  const coords = tracks.flatMap((t) => [...t.points, ...t.fixed]).map((p) => [p.lon, p.lat]);
  if (!coords.length) return null;
  const lons = coords.map((c) => c[0]);
  const lats = coords.map((c) => c[1]);
  return [
    [Math.min(...lons), Math.min(...lats)],
    [Math.max(...lons), Math.max(...lats)],
  ];
}

/** ``fn`` called once ``ms`` after the last call; ``.cancel()`` drops a pending call. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** The radius answer's rows, one per entity (its nearest place), nearest first. */
export function distinctEntities(places) {
  const seen = new Map();
  for (const p of places) {
    const known = seen.get(p.entity_id);
    if (!known || (p.distance ?? Infinity) < (known.distance ?? Infinity)) seen.set(p.entity_id, p);
  }
  return [...seen.values()].sort((a, b) => (a.distance ?? 0) - (b.distance ?? 0));
}

/** "850 m", "1,2 km" in the analyst's language. */
export function formatDistance(metres, lang) {
  const locale = lang === "en" ? "en-GB" : "fr-FR";
  if (metres < 1000) return `${Math.round(metres)} m`;
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(metres / 1000)} km`;
}

/** Whether two sets of names hold the same names. */
export function sameSet(a, b) {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

// -- the basemap ------------------------------------------------------------------------
let countriesGeo = null;
function worldCountries() {
  if (!countriesGeo) countriesGeo = feature(countries, countries.objects.countries);
  return countriesGeo;
}

/** The map's style: sea, world countries, French outlines (set once fetched) and the
 * overlays' sources, empty; no glyphs, sprites or tiles: nothing to fetch. */
export function basemapStyle() {
  const empty = () => ({ type: "geojson", data: collection() });
  const byLevel = (level) => ["==", ["get", "level"], level];
  return {
    version: 8,
    sources: {
      countries: { type: "geojson", data: worldCountries(), attribution: "Natural Earth" },
      territories: { type: "geojson", data: collection(), attribution: "INSEE, IGN" },
      places: empty(),
      circle: empty(),
      found: empty(),
      lines: empty(),
      points: empty(),
      fixed: empty(),
    },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": SEA } },
      { id: "countries-fill", type: "fill", source: "countries", paint: { "fill-color": "#f2efe6" } },
      {
        id: "countries-line",
        type: "line",
        source: "countries",
        paint: { "line-color": "#9c9c9c", "line-width": 0.6 },
      },
      {
        // invisible: what the pointer is over, for the territory popups
        id: "territories-fill",
        type: "fill",
        source: "territories",
        paint: { "fill-color": "#000000", "fill-opacity": 0 },
      },
      {
        id: "territory-hover",
        type: "fill",
        source: "territories",
        filter: ["all", byLevel("departement"), ["==", ["get", "code"], ""]],
        paint: { "fill-color": "#1f5fa8", "fill-opacity": 0.08 },
      },
      {
        id: "departements-line",
        type: "line",
        source: "territories",
        filter: byLevel("departement"),
        paint: { "line-color": "#8a8a8a", "line-width": 0.5 },
      },
      {
        id: "regions-line",
        type: "line",
        source: "territories",
        filter: byLevel("region"),
        paint: { "line-color": "#555555", "line-width": 1.8 },
      },
      {
        id: "circle-fill",
        type: "fill",
        source: "circle",
        paint: { "fill-color": "#1f5fa8", "fill-opacity": 0.12 },
      },
      {
        id: "circle-line",
        type: "line",
        source: "circle",
        paint: { "line-color": "#1f5fa8", "line-width": 2, "line-dasharray": [2, 1] },
      },
      {
        id: "places-circles",
        type: "circle",
        source: "places",
        paint: {
          "circle-color": schemaColourExpression(),
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 3, 2.5, 10, 5, 15, 7],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 0.8,
          "circle-opacity": 0.85,
        },
      },
      {
        id: "found-ring",
        type: "circle",
        source: "found",
        paint: {
          "circle-radius": 9,
          "circle-color": "rgba(0,0,0,0)",
          "circle-stroke-color": "#1f5fa8",
          "circle-stroke-width": 2,
        },
      },
      {
        id: "track-lines",
        type: "line",
        source: "lines",
        layout: { "line-join": "round", "line-cap": "round" },
        paint: { "line-color": ["get", "colour"], "line-width": 2.5, "line-opacity": 0.8 },
      },
      {
        id: "track-fixed",
        type: "circle",
        source: "fixed",
        paint: {
          "circle-radius": 7,
          "circle-color": "#ffffff",
          "circle-stroke-color": ["get", "colour"],
          "circle-stroke-width": 3,
        },
      },
      {
        id: "track-points",
        type: "circle",
        source: "points",
        paint: {
          "circle-radius": 4.5,
          "circle-color": ["get", "colour"],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 1.2,
        },
      },
    ],
  };
}
