// Section 5 of the health dashboards: the lockdown-exit scenarios side by side, each with
// its figures and its ICU curve against capacity.

import { get } from "../../api.js";
import { addDays, chart, dayTime, niceMax } from "../../charts.js";
import { clear, h } from "../../dom.js";
import { COLOURS, day, num, tr } from "./common.js";

export async function scenariosSection(body, ctx) {
  const found = await get("/api/health/scenarios");
  if (!ctx.alive()) return;
  ctx.shows("sante_hopitaux");
  const capacity = found.icu_capacity;
  const curves = found.curves || { icu: {} };
  const allValues = Object.values(curves.icu || {}).flat();
  const top = niceMax(Math.max(capacity || 0, ...allValues) * 1.05);
  const length = Math.max(1, ...Object.values(curves.icu || {}).map((v) => v.length));
  const x0 = dayTime(curves.start);
  const x1 = addDays(curves.start, length - 1);
  const columns = (found.scenarios || []).map((s) => {
    const series = curves.icu?.[s.scenario] || [];
    const overPeak = s.peak_over_capacity > 0;
    const layers = [
      { type: "band", class: "scenario-area", points: series.map((v, i) => ({ x: addDays(curves.start, i), lo: 0, hi: v })), color: COLOURS.accent, opacity: 0.15 },
      { type: "line", class: "scenario-line", points: series.map((v, i) => ({ x: addDays(curves.start, i), y: v })), color: COLOURS.accent, titles: false },
      { type: "hline", class: "capacity-line", y: capacity, color: COLOURS.danger, width: 1.5 },
    ];
    if (curves.today !== undefined && curves.today !== null) {
      layers.push({ type: "vline", class: "today-line", x: addDays(curves.start, curves.today), color: COLOURS.muted, dash: true, label: tr("scenarios.today") });
    }
    return h(
      "article",
      { class: "scenario", dataset: { scenario: s.scenario } },
      h("h3", {}, s.scenario),
      h(
        "dl",
        {},
        h("dt", {}, tr("scenarios.peak")),
        h("dd", { class: s.peak_icu > capacity ? "over" : null }, tr("scenarios.peak_value", { n: num(s.peak_icu), date: day(s.peak_icu_date) })),
        h("dt", {}, tr("scenarios.over")),
        h("dd", { class: overPeak ? "over" : null }, overPeak ? `+${num(s.peak_over_capacity)}` : "0"),
        h("dt", {}, tr("scenarios.days_over")),
        h("dd", { class: s.days_over_capacity > 0 ? "over" : null }, num(s.days_over_capacity)),
        h("dt", {}, tr("scenarios.deaths")),
        h("dd", {}, num(s.deaths)),
        h("dt", {}, tr("scenarios.infections")),
        h("dd", {}, num(s.infections)),
        h("dt", {}, tr("scenarios.duration")),
        h("dd", {}, s.duration_days === null || s.duration_days === undefined ? tr("scenarios.beyond") : tr("scenarios.days", { n: num(s.duration_days) })),
      ),
      chart({
        label: tr("scenarios.chart", { name: s.scenario, capacity: num(capacity) }),
        className: "chart scenario-chart",
        width: 360,
        height: 200,
        x: { min: x0, max: x1, time: true, format: (v) => day(v, true) },
        y: { min: 0, max: top, format: (v) => num(v) },
        layers,
        legend: [
          { label: tr("scenarios.icu"), color: COLOURS.accent },
          { label: tr("scenarios.capacity"), color: COLOURS.danger },
        ],
      }),
    );
  });
  clear(
    body,
    h(
      "p",
      { class: "scenarios-summary" },
      tr("scenarios.summary", { r0: num(found.r0, 2), r: (found.r_fitted || []).map((r) => num(r, 2)).join(" → "), today: day(found.today), capacity: num(capacity) }),
    ),
    h("div", { class: "scenario-columns" }, columns),
  );
}
