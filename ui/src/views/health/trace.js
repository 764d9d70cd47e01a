// Section 6 of the health dashboards: the figures of contact tracing, the super-spreaders
// and the transmission trees (followed down the graph's Transmission links).

import { get } from "../../api.js";
import { chart, niceMax, tree } from "../../charts.js";
import { clear, h } from "../../dom.js";
import { COLOURS, colon, day, loadingText, num, table, td, tdNum, tr } from "./common.js";

const shortCase = (caption) => String(caption || "").replace(/^(cas|case)\s+/i, "");

/** Who infected whom among the cases under ``roots``: the Transmission links of the graph,
 * followed down (the graph goes 6 links deep at a time) until no new case turns up. */
async function transmissionLinks(roots, expected) {
  const parent = new Map();
  const captions = new Map();
  let frontier = roots;
  const seen = new Set(roots);
  for (let round = 0; round < 10 && frontier.length; round++) {
    const found = await get("/api/graph/expand", { id: frontier, depth: 6, schema: "Transmission", cap: 100000 });
    for (const n of found.nodes || []) captions.set(n.id, n.caption);
    const fresh = [];
    for (const e of found.edges || []) {
      if (e.schema !== "Transmission") continue;
      parent.set(e.target, e.source);
      for (const id of [e.source, e.target]) {
        if (!seen.has(id)) {
          seen.add(id);
          fresh.push(id);
        }
      }
    }
    if (seen.size >= expected) break;
    const parents = new Set(parent.values());
    frontier = fresh.filter((id) => !parents.has(id)); // the leaves found this round
  }
  return { parent, captions };
}

export async function traceSection(body, ctx) {
  const found = await get("/api/health/trace");
  if (!ctx.alive()) return;
  ctx.shows("sante_tracage");
  const spreaders = found.super_spreaders || [];
  const topInfected = spreaders.length ? Math.max(...spreaders.map((s) => s.infected)) : 0;
  const superIds = new Set(spreaders.filter((s) => s.infected === topInfected && topInfected > 1).map((s) => s.entity_id));
  const gens = found.cases_by_generation || [];
  const link = (c) => h("a", { href: `#/entity/${encodeURIComponent(c.entity_id)}` }, c.case || c.caption || c.entity_id);

  const figures = h(
    "div",
    { class: "trace-figures" },
    h("p", {}, tr("trace.summary", { cases: num(found.cases), links: num(found.links), trees: num(found.trees), treeWord: tr(found.trees === 1 ? "trace.tree.one" : "trace.tree.many"), deep: num(found.deepest_generation) })),
    h("p", {}, tr("trace.offspring", { mean: num(found.offspring_mean, 2), variance: num(found.offspring_variance, 2), nobody: num(found.infected_nobody) })),
    h(
      "p",
      { class: "serial-interval" },
      found.serial_interval_mean === null || found.serial_interval_mean === undefined
        ? tr("trace.si_none")
        : tr("trace.si", { mean: num(found.serial_interval_mean, 1), sd: num(found.serial_interval_sd, 1) }),
    ),
    found.longest_chain?.length ? h("p", {}, tr("trace.chain", { chain: found.longest_chain.join(" → ") })) : null,
  );
  const genChart = gens.length
    ? chart({
        label: tr("trace.generations"),
        className: "chart generations-chart",
        width: 360,
        height: 180,
        x: { min: -0.6, max: gens.length - 0.4, ticks: gens.map((_, i) => i), format: (v) => num(v), title: tr("trace.generation") },
        y: { min: 0, max: niceMax(Math.max(...gens)), format: (v) => num(v), title: tr("trace.cases") },
        layers: [{ type: "bars", class: "generation-bars", points: gens.map((n, i) => ({ x: i, y: n, title: `${tr("trace.generation")} ${i}${colon()}${num(n)}` })), color: COLOURS.accent }],
        legend: [{ label: tr("trace.cases"), color: COLOURS.accent, shape: "bar" }],
      })
    : null;
  const spreadersTable = spreaders.length
    ? h(
        "div",
        {},
        h("h3", {}, tr("trace.spreaders")),
        table(
          "spreaders-table",
          [[tr("trace.case")], [tr("trace.onset")], [tr("trace.infected"), true]],
          spreaders.map((s) => h("tr", { class: superIds.has(s.entity_id) ? "super-spreader" : null, dataset: { entity: s.entity_id } }, td(link(s)), td(day(s.onset)), tdNum(num(s.infected)))),
        ),
      )
    : null;
  const trees = h("div", { class: "trace-trees" }, loadingText());
  clear(body, h("div", { class: "two-columns" }, h("div", {}, figures, genChart), spreadersTable), h("p", { class: "muted" }, tr("trace.highlight")), trees);

  const roots = [...(found.roots || [])].sort((a, b) => b.tree_size - a.tree_size);
  const big = roots.filter((r) => r.tree_size > 1);
  const small = roots.filter((r) => r.tree_size <= 1);
  try {
    const { parent, captions } = big.length ? await transmissionLinks(big.map((r) => r.entity_id), found.cases) : { parent: new Map(), captions: new Map() };
    if (!ctx.alive()) return;
    const children = new Map();
    for (const [child, from] of parent) {
      if (!children.has(from)) children.set(from, []);
      children.get(from).push(child);
    }
    const caption = (id) => captions.get(id) || id;
    for (const list of children.values()) list.sort((a, b) => caption(a).localeCompare(caption(b), undefined, { numeric: true }));
    const build = (id, g, seen) => {
      seen.add(id);
      const kids = (children.get(id) || []).filter((k) => !seen.has(k));
      return {
        id,
        label: shortCase(caption(id)),
        title: tr("trace.node", { caption: caption(id), g }),
        href: `#/entity/${encodeURIComponent(id)}`,
        className: superIds.has(id) ? "super-spreader" : "",
        fill: superIds.has(id) ? COLOURS.danger : null,
        children: kids.map((k) => build(k, g + 1, seen)),
      };
    };
    const drawn = big.map((r) => {
      const root = build(r.entity_id, 0, new Set());
      return h(
        "figure",
        { class: "trace-tree", dataset: { root: r.entity_id }, style: "margin: 0 0 12px" },
        h("figcaption", {}, tr("trace.tree", { root: r.case || r.caption, n: num(r.tree_size) })),
        h("div", { class: "tree-scroll" }, tree({ label: tr("trace.tree", { root: r.case || r.caption, n: num(r.tree_size) }), roots: [root] })),
      );
    });
    clear(
      trees,
      drawn,
      small.length
        ? h(
            "p",
            { class: "muted" },
            tr("trace.more", { n: num(small.length), list: "" }),
            small.slice(0, 50).map((r, i) => [i ? ", " : "", link(r)]),
            small.length > 50 ? " …" : "",
          )
        : null,
    );
  } catch (exc) {
    if (!ctx.alive()) return;
    clear(trees, h("p", { class: "error", role: "alert" }, tr("trace.notree", { reason: exc.message || String(exc) })));
  }
}
