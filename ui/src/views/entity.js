// An entity: its properties with their sources, dates and markings; what it is linked
// to; its timeline; its places; and what to do next with it.

import { get } from "../api.js";
import { showing } from "../banner.js";
import { clear, h } from "../dom.js";
import { formatNumber, language, linkLabel, propLabel, schemaLabel, t } from "../i18n.js";
import { addToGraph, snapshot } from "../state.js";

let markings = null;

async function datasetMarkings() {
  if (!markings) {
    const datasets = await get("/api/datasets");
    markings = new Map(datasets.map((d) => [d.name, d.marking || "NP"]));
  }
  return markings;
}

function when(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleDateString(language() === "fr" ? "fr-FR" : "en-GB");
}

function propertyRows(entity, marks, captions) {
  const rows = [];
  const hidden = new Set(["id"]);
  const statements = entity.statements.filter((s) => !hidden.has(s.prop));
  const label = (prop) => propLabel(entity.schema, prop);
  statements.sort((a, b) => label(a.prop).localeCompare(label(b.prop)) || a.value.localeCompare(b.value));
  for (const s of statements) {
    const linked = captions.get(s.value);
    rows.push(
      h(
        "tr",
        {},
        h("th", { scope: "row", title: s.prop }, label(s.prop)),
        h(
          "td",
          {},
          linked ? h("a", { href: `#/entity/${encodeURIComponent(s.value)}` }, linked) : s.value,
          s.original_value && s.original_value !== s.value ? h("div", { class: "muted" }, s.original_value) : null,
        ),
        h(
          "td",
          { class: "source" },
          h("span", { class: "tag" }, s.dataset),
          s.source_file ? h("div", { class: "muted" }, `${s.source_file.split("/").pop()}${s.source_row ? ` : ${s.source_row}` : ""}`) : null,
        ),
        h("td", {}, when(s.first_seen)),
        h("td", { class: "marking" }, marks.get(s.dataset) || ""),
      ),
    );
  }
  return rows;
}

export async function render(main, { args, go }) {
  const id = args[0];
  const [entity, marks] = await Promise.all([get(`/api/entities/${encodeURIComponent(id)}`), datasetMarkings()]);
  const caption = (entity.properties.name || entity.properties.caption || [id])[0];
  // The banner covers every dataset the page shows: the entity's, its links', its places'.
  const shown = new Set(entity.datasets);
  const report = (names) => {
    for (const name of names) if (name) shown.add(name);
    showing("entity", [...shown]);
  };
  report([]);

  const related = h("section", { id: "entity-related" }, h("h2", {}, t("entity.related")), h("p", { class: "muted" }, t("loading")));
  const timeline = h("section", { id: "entity-timeline" }, h("h2", {}, t("entity.timeline")), h("p", { class: "muted" }, t("loading")));
  const places = h("section", { id: "entity-places" }, h("h2", {}, t("entity.places")), h("p", { class: "muted" }, t("loading")));
  const properties = h("tbody");
  const expand = async () => {
    const around = await get("/api/graph/expand", { id, depth: 1 });
    snapshot();
    addToGraph(around);
    go(`graph?focus=${encodeURIComponent(id)}`);
  };
  clear(
    main,
    h(
      "div",
      { class: "entity-head" },
      h("h1", { id: "entity-caption" }, h("span", { class: `schema schema-${entity.schema}`, title: entity.schema }, schemaLabel(entity.schema)), " ", caption),
      h("div", { class: "marking-line" }, `${t("entity.marking")} : `, h("strong", {}, entity.banner)),
      h(
        "div",
        { class: "actions" },
        h("button", { id: "entity-expand", onclick: expand }, t("entity.expand")),
        h("a", { class: "button", id: "entity-map", href: `#/map?entity=${encodeURIComponent(id)}` }, t("entity.places")),
        h(
          "button",
          {
            id: "entity-add",
            onclick: (event) => {
              snapshot();
              addToGraph({ nodes: [{ id, schema: entity.schema, caption }] });
              event.target.textContent = `✓ ${t("entity.add")}`;
            },
          },
          t("entity.add"),
        ),
      ),
    ),
    h(
      "section",
      { id: "entity-properties" },
      h("h2", {}, t("entity.properties")),
      h(
        "table",
        { class: "props" },
        h(
          "thead",
          {},
          h("tr", {}, h("th", {}, ""), h("th", {}, t("entity.value")), h("th", {}, t("entity.source")), h("th", {}, t("entity.date")), h("th", {}, t("entity.marking"))),
        ),
        properties,
      ),
    ),
    h("div", { class: "columns" }, related, timeline),
    places,
  );
  clear(properties, propertyRows(entity, marks, new Map()));

  get("/api/graph/expand", { id, depth: 1 })
    .then((around) => {
      const captions = new Map(around.nodes.map((n) => [n.id, n.caption]));
      clear(properties, propertyRows(entity, marks, captions));
      const others = around.nodes.filter((n) => n.id !== id);
      report(around.edges.map((edge) => edge.dataset));
      const via = new Map();
      const schemaOf = new Map(around.nodes.map((n) => [n.id, n.schema]));
      for (const edge of around.edges) {
        const other = edge.source === id ? edge.target : edge.source;
        via.set(other, linkLabel(edge.kind, edge.kind === "edge" ? edge.schema : schemaOf.get(edge.source), edge.prop));
      }
      clear(
        related,
        h("h2", {}, t("entity.related"), ` (${formatNumber(others.length)})`),
        h(
          "ul",
          { class: "related" },
          others.map((n) =>
            h(
              "li",
              {},
              h("span", { class: `schema schema-${n.schema}`, title: n.schema }, schemaLabel(n.schema)),
              " ",
              h("a", { href: `#/entity/${encodeURIComponent(n.id)}` }, n.caption || n.id),
              via.get(n.id) ? h("span", { class: "muted" }, ` — ${via.get(n.id)}`) : null,
            ),
          ),
        ),
        around.capped ? h("p", { class: "muted" }, `+ ${formatNumber(around.omitted)}`) : null,
      );
    })
    .catch((exc) => clear(related, h("h2", {}, t("entity.related")), h("p", { class: "error" }, exc.message)));

  get(`/api/entities/${encodeURIComponent(id)}/timeline`, { limit: 200 })
    .then((page) => {
      clear(
        timeline,
        h("h2", {}, t("entity.timeline"), ` (${formatNumber(page.total)})`),
        page.items.length === 0
          ? h("p", { class: "muted" }, t("timeline.empty"))
          : h(
              "ol",
              { class: "events" },
              page.items.map((item) =>
                h(
                  "li",
                  {},
                  h("time", { datetime: item.date }, when(item.date)),
                  " ",
                  h("span", { class: `schema schema-${item.schema}`, title: item.schema }, schemaLabel(item.schema)),
                  " ",
                  item.prop ? propLabel(item.schema, item.prop) : "",
                  item.other
                    ? h("span", {}, item.direction === "out" ? " → " : " ← ", h("a", { href: `#/entity/${encodeURIComponent(item.other)}` }, item.other_caption || item.other))
                    : null,
                  " ",
                  h("span", { class: "tag" }, item.dataset),
                ),
              ),
            ),
      );
    })
    .catch((exc) => clear(timeline, h("h2", {}, t("entity.timeline")), h("p", { class: "error" }, exc.message)));

  let removeMap = null;
  let alive = true;
  get(`/api/entities/${encodeURIComponent(id)}/track`, { limit: 500 })
    .then(async (track) => {
      const count = (track.points || []).length + (track.fixed || []).length;
      if (!count) {
        clear(places, h("h2", {}, t("entity.places")), h("p", { class: "muted", id: "entity-noplace" }, t("entity.noplace")));
        return;
      }
      report([...(track.points || []), ...(track.fixed || [])].flatMap((p) => p.datasets || []));
      const { drawEntityMap } = await import("./entity-map.js");
      if (!alive) return;
      const dated = (track.points || []).length;
      const note = track.total > dated ? t("entity.places.some", { n: formatNumber(dated), total: formatNumber(track.total) }) : t("entity.places.count", { n: formatNumber(count) });
      removeMap = drawEntityMap(places, track, { title: t("entity.places"), note });
    })
    .catch((exc) => clear(places, h("h2", {}, t("entity.places")), h("p", { class: "error" }, exc.message)));
  return () => {
    alive = false;
    if (removeMap) removeMap();
  };
}