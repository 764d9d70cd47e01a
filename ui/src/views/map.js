// The map: an offline basemap (world countries, French régions and départements), the
// located entities in view, the tracks of the people and lines in the graph with a time
// window, and "who was there" by drawing a circle. Nothing is fetched but from this server:
// no tiles, glyphs or sprites; labels are HTML popups.

import { maplibregl, useBundledWorker } from "../maplibre.js";
import { ApiError, get } from "../api.js";
import { forget, showing } from "../banner.js";
import { clear, h } from "../dom.js";
import { language } from "../i18n.js";
import {
  MAX_RADIUS_M,
  SEA,
  basemapStyle,
  circlePolygon,
  collection,
  debounce,
  distinctEntities,
  formatDistance,
  haversine,
  parseTs,
  sameSet,
  timeSpan,
  trackBounds,
  trackFeatures,
  TRACK_COLOURS,
  viewportBox,
} from "../map-data.js";
import { emit, on, state } from "../state.js";

const TEXTS = {
  fr: {
    circle: "Qui était là : tracer un cercle",
    circleHelp: "Cliquez le centre du cercle (Échap pour annuler)",
    circleEdge: "Cliquez le bord du cercle",
    circleClear: "Effacer le cercle",
    circleCapped: "Rayon ramené à {max}",
    found: "{n} entités dans le cercle",
    foundShown: "(les {n} plus proches)",
    radius: "Rayon : {r}",
    period: "Période",
    from: "Début",
    to: "Fin",
    allTime: "Toute la période",
    noTime: "Aucune trace datée",
    tracks: "Traces",
    noTracks: "Ajoutez des personnes ou des téléphones au graphe pour voir leurs traces.",
    tracksCapped: "Les {n} premières seulement.",
    points: "{shown} / {n} points",
    fixedOnly: "lieu fixe seulement",
    unknown: "introuvable ou non visible",
    places: "{n} lieux affichés",
    placesCapped: "{n} lieux affichés sur {total} : zoomez pour tout voir",
    loading: "Chargement…",
    open: "Ouvrir la fiche",
    departement: "Département",
    region: "Région",
    line: "Ligne",
    place: "Lieu",
    event: "Événement",
    fixed: "Lieu fixe",
    noPlace: "Aucun lieu connu pour cette entité",
    error: "Erreur",
    outlines: "Contours de la France indisponibles",
    stale: "Lieux à reconstruire : des imports ont suivi le dernier calcul",
  },
  en: {
    circle: "Who was there: draw a circle",
    circleHelp: "Click the centre of the circle (Esc to cancel)",
    circleEdge: "Click the edge of the circle",
    circleClear: "Clear the circle",
    circleCapped: "Radius brought down to {max}",
    found: "{n} entities in the circle",
    foundShown: "(the {n} nearest)",
    radius: "Radius: {r}",
    period: "Period",
    from: "From",
    to: "To",
    allTime: "Whole period",
    noTime: "No dated track",
    tracks: "Tracks",
    noTracks: "Add people or phones to the graph to see their tracks.",
    tracksCapped: "The first {n} only.",
    points: "{shown} / {n} points",
    fixedOnly: "fixed place only",
    unknown: "not found or not visible",
    places: "{n} places shown",
    placesCapped: "{n} places shown of {total}: zoom in to see them all",
    loading: "Loading…",
    open: "Open the record",
    departement: "Département",
    region: "Région",
    line: "Line",
    place: "Place",
    event: "Event",
    fixed: "Fixed place",
    noPlace: "No known place for this entity",
    error: "Error",
    outlines: "Outlines of France unavailable",
    stale: "Places need a rebuild: imports came after the last one",
  },
};

function tr(key, vars = {}) {
  const text = TEXTS[language()][key] ?? TEXTS.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

const MAX_TRACKS = 20;
const TRACK_LIMIT = 5000;
const PLACES_LIMIT = 2000;
const FOUND_LIMIT = 500;
const SLIDER_STEPS = 1000;
const TRACKED = new Set(["Person", "Phone"]);

// the map and the side panel: the rest of the window under the header and the toolbar
const PANE =
  "height: calc(100vh - 160px); min-height: 360px; box-sizing: border-box; " +
  "border: 1px solid var(--line, #ccc); border-radius: 4px";
const SWATCH = "display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px";
const hoverFilter = (code) => ["all", ["==", ["get", "level"], "departement"], ["==", ["get", "code"], code]];
const CLICKABLE = ["track-points", "track-fixed", "places-circles"];

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
  let span = null;
  let period = [-Infinity, Infinity];
  let foundShown = [];
  let sentRange; // the range this view broadcast last: not followed back
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
    span = timeSpan(tracks);
    setupSlider();
    drawTracks();
    listTracks(capped);
    main.dataset.tracks = String(tracks.filter((t) => t.points.length || t.fixed.length).length);
    return tracks;
  }
  const tracksLater = debounce(loadTracks, 150);

  function drawTracks() {
    const [lo, hi] = period;
    const drawn = trackFeatures(tracks, lo, hi);
    setData("lines", drawn.lines);
    setData("points", drawn.points);
    setData("fixed", drawn.fixed);
    trackDatasets = drawn.datasets;
    main.dataset.trackPoints = String(drawn.points.features.length);
    for (const item of tracksBox.querySelectorAll("[data-track]")) {
      const track = tracks.find((t) => t.id === item.dataset.track);
      if (track) item.querySelector(".track-count").textContent = countText(track);
    }
    report();
  }

  function countText(track) {
    if (track.error) return tr("unknown");
    if (!track.points.length) return track.fixed.length ? tr("fixedOnly") : tr("noPlace");
    const [lo, hi] = period;
    const shown = track.points.filter((p) => p.t >= lo && p.t <= hi).length;
    return tr("points", { shown, n: track.total });
  }

  function listTracks(capped) {
    const items = tracks.map((track) =>
      h(
        "li",
        { class: "track-item", dataset: { track: track.id }, style: "margin-bottom: 4px" },
        h("span", { style: `${SWATCH}; background: ${track.colour}` }),
        h("a", { href: `#/entity/${encodeURIComponent(track.id)}` }, track.caption),
        " ",
        track.schema ? h("span", { class: `schema schema-${track.schema}` }, track.schema) : null,
        h("div", { class: "track-count muted", style: "font-size: 12px" }, countText(track)),
      ),
    );
    clear(
      tracksBox,
      h("h3", { style: "margin: 0 0 6px; font-size: 15px" }, tr("tracks")),
      items.length
        ? h("ul", { style: "padding-left: 0; list-style: none; margin: 0 0 12px" }, items)
        : h("p", { class: "muted" }, tr("noTracks")),
      capped ? h("p", { class: "muted" }, tr("tracksCapped", { n: MAX_TRACKS })) : null,
    );
  }

  // -- the time window ---------------------------------------------------------------
  const toStep = (ms) => Math.round(((ms - span[0]) / (span[1] - span[0])) * SLIDER_STEPS);
  const toMs = (step) => span[0] + (Math.max(0, Math.min(SLIDER_STEPS, step)) / SLIDER_STEPS) * (span[1] - span[0]);

  function setupSlider() {
    const usable = span !== null;
    for (const el of [fromInput, toInput, allTime]) el.disabled = !usable;
    if (usable && span[0] === span[1]) span = [span[0] - 3_600_000, span[1] + 3_600_000];
    followRange(state.range, false);
  }

  function showPeriod() {
    if (!span) {
      periodText.textContent = tr("noTime");
      return;
    }
    const lo = Math.max(period[0], span[0]);
    const hi = Math.min(period[1], span[1]);
    periodText.textContent = `${when.format(lo)} – ${when.format(hi)}`;
  }

  /** Put the window on ``range`` ([startISO, endISO] or null) and redraw. */
  function followRange(range, redraw = true) {
    if (span && range) {
      const lo = parseTs(range[0]);
      const hi = parseTs(range[1]);
      period = [lo, hi];
      fromInput.value = String(Math.max(0, Math.min(SLIDER_STEPS, toStep(lo))));
      toInput.value = String(Math.max(0, Math.min(SLIDER_STEPS, toStep(hi))));
    } else {
      period = [-Infinity, Infinity];
      fromInput.value = "0";
      toInput.value = String(SLIDER_STEPS);
    }
    showPeriod();
    if (redraw) drawTracks();
  }

  function fromSlider(event) {
    if (!span) return;
    let a = Number(fromInput.value);
    let b = Number(toInput.value);
    if (a > b) {
      if (event.target === fromInput) b = a;
      else a = b;
      fromInput.value = String(a);
      toInput.value = String(b);
    }
    period = [a <= 0 ? -Infinity : toMs(a), b >= SLIDER_STEPS ? Infinity : toMs(b)];
    showPeriod();
    drawTracks();
  }

  function broadcast() {
    if (!span) return;
    const full = period[0] === -Infinity && period[1] === Infinity;
    const iso = (ms) => new Date(ms).toISOString();
    state.range = full ? null : [iso(Math.max(period[0], span[0])), iso(Math.min(period[1], span[1]))];
    sentRange = state.range;
    emit("range", state.range);
  }
  fromInput.addEventListener("input", fromSlider);
  toInput.addEventListener("input", fromSlider);
  fromInput.addEventListener("change", broadcast);
  toInput.addEventListener("change", broadcast);
  allTime.addEventListener("click", () => {
    followRange(null);
    broadcast();
  });

  // -- drawing a circle --------------------------------------------------------------
  let circleMode = false;
  let centre = null;
  let preview = 0;

  function setCircleMode(onOff) {
    circleMode = onOff;
    centre = null;
    circleButton.setAttribute("aria-pressed", String(onOff));
    circleButton.classList.toggle("active", onOff);
    map.getCanvas().style.cursor = onOff ? "crosshair" : "";
    if (onOff) map.doubleClickZoom.disable();
    else setTimeout(() => alive && map.doubleClickZoom.enable(), 300);
    say("circle", onOff ? tr("circleHelp") : "");
    main.dataset.circle = onOff ? "centre" : "";
  }

  circleButton.addEventListener("click", () => {
    setCircleMode(!circleMode);
    if (circleMode) popups.closeAll();
  });
  clearButton.addEventListener("click", () => {
    setData("circle", collection());
    setData("found", collection());
    foundShown = [];
    clear(foundBox);
    clearButton.disabled = true;
    say("circle", "");
    report();
  });
  const onKey = (event) => {
    if (event.key === "Escape" && circleMode) {
      setCircleMode(false);
      setData("circle", collection());
    }
  };
  document.addEventListener("keydown", onKey);

  map.on("mousemove", (event) => {
    if (!circleMode || !centre) return;
    cancelAnimationFrame(preview);
    const edge = [event.lngLat.lng, event.lngLat.lat];
    preview = requestAnimationFrame(() => {
      const metres = Math.min(MAX_RADIUS_M, haversine(centre, edge));
      if (metres > 0) setData("circle", circlePolygon(centre, metres));
      say("circle", `${tr("circleEdge")} · ${tr("radius", { r: formatDistance(metres, lang) })}`);
    });
  });

  async function circleClick(lngLat) {
    const point = [lngLat.lng, lngLat.lat];
    if (!centre) {
      centre = point;
      setData("circle", collection());
      say("circle", tr("circleEdge"));
      main.dataset.circle = "edge";
      return;
    }
    cancelAnimationFrame(preview);
    const at = centre;
    let metres = haversine(at, point);
    setCircleMode(false);
    if (metres < 1) {
      setData("circle", collection());
      return;
    }
    const capped = metres > MAX_RADIUS_M;
    metres = Math.min(MAX_RADIUS_M, metres);
    setData("circle", circlePolygon(at, metres));
    clearButton.disabled = false;
    const radiusText = tr("radius", { r: formatDistance(metres, lang) });
    const cappedText = tr("circleCapped", { max: formatDistance(MAX_RADIUS_M, lang) });
    say("circle", capped ? `${radiusText} · ${cappedText}` : radiusText);
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
    clear(
      foundBox,
      h("h3", { id: "map-found-count", style: "margin: 0 0 6px; font-size: 15px" }, tr("found", { n })),
      complete ? null : h("p", { class: "muted" }, tr("foundShown", { n: entities.length })),
      h(
        "ul",
        { style: "padding-left: 0; list-style: none; margin: 0" },
        entities.map((p) =>
          h(
            "li",
            { class: "found-item", dataset: { entity: p.entity_id }, style: "margin-bottom: 4px" },
            h("a", { href: `#/entity/${encodeURIComponent(p.entity_id)}` }, p.caption || p.entity_id),
            " ",
            h("span", { class: `schema schema-${p.schema}` }, p.schema),
            " ",
            h("span", { class: "muted", style: "font-size: 12px" }, formatDistance(p.distance ?? 0, lang)),
          ),
        ),
      ),
    );
    main.dataset.found = String(n);
    report();
  }

  // -- popups ------------------------------------------------------------------------
  const popups = {
    open: null,
    hover: new maplibregl.Popup({ closeButton: false, closeOnClick: false, className: "map-hover", offset: 8 }),
    show(lngLat, node) {
      this.open?.remove();
      this.open = new maplibregl.Popup({ maxWidth: "320px" }).setLngLat(lngLat).setDOMContent(node).addTo(map);
    },
    closeAll() {
      this.open?.remove();
      this.open = null;
      this.hover.remove();
    },
  };

  const entityLink = (id, caption) => h("a", { href: `#/entity/${encodeURIComponent(id)}` }, caption || id);

  function territoryText(features) {
    const dep = features.find((f) => f.properties.level === "departement");
    const reg = features.find((f) => f.properties.level === "region");
    return [dep, reg]
      .filter(Boolean)
      .map((f) => `${tr(f.properties.level)} ${f.properties.name} (${f.properties.code})`)
      .join(" · ");
  }

  function placesPopup(features) {
    const seen = new Set();
    const rows = [];
    for (const f of features) {
      const p = f.properties;
      if (seen.has(p.entity_id)) continue;
      seen.add(p.entity_id);
      rows.push(
        h(
          "li",
          { class: "map-popup-item" },
          entityLink(p.entity_id, p.caption),
          " ",
          h("span", { class: `schema schema-${p.schema}` }, p.schema),
        ),
      );
    }
    const list = h("ul", { style: "padding-left: 1em; margin: 0; max-height: 220px; overflow: auto" }, rows.slice(0, 30));
    return h("div", { class: "map-popup" }, list);
  }

  function pointPopup(p) {
    return h(
      "div",
      { class: "map-popup" },
      h("strong", {}, when.format(p.t)),
      h("div", {}, entityLink(p.entity_id, p.caption)),
      p.subject !== p.entity_id ? h("div", {}, `${tr("line")} : `, entityLink(p.subject, p.subject_caption)) : null,
      h("div", {}, `${tr("place")} : `, entityLink(p.place_id, p.place_caption)),
      h(
        "div",
        {},
        `${tr("event")} : `,
        entityLink(p.event_id, p.event_schema),
        h("span", { class: "muted" }, ` (${p.role})`),
      ),
    );
  }

  map.on("click", (event) => {
    if (circleMode) {
      circleClick(event.lngLat);
      return;
    }
    const layers = CLICKABLE.filter((id) => map.getLayer(id));
    const hits = map.queryRenderedFeatures(event.point, { layers });
    const first = hits[0];
    if (first && first.layer.id === "track-points") {
      popups.show(first.geometry.coordinates, pointPopup(first.properties));
    } else if (first && first.layer.id === "track-fixed") {
      const p = first.properties;
      popups.show(
        first.geometry.coordinates,
        h(
          "div",
          { class: "map-popup" },
          h("strong", {}, tr("fixed")),
          h("div", {}, entityLink(p.entity_id, p.caption)),
          h("div", {}, entityLink(p.place_id, p.place_caption)),
        ),
      );
    } else if (first) {
      popups.show(first.geometry.coordinates, placesPopup(hits.filter((f) => f.layer.id === "places-circles")));
    } else {
      popups.hover.remove();
      const text = territoryText(map.queryRenderedFeatures(event.point, { layers: ["territories-fill"] }));
      if (text) popups.show(event.lngLat, h("div", { class: "map-popup territory-popup" }, text));
    }
  });

  let hovered = "";
  map.on("mousemove", (event) => {
    if (circleMode) return;
    const over = map.queryRenderedFeatures(event.point, { layers: CLICKABLE.filter((id) => map.getLayer(id)) });
    map.getCanvas().style.cursor = over.length ? "pointer" : "";
    const under = over.length ? [] : map.queryRenderedFeatures(event.point, { layers: ["territories-fill"] });
    const dep = under.find((f) => f.properties.level === "departement");
    const code = dep ? dep.properties.code : "";
    if (code !== hovered) {
      hovered = code;
      map.setFilter("territory-hover", hoverFilter(code));
    }
    if (!under.length) {
      popups.hover.remove();
      return;
    }
    popups.hover.setLngLat(event.lngLat).setText(territoryText(under));
    if (!popups.hover.isOpen()) popups.hover.addTo(map);
  });
  container.addEventListener("mouseleave", () => {
    popups.hover.remove();
    hovered = "";
    if (map.getLayer("territory-hover")) map.setFilter("territory-hover", hoverFilter(""));
  });

  // -- following the rest of the workspace -----------------------------------------
  const offGraph = on("graph", () => alive && tracksLater());
  const offRange = on("range", (range) => {
    if (!alive || range === sentRange) return;
    followRange(range);
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
    cancelAnimationFrame(preview);
    document.removeEventListener("keydown", onKey);
    popups.closeAll();
    map.remove();
    forget("map");
  };
}
