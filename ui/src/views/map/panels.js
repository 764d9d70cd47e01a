// The side panel of the map: the list of the tracks drawn (with their point counts in the
// time window) and the list of the entities found in a circle.

import { clear, h } from "../../dom.js";
import { formatDistance } from "../../map-data.js";
import { tr } from "./texts.js";

const SWATCH = "display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px";

/** What a track shows in the ``period`` ([lo, hi] in ms): its points, or why it has none. */
export function countText(track, period) {
  if (track.error) return tr("unknown");
  if (!track.points.length) return track.fixed.length ? tr("fixedOnly") : tr("noPlace");
  const [lo, hi] = period;
  const shown = track.points.filter((p) => p.t >= lo && p.t <= hi).length;
  return tr("points", { shown, n: track.total });
}

/** Fill ``box`` with the ``tracks``; ``capped``: only the first ``max`` of the graph's. */
export function listTracks(box, { tracks, capped, max, period }) {
  const items = tracks.map((track) =>
    h(
      "li",
      { class: "track-item", dataset: { track: track.id }, style: "margin-bottom: 4px" },
      h("span", { style: `${SWATCH}; background: ${track.colour}` }),
      h("a", { href: `#/entity/${encodeURIComponent(track.id)}` }, track.caption),
      " ",
      track.schema ? h("span", { class: `schema schema-${track.schema}` }, track.schema) : null,
      h("div", { class: "track-count muted", style: "font-size: 12px" }, countText(track, period)),
    ),
  );
  clear(
    box,
    h("h3", { style: "margin: 0 0 6px; font-size: 15px" }, tr("tracks")),
    items.length
      ? h("ul", { style: "padding-left: 0; list-style: none; margin: 0 0 12px" }, items)
      : h("p", { class: "muted" }, tr("noTracks")),
    capped ? h("p", { class: "muted" }, tr("tracksCapped", { n: max })) : null,
  );
}

/** Fill ``box`` with the ``entities`` found in a circle: ``n`` in all, ``complete`` when
 * every one of them is listed. */
export function listFound(box, { entities, n, complete, lang }) {
  clear(
    box,
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
}
