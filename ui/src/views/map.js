// The map: an offline basemap (world countries, French régions and départements), the
// located entities in view, the tracks of the people and lines in the graph with a time
// window, and "who was there" by drawing a circle. Nothing is fetched but from this server:
// no tiles, glyphs or sprites; labels are HTML popups.
// The pieces live in map/: texts, the side panel's lists, the time window, the circle and
// the popups; the map's data and style helpers in map-data.js.

import { maplibregl, useBundledWorker } from "../maplibre.js";
import { ApiError, get } from "../api.js";
import { forget, showing } from "../banner.js";
import { clear, h } from "../dom.js";
import { language } from "../i18n.js";
import {
  SEA,
  basemapStyle,
  collection,
  debounce,
  distinctEntities,
  parseTs,
  sameSet,
  timeSpan,
  trackBounds,
  trackFeatures,
  TRACK_COLOURS,
  viewportBox,
} from "../map-data.js";
import { on, state } from "../state.js";
import { circleTool } from "./map/circle.js";
import { countText, listFound, listTracks } from "./map/panels.js";
import { followPointer, popupHolder } from "./map/popups.js";
import { tr } from "./map/texts.js";
import { SLIDER_STEPS, timeWindow } from "./map/time-window.js";

const MAX_TRACKS = 20;
const TRACK_LIMIT = 5000;
const PLACES_LIMIT = 2000;
const FOUND_LIMIT = 500;
const TRACKED = new Set(["Person", "Phone"]);

// the map and the side panel: the rest of the window under the header and the toolbar
const PANE =
  "height: calc(100vh - 160px); min-height: 360px; box-sizing: border-box; " +
  "border: 1px solid var(--line, #ccc); border-radius: 4px";

export async function render(main, { params }) {
  const lang = language();
  const locale = lang === "en" ? "en-GB" : "fr-FR";
  const when = new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "short", timeZone: "UTC" });
  const focusId = params.get("entity");

  // -- the page ----------------------------------------------------------------------
  const status = h("span", { id: "map-status", class: "muted", role: "status" });
  const circleButton = h("button", { id: "map-circle", type: "button", "aria-pressed": "false" }, tr("circle"));
  const clearButton = h("button", { id: "map-circle-clear", type: "button", disabled: true }, tr("circleClear"));
  const slider = (id, value, label) =>
    h("input", { id, type: "range", min: 0, max: SLIDER_STEPS, value, disabled: true, "aria-label": label });
  const fromInput = slider("map-from", 0, tr("from"));
  const toInput = slider("map-to", SLIDER_STEPS, tr("to"));
  const periodText = h("span", { id: "map-period", class: "muted" }, tr("noTime"));
  const allTime = h("button", { id: "map-all-time", type: "button", class: "link", disabled: true }, tr("allTime"));
  const toolbar = h(
    "div",
    { class: "toolbar", id: "map-toolbar" },
    circleButton,
    clearButton,
    h("span", { style: "margin-left: 12px" }, `${tr("period")} :`),
    fromInput,
    toInput,
    periodText,
    allTime,
    status,
  );
  const container = h("div", { id: "map", style: `flex: 1; min-width: 0; ${PANE}; background: ${SEA}` });
  const tracksBox = h("section", { id: "map-tracks" });
  const foundBox = h("section", { id: "map-found" });
  const side = h(
    "aside",
    { id: "map-side", style: `flex: 0 0 280px; ${PANE}; overflow: auto; background: var(--paper, #fff); padding: 8px` },
    tracksBox,
    foundBox,
  );
  clear(main, toolbar, h("div", { style: "display: flex; gap: 8px" }, container, side));

  // -- what is on screen -------------------------------------------------------------
  let alive = true;
  let placesShown = [];
  let tracks = [];
  let foundShown = [];
  let shownDatasets = null;
  let trackDatasets = new Set();
  const messages = { places: "", tracks: "", circle: "", error: "" };

  const say = (part, text) => {
    messages[part] = text;
    status.textContent = Object.values(messages).filter(Boolean).join(" · ");
  };
  const failed = (exc) =>
    exc instanceof ApiError ? `${tr("error")} ${exc.status} : ${exc.message}` : `${tr("error")} : ${exc.message}`;

  function report() {
    const names = new Set(trackDatasets);
    for (const p of [...placesShown, ...foundShown]) for (const name of p.datasets || []) names.add(name);
    if (shownDatasets && sameSet(names, shownDatasets)) return;
    shownDatasets = names;
    showing("map", [...names].sort());
  }
  showing("map", []);

  // -- the map -----------------------------------------------------------------------
  useBundledWorker();
  const map = new maplibregl.Map({
    container,
    style: basemapStyle(),
    center: [2.5, 46.6],
    zoom: 4.7,
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
    maxPitch: 0,
  });
  container._map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.touchZoomRotate.disableRotation();

  const loaded = new Promise((resolve) => map.once("load", resolve));
  const setData = (source, data) => {
    const found = map.getSource(source);
    if (found) found.setData(data);
  };

  // the French outlines: fetched with the map, drawn once both are there
  const outlines = get("/api/territories/outlines").catch((exc) => {
    say("error", `${tr("outlines")} (${failed(exc)})`);
    return null;
  });
  loaded.then(async () => {
    const geo = await outlines;
    if (!alive) return;
    if (geo) setData("territories", geo);
    main.dataset.ready = "1";
  });

  // -- entities in the viewport --------------------------------------------------------
  let placesTicket = 0;
  async function loadPlaces() {
    const ticket = ++placesTicket;
    const box = viewportBox(map.getBounds());
    try {
      const page = await get("/api/places/bbox", { ...box, limit: PLACES_LIMIT });
      if (!alive || ticket !== placesTicket) return;
      placesShown = page.places;
      setData(
        "places",
        collection(
          page.places.map((p) => ({
            type: "Feature",
            properties: {
              entity_id: p.entity_id,
              schema: p.schema,
              caption: p.caption || p.entity_id,
              place_id: p.place_id,
            },
            geometry: { type: "Point", coordinates: [p.lon, p.lat] },
          })),
        ),
      );
      const shown = page.places.length;
      let text = shown < page.total ? tr("placesCapped", { n: shown, total: page.total }) : tr("places", { n: shown });
      if (page.stale) text += ` · ${tr("stale")}`;
      say("places", text);
      main.dataset.places = String(shown);
      report();
    } catch (exc) {
      if (alive && ticket === placesTicket) say("places", failed(exc));
    }
  }
  const placesLater = debounce(loadPlaces, 250);
  map.on("moveend", placesLater);
  loaded.then(() => alive && loadPlaces());

  // -- tracks ------------------------------------------------------------------------
  function tracked() {
    const nodes = [...state.graph.nodes.values()].filter((n) => TRACKED.has(n.schema));
    const chosen = nodes.slice(0, MAX_TRACKS).map((n) => ({ id: n.id, caption: n.caption, schema: n.schema }));
    if (focusId && !chosen.some((n) => n.id === focusId)) {
      const node = state.graph.nodes.get(focusId);
      chosen.unshift({ id: focusId, caption: node?.caption, schema: node?.schema });
    }
    return { chosen, capped: nodes.length > MAX_TRACKS };
  }

  let tracksTicket = 0;
  async function loadTracks() {
    const ticket = ++tracksTicket;
    const { chosen, capped } = tracked();
    const answers = await Promise.all(
      chosen.map((n) =>
        get(`/api/entities/${encodeURIComponent(n.id)}/track`, { limit: TRACK_LIMIT }).then(
          (answer) => ({ node: n, answer }),
          (error) => ({ node: n, error }),
        ),
      ),
    );
    if (!alive || ticket !== tracksTicket) return null;
    tracks = answers.map(({ node, answer, error }, i) => ({
      id: node.id,
      caption: answer?.caption || node.caption || node.id,
      schema: answer?.schema || node.schema,
      colour: TRACK_COLOURS[i % TRACK_COLOURS.length],
      total: answer?.total ?? 0,
      points: (answer?.points || []).map((p) => ({ ...p, t: parseTs(p.ts) })).filter((p) => !Number.isNaN(p.t)),
      fixed: answer?.fixed || [],
      error: error || null,
    }));
    const errors = tracks.filter((t) => t.error && !(t.error instanceof ApiError && t.error.status === 404));
    say("tracks", errors.length ? failed(errors[0].error) : "");
    timeRange.setSpan(timeSpan(tracks));
    drawTracks();
    listTracks(tracksBox, { tracks, capped, max: MAX_TRACKS, period: timeRange.period() });
    main.dataset.tracks = String(tracks.filter((t) => t.points.length || t.fixed.length).length);
    return tracks;
  }
  const tracksLater = debounce(loadTracks, 150);

  function drawTracks() {
    const [lo, hi] = timeRange.period();
    const drawn = trackFeatures(tracks, lo, hi);
    setData("lines", drawn.lines);
    setData("points", drawn.points);
    setData("fixed", drawn.fixed);
    trackDatasets = drawn.datasets;
    main.dataset.trackPoints = String(drawn.points.features.length);
    for (const item of tracksBox.querySelectorAll("[data-track]")) {
      const track = tracks.find((t) => t.id === item.dataset.track);
      if (track) item.querySelector(".track-count").textContent = countText(track, timeRange.period());
    }
    report();
  }

  // -- the time window ---------------------------------------------------------------
  const timeRange = timeWindow({ fromInput, toInput, allTime, periodText, when, draw: drawTracks });

  // -- drawing a circle, and the popups ----------------------------------------------
  const popups = popupHolder(map);
  const circle = circleTool({
    map,
    main,
    circleButton,
    clearButton,
    popups,
    lang,
    alive: () => alive,
    say,
    setData,
    search: searchCircle,
    cleared: () => {
      foundShown = [];
      clear(foundBox);
      report();
    },
  });

  async function searchCircle(at, metres) {
    clear(foundBox, h("p", { class: "muted" }, tr("loading")));
    try {
      const page = await get("/api/places/radius", {
        lat: Math.round(at[1] * 1e6) / 1e6,
        lon: Math.round(at[0] * 1e6) / 1e6,
        metres: Math.round(metres),
        limit: FOUND_LIMIT,
      });
      if (!alive) return;
      showFound(page);
    } catch (exc) {
      if (alive) clear(foundBox, h("p", { class: "error", role: "alert" }, failed(exc)));
    }
  }

  function showFound(page) {
    const entities = distinctEntities(page.places);
    foundShown = page.places;
    const complete = page.places.length >= page.total;
    const n = complete ? entities.length : page.total;
    setData(
      "found",
      collection(
        entities.map((p) => ({
          type: "Feature",
          properties: { entity_id: p.entity_id },
          geometry: { type: "Point", coordinates: [p.lon, p.lat] },
        })),
      ),
    );
    listFound(foundBox, { entities, n, complete, lang });
    main.dataset.found = String(n);
    report();
  }

  followPointer(map, container, popups, { circle, when });

  // -- following the rest of the workspace -----------------------------------------
  const offGraph = on("graph", () => alive && tracksLater());
  const offRange = on("range", (range) => {
    if (!alive) return;
    timeRange.follow(range);
  });

  loaded.then(async () => {
    if (!alive) return;
    const found = await loadTracks();
    if (!found || !alive || !focusId) return;
    const focus = found.filter((t) => t.id === focusId);
    const bounds = trackBounds(focus);
    if (!bounds) {
      say("tracks", tr("noPlace"));
      return;
    }
    const [[w, s], [e, n]] = bounds;
    if (w === e && s === n) map.flyTo({ center: [w, s], zoom: 13 });
    else map.fitBounds(bounds, { padding: 60, maxZoom: 14, duration: 800 });
  });

  return () => {
    alive = false;
    offGraph();
    offRange();
    placesLater.cancel();
    tracksLater.cancel();
    circle.dispose();
    popups.closeAll();
    map.remove();
    forget("map");
  };
}
