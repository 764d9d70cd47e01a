// The timeline strip: events per interval for the entities in view. Dragging across it
// brushes a time range that the graph and the map follow (event "range").

import { get } from "../api.js";
import { clear, h } from "../dom.js";
import { language, t } from "../i18n.js";
import { emit, state } from "../state.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_IDS = 150; // a query string of ids stays well under URL limits

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

function pickInterval(first, last) {
  const days = (last - first) / 86_400_000;
  if (days <= 120) return "day";
  if (days <= 900) return "week";
  if (days <= 12_000) return "month";
  return "year";
}

/** Fill ``box`` with the histogram of the events of ``ids``; resolves when drawn. */
export async function drawTimeline(box, ids) {
  const chosen = ids.slice(0, MAX_IDS);
  if (!chosen.length) {
    clear(box, h("p", { class: "muted" }, t("timeline.empty")));
    return;
  }
  let found = await get("/api/timeline/histogram", { id: chosen, interval: "year" });
  if (!found.buckets.length) {
    clear(box, h("p", { class: "muted" }, t("timeline.empty")));
    return;
  }
  const years = found.buckets.map((b) => Date.parse(b.start));
  const interval = pickInterval(Math.min(...years), Math.max(...years) + 365 * 86_400_000);
  if (interval !== "year") found = await get("/api/timeline/histogram", { id: chosen, interval });
  const buckets = found.buckets.map((b) => ({ start: Date.parse(b.start), count: b.count }));
  const lo = Math.min(...buckets.map((b) => b.start));
  const step = { day: 86_400_000, week: 7 * 86_400_000, month: 31 * 86_400_000, year: 366 * 86_400_000 }[interval];
  const hi = Math.max(...buckets.map((b) => b.start)) + step;
  const top = Math.max(...buckets.map((b) => b.count));
  const width = 1000;
  const height = 70;
  const x = (ms) => ((ms - lo) / (hi - lo)) * width;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height + 16}`,
    class: "timeline-chart",
    id: "timeline-chart",
    role: "img",
    "aria-label": t("nav.timeline"),
    preserveAspectRatio: "none",
  });
  for (const b of buckets) {
    const bar = svg("rect", {
      x: x(b.start),
      y: height - (b.count / top) * height,
      width: Math.max(1, x(b.start + step) - x(b.start) - 1),
      height: (b.count / top) * height,
      class: "bar",
    });
    const title = svg("title");
    title.textContent = `${new Date(b.start).toISOString().slice(0, 10)} : ${b.count}`;
    bar.append(title);
    chart.append(bar);
  }
  const locale = language() === "fr" ? "fr-FR" : "en-GB";
  for (const ms of [lo, (lo + hi) / 2, hi]) {
    const label = svg("text", { x: Math.min(width - 60, Math.max(0, x(ms) - 30)), y: height + 14, class: "axis" });
    label.textContent = new Date(ms).toLocaleDateString(locale);
    chart.append(label);
  }
  const brush = svg("rect", { x: 0, y: 0, width: 0, height, class: "brush", id: "timeline-brush" });
  chart.append(brush);
  const toMs = (event) => {
    const box = chart.getBoundingClientRect();
    return lo + ((event.clientX - box.left) / box.width) * (hi - lo);
  };
  let anchor = null;
  chart.addEventListener("pointerdown", (event) => {
    anchor = toMs(event);
    chart.setPointerCapture(event.pointerId);
  });
  chart.addEventListener("pointermove", (event) => {
    if (anchor === null) return;
    const now = toMs(event);
    brush.setAttribute("x", String(x(Math.min(anchor, now))));
    brush.setAttribute("width", String(Math.abs(x(now) - x(anchor))));
  });
  chart.addEventListener("pointerup", (event) => {
    if (anchor === null) return;
    const now = toMs(event);
    const [a, b] = [Math.min(anchor, now), Math.max(anchor, now)];
    anchor = null;
    if (b - a < step / 2) return;
    state.range = [new Date(a).toISOString(), new Date(b).toISOString()];
    emit("range", state.range);
    rangeText.textContent = describe(state.range);
  });
  const describe = (range) =>
    range ? `${new Date(range[0]).toLocaleDateString(locale)} – ${new Date(range[1]).toLocaleDateString(locale)}` : t("timeline.brush");
  const rangeText = h("span", { id: "timeline-range", class: "muted" }, describe(state.range));
  const reset = h(
    "button",
    {
      class: "link",
      id: "timeline-reset",
      onclick: () => {
        state.range = null;
        brush.setAttribute("width", "0");
        emit("range", null);
        rangeText.textContent = describe(null);
      },
    },
    t("timeline.reset"),
  );
  clear(box, h("div", { class: "timeline-head" }, rangeText, " ", reset), chart);
}

/** Does an item dated ``start``..``end`` (ISO texts, either may be missing) fall in the
 * brushed range? Undated items always do. */
export function inRange(start, end) {
  if (!state.range) return true;
  const first = start || end;
  if (!first) return true;
  const [lo, hi] = state.range;
  return (end || first) >= lo.slice(0, 10) && first <= hi;
}
