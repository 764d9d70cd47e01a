// What the pointer shows on the map: the popups of the places, track points and fixed
// places clicked, and the name of the département or région under the pointer.

import { maplibregl } from "../../maplibre.js";
import { h } from "../../dom.js";
import { tr } from "./texts.js";

const hoverFilter = (code) => ["all", ["==", ["get", "level"], "departement"], ["==", ["get", "code"], code]];
const CLICKABLE = ["track-points", "track-fixed", "places-circles"];

/** The map's popups: one opened by a click, one following the pointer. */
export function popupHolder(map) {
  return {
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
}

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

function pointPopup(p, when) {
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

/** Open the popups on click and on hover over ``map`` (in ``container``); while ``circle``
 * is active, clicks go to it and nothing is hovered. Times are told by ``when``. */
export function followPointer(map, container, popups, { circle, when }) {
  map.on("click", (event) => {
    if (circle.active()) {
      circle.click(event.lngLat);
      return;
    }
    const layers = CLICKABLE.filter((id) => map.getLayer(id));
    const hits = map.queryRenderedFeatures(event.point, { layers });
    const first = hits[0];
    if (first && first.layer.id === "track-points") {
      popups.show(first.geometry.coordinates, pointPopup(first.properties, when));
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
    if (circle.active()) return;
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
}
