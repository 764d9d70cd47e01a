// Small SVG charts built element by element (no chart library, no HTML strings): time or
// number axes with ticks, bands, lines, bars, reference lines, a legend, and a top-down
// tree. Every chart is an image for assistive technology (role="img" and aria-label).

const NS = "http://www.w3.org/2000/svg";
const DAY = 86400000;
let clipSerial = 0;

/** An SVG element: ``svg("rect", {x: 1, class: "bar"}, child)``; strings become text. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** The time (ms, UTC midnight) of a day written YYYY-MM-DD. */
export function dayTime(iso) {
  const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
  return Date.UTC(y, m - 1, d);
}

/** ``iso`` plus ``n`` days, as a time (ms). */
export function addDays(iso, n) {
  return dayTime(iso) + n * DAY;
}

export function linear(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** About ``count`` round values covering [min, max]. */
export function ticks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= raw) || 10 * power;
  const out = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return out;
}

/** About ``count`` days (times in ms) covering [min, max], a whole number of days apart. */
export function dayTicks(min, max, count = 6) {
  const days = Math.max(1, (max - min) / DAY);
  const step = [1, 2, 3, 7, 14, 28, 56, 91, 182, 365].find((s) => days / s <= count) || 365;
  const out = [];
  for (let v = Math.ceil(min / DAY) * DAY; v <= max; v += step * DAY) out.push(v);
  return out;
}

/** A round upper bound a little above ``value`` (for a y axis). */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const found = ticks(0, value, 5);
  const step = found.length > 1 ? found[1] - found[0] : value;
  const top = found[found.length - 1];
  return top >= value ? top : top + step;
}

function runs(points, ok) {
  const out = [];
  let current = [];
  for (const p of points) {
    if (ok(p)) current.push(p);
    else if (current.length) {
      out.push(current);
      current = [];
    }
  }
  if (current.length) out.push(current);
  return out;
}

const fixed = (v) => Math.round(v * 10) / 10;

/**
 * A chart with a horizontal (time or number) axis and a vertical number axis.
 *
 * ``x``: ``{min, max, time, format, title, ticks}`` (``time``: values are ms since the
 * epoch, ticks fall on days); ``y``: ``{min, max, format, title}``. ``layers``, drawn in
 * order: ``{type: "band", points: [{x, lo, hi}]}``, ``{type: "line", points: [{x, y}]}``
 * (a null y breaks the line), ``{type: "bars", points: [{x, y}], step}`` (bar width in x
 * units), ``{type: "dots", points: [{x, y}]}``, ``{type: "hline", y}``, ``{type: "vline",
 * x}``; each with ``color``, ``class``, ``dash``, ``width``, ``label`` (for ``hline`` and
 * ``vline``) and points' ``title`` (a tooltip). ``legend``: ``[{label, color, shape}]``
 * with shape line, dash, area or bar.
 */
export function chart({ label, width = 720, height = 260, x, y, layers = [], legend = [], className = "chart" }) {
  const margin = { top: legend.length ? 28 : 12, right: 16, bottom: x.title ? 42 : 28, left: y.title ? 62 : 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = linear(x.min, x.max, margin.left, margin.left + plotW);
  const sy = linear(y.min, y.max, margin.top + plotH, margin.top);
  const fx = x.format || String;
  const fy = y.format || String;
  const clipId = `chart-clip-${++clipSerial}`;
  const root = svg("svg", {
    class: className,
    viewBox: `0 0 ${width} ${height}`,
    width: "100%",
    style: `max-width: ${width}px; height: auto; display: block`,
    role: "img",
    "aria-label": label,
    "font-size": 11,
    "font-family": "inherit",
  });
  root.append(
    svg("title", {}, label),
    svg("defs", {}, svg("clipPath", { id: clipId }, svg("rect", { x: margin.left, y: margin.top, width: plotW, height: plotH }))),
  );

  // axes: grid lines with the vertical ticks, day or number ticks below
  const axes = svg("g", { class: "axes", fill: "#5d6b7d" });
  for (const v of ticks(y.min, y.max, Math.max(2, Math.round(plotH / 45)))) {
    const py = fixed(sy(v));
    axes.append(
      svg("line", { x1: margin.left, x2: margin.left + plotW, y1: py, y2: py, stroke: "#e3e7ec" }),
      svg("text", { x: margin.left - 6, y: py + 4, "text-anchor": "end" }, fy(v)),
    );
  }
  const xTicks = x.ticks || (x.time ? dayTicks(x.min, x.max, Math.max(3, Math.round(plotW / 75))) : ticks(x.min, x.max, Math.max(2, Math.round(plotW / 80))));
  const base = margin.top + plotH;
  for (const v of xTicks) {
    const px = fixed(sx(v));
    axes.append(
      svg("line", { x1: px, x2: px, y1: base, y2: base + 4, stroke: "#5d6b7d" }),
      svg("text", { x: px, y: base + 16, "text-anchor": "middle" }, fx(v)),
    );
  }
  axes.append(
    svg("line", { x1: margin.left, x2: margin.left + plotW, y1: base, y2: base, stroke: "#5d6b7d" }),
    svg("line", { x1: margin.left, x2: margin.left, y1: margin.top, y2: base, stroke: "#5d6b7d" }),
  );
  if (x.title) axes.append(svg("text", { x: margin.left + plotW / 2, y: height - 6, "text-anchor": "middle" }, x.title));
  if (y.title) {
    const cy = margin.top + plotH / 2;
    axes.append(svg("text", { x: 12, y: cy, "text-anchor": "middle", transform: `rotate(-90 12 ${cy})` }, y.title));
  }
  root.append(axes);

  const plot = svg("g", { class: "plot", "clip-path": `url(#${clipId})` });
  for (const layer of layers) plot.append(drawLayer(layer, { sx, sy, margin, plotW, plotH, fx, fy }));
  root.append(plot);
  // reference lines' labels stay readable above the clipped plot
  for (const layer of layers) {
    if (layer.type === "hline" && layer.label) {
      root.append(svg("text", { x: margin.left + plotW - 4, y: fixed(sy(layer.y)) - 4, "text-anchor": "end", fill: layer.color || "#b3261e", class: "ref-label" }, layer.label));
    }
    if (layer.type === "vline" && layer.label) {
      root.append(svg("text", { x: fixed(sx(layer.x)) + 4, y: margin.top + 10, fill: layer.color || "#5d6b7d", class: "ref-label" }, layer.label));
    }
  }
  if (legend.length) root.append(drawLegend(legend, margin.left, 14));
  return root;
}

function drawLayer(layer, { sx, sy, margin, plotW, plotH }) {
  const color = layer.color || "#1f5fa8";
  const g = svg("g", { class: layer.class || `layer-${layer.type}` });
  const dash = layer.dash ? "5 4" : null;
  if (layer.type === "band") {
    for (const part of runs(layer.points, (p) => p.lo != null && p.hi != null)) {
      const upper = part.map((p) => `${fixed(sx(p.x))},${fixed(sy(p.hi))}`);
      const lower = part.map((p) => `${fixed(sx(p.x))},${fixed(sy(p.lo))}`).reverse();
      g.append(svg("polygon", { points: [...upper, ...lower].join(" "), fill: color, "fill-opacity": layer.opacity ?? 0.2, stroke: "none" }));
    }
  } else if (layer.type === "line") {
    for (const part of runs(layer.points, (p) => p.y != null && Number.isFinite(p.y))) {
      const d = part.map((p, i) => `${i ? "L" : "M"}${fixed(sx(p.x))},${fixed(sy(p.y))}`).join("");
      g.append(svg("path", { d, fill: "none", stroke: color, "stroke-width": layer.width || 2, "stroke-dasharray": dash, "stroke-linejoin": "round" }));
      if (part.length === 1) g.append(svg("circle", { cx: fixed(sx(part[0].x)), cy: fixed(sy(part[0].y)), r: 2.5, fill: color }));
    }
    if (layer.titles !== false) {
      // invisible hover targets: the value of each point as a tooltip
      for (const p of layer.points) {
        if (p.y == null || !p.title) continue;
        g.append(svg("circle", { cx: fixed(sx(p.x)), cy: fixed(sy(p.y)), r: 4, fill: "transparent" }, svg("title", {}, p.title)));
      }
    }
  } else if (layer.type === "bars") {
    const step = layer.step || 1;
    const w = Math.max(1, Math.abs(sx(step) - sx(0)) * 0.8);
    for (const p of layer.points) {
      if (p.y == null) continue;
      const top = sy(Math.max(0, p.y));
      const bottom = sy(0);
      g.append(
        svg("rect", { x: fixed(sx(p.x) - w / 2), y: fixed(Math.min(top, bottom)), width: fixed(w), height: fixed(Math.abs(bottom - top)), fill: color }, p.title ? svg("title", {}, p.title) : null),
      );
    }
  } else if (layer.type === "dots") {
    for (const p of layer.points) {
      if (p.y == null) continue;
      g.append(svg("circle", { cx: fixed(sx(p.x)), cy: fixed(sy(p.y)), r: layer.r || 3, fill: color }, p.title ? svg("title", {}, p.title) : null));
    }
  } else if (layer.type === "hline") {
    const py = fixed(sy(layer.y));
    g.append(svg("line", { x1: margin.left, x2: margin.left + plotW, y1: py, y2: py, stroke: color, "stroke-width": layer.width || 1.5, "stroke-dasharray": dash }));
  } else if (layer.type === "vline") {
    const px = fixed(sx(layer.x));
    g.append(svg("line", { x1: px, x2: px, y1: margin.top, y2: margin.top + plotH, stroke: color, "stroke-width": layer.width || 1, "stroke-dasharray": dash }));
  }
  return g;
}

function drawLegend(items, x0, y) {
  const g = svg("g", { class: "legend" });
  let x = x0;
  for (const item of items) {
    const color = item.color || "#1f5fa8";
    const shape = item.shape || "line";
    if (shape === "area" || shape === "bar") {
      g.append(svg("rect", { x, y: y - 8, width: 16, height: 10, fill: color, "fill-opacity": shape === "area" ? 0.25 : 1 }));
    } else {
      g.append(svg("line", { x1: x, x2: x + 16, y1: y - 3, y2: y - 3, stroke: color, "stroke-width": 2, "stroke-dasharray": shape === "dash" ? "5 3" : null }));
    }
    g.append(svg("text", { x: x + 21, y, fill: "#1d2430" }, item.label));
    x += 21 + 6.2 * String(item.label).length + 16;
  }
  return g;
}

/**
 * Trees drawn top-down: each node ``{id, label, title, href, className, children}`` sits
 * one level below its parent; leaves take consecutive slots and a parent is centred over
 * its children. ``roots``: the trees, side by side.
 */
export function tree({ label, roots, slot = 46, level = 64, radius = 9, className = "tree" }) {
  let next = 0;
  let depth = 0;
  const placed = [];
  const place = (node, d) => {
    depth = Math.max(depth, d);
    const kids = node.children || [];
    let x;
    if (!kids.length) x = next++;
    else {
      const xs = kids.map((kid) => place(kid, d + 1));
      x = (xs[0] + xs[xs.length - 1]) / 2;
    }
    placed.push({ node, x, d });
    return x;
  };
  for (const root of roots) {
    place(root, 0);
    next += 0.5; // a gap between trees
  }
  const width = Math.max(1, next) * slot + slot;
  const height = (depth + 1) * level + 16;
  const px = (x) => fixed(slot / 2 + 8 + x * slot);
  const py = (d) => fixed(18 + d * level);
  const at = new Map(placed.map((p) => [p.node, p]));
  const root = svg("svg", {
    class: className,
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    "font-size": 10,
    "font-family": "inherit",
  });
  root.append(svg("title", {}, label));
  const links = svg("g", { class: "tree-links", stroke: "#9aa5b1", fill: "none" });
  for (const { node, x, d } of placed) {
    for (const kid of node.children || []) {
      const k = at.get(kid);
      const midY = fixed((py(d) + py(k.d)) / 2);
      links.append(svg("path", { d: `M${px(x)},${py(d)}V${midY}H${px(k.x)}V${py(k.d)}` }));
    }
  }
  root.append(links);
  const nodes = svg("g", { class: "tree-nodes" });
  for (const { node, x, d } of placed) {
    const big = node.className && node.className.includes("super-spreader");
    const mark = svg(
      "g",
      { class: `tree-node ${node.className || ""}`.trim(), "data-id": node.id },
      svg("title", {}, node.title || node.label),
      svg("circle", { cx: px(x), cy: py(d), r: big ? radius + 4 : radius, fill: node.fill || "#7f9cc0", stroke: big ? "#7a1712" : "#1d2430", "stroke-width": big ? 2.5 : 1 }),
      svg("text", { x: px(x), y: fixed(py(d) + (big ? radius + 16 : radius + 12)), "text-anchor": "middle", fill: "#1d2430" }, node.label),
    );
    nodes.append(node.href ? svg("a", { href: node.href, "aria-label": node.title || node.label }, mark) : mark);
  }
  root.append(nodes);
  return root;
}
