// The graph explorer: what the analyst has gathered, drawn with sigma (WebGL, fluid with
// tens of thousands of nodes). Expand, filter by schema, dataset and time, find paths,
// colour by community, size by centrality, several layouts, undo, PNG and GEXF export.

import Graph from "graphology";
import louvain from "graphology-communities-louvain";
import { write as writeGexf } from "graphology-gexf/browser";
import { circular, random } from "graphology-layout";
import forceAtlas2 from "graphology-layout-forceatlas2";
import pagerank from "graphology-metrics/centrality/pagerank";
import Sigma from "sigma";
import { get } from "../api.js";
import { forget, showing } from "../banner.js";
import { clear, download, h } from "../dom.js";
import { formatNumber, linkLabel, schemaLabel, t } from "../i18n.js";
import { addToGraph, datasetsInGraph, on, snapshot, state, undo } from "../state.js";
import { previewWhileMoving } from "./graph-motion.js";
import { drawTimeline, inRange } from "./timeline.js";

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
const SCHEMA_COLOURS = {
  Person: "#1f5fa8",
  Company: "#b23b3b",
  Organization: "#b23b3b",
  Phone: "#2a8a4a",
  BankAccount: "#8a5a00",
  Address: "#6b6b6b",
  Email: "#7a3fa0",
  Passport: "#0f7f86",
  Hospital: "#c2185b",
  Case: "#e65100",
  FrenchTerritory: "#455a64",
};

function colourOf(key) {
  let hash = 0;
  for (const c of String(key)) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

const view = { colourBy: "schema", sizeBy: "degree", layout: "force", hiddenSchemata: new Set(), hiddenDatasets: new Set() };

export async function render(main, { params, go }) {
  const selected = [];
  // The canvas takes the keyboard (arrows pan, + and - zoom, 0 resets, Escape unselects,
  // Enter opens the selected entity); the node list beside the toolbar selects without a
  // pointer, and the selection is announced from the side panel.
  const canvas = h("div", { id: "graph", class: "graph-canvas", tabindex: "0", role: "application", "aria-label": t("graph.keys") });
  const info = h("aside", { id: "graph-info", class: "graph-info", "aria-live": "polite" });
  const counts = h("span", { id: "graph-counts", class: "muted" });
  const status = h("span", { id: "graph-status", role: "status" });
  const filters = h("div", { id: "graph-filters", class: "graph-filters" });
  const timelineBox = h("section", { id: "timeline", class: "timeline" });
  const nodePicker = h("select", { id: "graph-pick", "aria-label": t("graph.selected", { n: "" }) });

  const button = (id, label, onclick) => h("button", { id, onclick }, label);
  const layoutSelect = h(
    "select",
    { id: "graph-layout", onchange: (e) => ((view.layout = e.target.value), relayout(true)) },
    ["force", "circle", "random"].map((name) => h("option", { value: name, selected: view.layout === name }, t(`graph.layout.${name}`))),
  );
  const toolbar = h(
    "div",
    { class: "toolbar" },
    button("graph-expand", t("graph.expand"), () => expandSelected()),
    button("graph-path", t("graph.path"), () => findPath()),
    h("label", {}, h("input", { type: "checkbox", id: "graph-communities", checked: view.colourBy === "community", onchange: (e) => ((view.colourBy = e.target.checked ? "community" : "schema"), restyle()) }), ` ${t("graph.communities")}`),
    h("label", {}, h("input", { type: "checkbox", id: "graph-centrality", checked: view.sizeBy === "pagerank", onchange: (e) => ((view.sizeBy = e.target.checked ? "pagerank" : "degree"), restyle()) }), ` ${t("graph.centrality")}`),
    h("label", {}, `${t("graph.layout")} `, layoutSelect),
    button("graph-undo", t("graph.undo"), () => undo()),
    button("graph-save", state.investigation ? `${t("inv.save")} : ${state.investigation.title}` : t("inv.save"), () => go("investigations")),
    button("graph-png", t("graph.png"), () => exportPng()),
    button("graph-gexf", t("graph.gexf"), () => exportGexf()),
    button("graph-clear", t("graph.clear"), () => {
      snapshot();
      state.graph = { nodes: new Map(), edges: new Map() };
      selected.length = 0;
      rebuild();
    }),
    nodePicker,
    counts,
    status,
  );
  clear(main, toolbar, filters, h("div", { class: "graph-area" }, canvas, info), timelineBox);

  let graph = new Graph({ multi: true, type: "mixed" });
  const sigma = new Sigma(graph, canvas, {
    renderEdgeLabels: false,
    labelRenderedSizeThreshold: 8,
    hideEdgesOnMove: false,
    defaultEdgeType: "arrow",
    zIndex: true,
    nodeReducer: (node, data) => {
      const out = { ...data };
      if (view.hiddenSchemata.has(data.schema)) out.hidden = true;
      if (selected.includes(node)) {
        out.highlighted = true;
        out.zIndex = 2;
      }
      if (view.pathNodes && !view.pathNodes.has(node)) out.color = "#d0d0d0";
      return out;
    },
    edgeReducer: (edge, data) => {
      const out = { ...data };
      if (view.hiddenDatasets.has(data.dataset) || !inRange(data.start, data.end)) out.hidden = true;
      if (view.pathEdges && view.pathEdges.has(edge)) {
        out.color = "#d62728";
        out.size = 3;
      }
      return out;
    },
  });
  canvas._sigma = sigma;
  // Past a few thousand nodes and links, pan and zoom move the picture drawn last and the
  // graph is drawn again once the camera rests (see graph-motion.js).
  const stopPreview = previewWhileMoving(sigma, canvas, () => graph.order + graph.size > 3000);

  function select(node, add) {
    view.pathNodes = null;
    view.pathEdges = null;
    if (!add) selected.length = 0;
    if (node && !selected.includes(node)) selected.push(node);
    while (selected.length > 2) selected.shift();
    showInfo();
    sigma.scheduleRefresh();
  }
  sigma.on("clickNode", ({ node, event }) => select(node, event.original.shiftKey));
  sigma.on("clickStage", () => select(null, false));
  sigma.on("doubleClickNode", ({ node, event }) => {
    event.preventSigmaDefault();
    go(`entity/${encodeURIComponent(node)}`);
  });
  canvas.addEventListener("keydown", (event) => {
    const camera = sigma.getCamera();
    const step = 0.15 * camera.ratio;
    const pan = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[event.key];
    if (pan) camera.animate({ x: camera.x + pan[0], y: camera.y + pan[1] }, { duration: 150 });
    else if (event.key === "+" || event.key === "=") camera.animatedZoom({ duration: 200 });
    else if (event.key === "-") camera.animatedUnzoom({ duration: 200 });
    else if (event.key === "0") camera.animatedReset({ duration: 200 });
    else if (event.key === "Escape") select(null, false);
    else if (event.key === "Enter" && selected.length) go(`entity/${encodeURIComponent(selected[selected.length - 1])}`);
    else return;
    event.preventDefault();
  });
  nodePicker.addEventListener("change", () => {
    if (nodePicker.value) select(nodePicker.value, true); // the list adds, keeping the last two
  });

  function showInfo() {
    const items = selected.map((id) => state.graph.nodes.get(id)).filter(Boolean);
    clear(
      info,
      h("p", { class: "muted" }, t("graph.selected", { n: items.length })),
      items.map((n) =>
        h(
          "div",
          { class: "selected-node" },
          h("span", { class: `schema schema-${n.schema}`, title: n.schema }, schemaLabel(n.schema)),
          " ",
          h("a", { href: `#/entity/${encodeURIComponent(n.id)}` }, n.caption || n.id),
          graph.hasNode(n.id) ? h("div", { class: "muted" }, t("graph.links", { n: formatNumber(graph.degree(n.id)) })) : null,
        ),
      ),
    );
  }

  function rebuild() {
    const previous = graph;
    graph = new Graph({ multi: true, type: "mixed" });
    for (const node of state.graph.nodes.values()) {
      const known = previous.hasNode(node.id) ? previous.getNodeAttributes(node.id) : null;
      graph.addNode(node.id, {
        label: node.caption || node.id.slice(0, 8),
        schema: node.schema,
        x: known ? known.x : node.x ?? Math.random(),
        y: known ? known.y : node.y ?? Math.random(),
        size: 4,
        color: SCHEMA_COLOURS[node.schema] || colourOf(node.schema),
      });
    }
    for (const edge of state.graph.edges.values()) {
      if (!graph.hasNode(edge.source) || !graph.hasNode(edge.target) || graph.hasEdge(edge.id)) continue;
      graph.addEdgeWithKey(edge.id, edge.source, edge.target, {
        dataset: edge.dataset,
        start: edge.start,
        end: edge.end,
        label: linkLabel(edge.kind, edge.kind === "edge" ? edge.schema : state.graph.nodes.get(edge.source)?.schema, edge.prop),
        size: 1,
        color: "#9aa5b1",
        type: "arrow",
      });
    }
    // New nodes start beside a placed neighbour, so an expansion grows from where it was.
    graph.forEachNode((node) => {
      if (previous.hasNode(node)) return;
      const placed = graph.neighbors(node).find((n) => previous.hasNode(n));
      if (placed) {
        const p = previous.getNodeAttributes(placed);
        graph.mergeNodeAttributes(node, { x: p.x + (Math.random() - 0.5) * 0.1, y: p.y + (Math.random() - 0.5) * 0.1 });
      }
    });
    // Lay out and style before handing the graph to sigma: it is then drawn once, in place.
    relayout(false);
    restyle();
    sigma.setSetting("labelDensity", graph.order > 2000 ? 0.3 : 1);
    sigma.setGraph(graph);
    canvas._graph = graph;
    canvas.dataset.order = String(graph.order);
    canvas.dataset.size = String(graph.size);
    for (let i = selected.length - 1; i >= 0; i--) if (!graph.hasNode(selected[i])) selected.splice(i, 1);
    drawFilters();
    fillPicker();
    showInfo();
    counts.textContent = ` ${t("graph.nodes", { n: formatNumber(graph.order), e: formatNumber(graph.size) })}`;
    showing("graph", datasetsInGraph());
    const withheld = state.investigation ? state.investigation.withheld : 0;
    if (graph.order === 0) status.textContent = t("graph.empty");
    else status.textContent = withheld ? t("graph.withheld", { n: formatNumber(withheld) }) : "";
    drawTimeline(timelineBox, [...state.graph.nodes.keys()]).catch((exc) => clear(timelineBox, h("p", { class: "error" }, exc.message)));
  }

  function relayout(all) {
    if (graph.order === 0) return;
    if (view.layout === "circle") circular.assign(graph);
    else if (view.layout === "random") random.assign(graph);
    else {
      const big = graph.order > 2000;
      const settings = { ...forceAtlas2.inferSettings(graph), barnesHutOptimize: graph.order > 500 };
      forceAtlas2.assign(graph, { iterations: big ? 30 : all ? 200 : 100, settings });
    }
    sigma.scheduleRefresh();
  }

  function restyle() {
    let communities = null;
    if (view.colourBy === "community" && graph.size > 0) {
      const simple = new Graph({ type: "undirected" });
      graph.forEachNode((n) => simple.addNode(n));
      graph.forEachEdge((e, a, s, t2) => {
        if (s !== t2 && !simple.hasEdge(s, t2)) simple.addEdge(s, t2);
      });
      communities = louvain(simple, { rng: seeded(7) });
    }
    const scores = view.sizeBy === "pagerank" && graph.size > 0 ? pagerank(graph, { getEdgeWeight: null }) : null;
    const top = scores ? Math.max(...Object.values(scores)) : Math.max(1, ...graph.mapNodes((n) => graph.degree(n)));
    graph.forEachNode((node, attrs) => {
      const value = scores ? scores[node] : graph.degree(node);
      graph.mergeNodeAttributes(node, {
        size: 3 + 12 * Math.sqrt((value || 0) / top),
        color: communities ? PALETTE[communities[node] % PALETTE.length] : SCHEMA_COLOURS[attrs.schema] || colourOf(attrs.schema),
        community: communities ? communities[node] : undefined,
      });
    });
    canvas.dataset.colourBy = view.colourBy;
    canvas.dataset.sizeBy = view.sizeBy;
    sigma.scheduleRefresh();
  }

  function drawFilters() {
    const schemata = [...new Set(graph.mapNodes((n, a) => a.schema))].sort();
    const datasets = [...new Set(graph.mapEdges((e, a) => a.dataset).filter(Boolean))].sort();
    const box = (id, label, values, hidden, show = (value) => value) =>
      h(
        "fieldset",
        { id },
        h("legend", {}, label),
        values.map((value) =>
          h(
            "label",
            {},
            h("input", {
              type: "checkbox",
              value,
              checked: !hidden.has(value),
              onchange: (e) => {
                if (e.target.checked) hidden.delete(value);
                else hidden.add(value);
                sigma.scheduleRefresh();
              },
            }),
            ` ${show(value)}`,
          ),
        ),
      );
    clear(
      filters,
      box("filter-schema", t("graph.filter.schema"), schemata, view.hiddenSchemata, schemaLabel),
      box("filter-dataset", t("search.facets.dataset"), datasets, view.hiddenDatasets),
    );
  }

  function fillPicker() {
    const nodes = [...state.graph.nodes.values()].sort((a, b) => String(a.caption).localeCompare(String(b.caption)));
    clear(
      nodePicker,
      h("option", { value: "" }, "—"),
      nodes.slice(0, 5000).map((n) => h("option", { value: n.id }, `${n.caption || n.id} (${schemaLabel(n.schema)})`)),
    );
  }

  async function expandSelected() {
    const ids = selected.length ? selected : [];
    if (!ids.length) return;
    status.textContent = t("loading");
    const answers = await Promise.all(ids.map((id) => get("/api/graph/expand", { id, depth: 1 })));
    snapshot();
    for (const answer of answers) addToGraph(answer);
    status.textContent = "";
  }

  async function findPath() {
    if (selected.length !== 2) {
      status.textContent = t("graph.selected", { n: selected.length });
      return;
    }
    status.textContent = t("loading");
    const found = await get("/api/graph/paths", { source: selected[0], target: selected[1], k: 3 });
    if (!found.paths.length) {
      status.textContent = t("graph.nopath");
      return;
    }
    snapshot();
    const edges = found.paths.flatMap((p) => p.edges);
    addToGraph({ nodes: found.nodes, edges });
    view.pathNodes = new Set(found.paths.flatMap((p) => p.nodes));
    view.pathEdges = new Set(edges.map((e) => e.id || `${e.source}>${e.target}:${e.schema || e.prop || ""}`));
    canvas.dataset.path = found.paths[0].nodes.join(",");
    status.textContent = `${found.paths.length} chemin(s), longueur ${found.length}`;
    sigma.scheduleRefresh();
  }

  function exportPng() {
    sigma.refresh();
    const layers = sigma.getCanvases();
    const first = Object.values(layers)[0];
    const out = document.createElement("canvas");
    out.width = first.width;
    out.height = first.height;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    for (const layer of Object.values(layers)) ctx.drawImage(layer, 0, 0);
    out.toBlob((blob) => download("recoupe-graphe.png", blob), "image/png");
  }

  function exportGexf() {
    const text = writeGexf(graph, {
      formatNode: (key, attrs) => ({ label: attrs.label, attributes: { schema: attrs.schema }, viz: { x: attrs.x, y: attrs.y, size: attrs.size, color: attrs.color } }),
      formatEdge: (key, attrs) => ({ label: attrs.label, attributes: { dataset: attrs.dataset || "", start: attrs.start || "", end: attrs.end || "" } }),
    });
    download("recoupe-graphe.gexf", new Blob([text], { type: "application/xml" }));
  }

  const offGraph = on("graph", rebuild);
  const offRange = on("range", () => sigma.scheduleRefresh());
  rebuild();
  const focus = params.get("focus");
  if (focus && graph.hasNode(focus)) select(focus, false);
  main.dataset.ready = "1";
  return () => {
    offGraph();
    offRange();
    forget("graph");
    stopPreview();
    sigma.kill();
  };
}

function seeded(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
