// Sections 2 and 3 of the health dashboards: the hospital load forecast against capacity
// (chart and table by hospital), and the shortage alerts.

import { get } from "../../api.js";
import { addDays, chart, dayTime, niceMax } from "../../charts.js";
import { clear, h } from "../../dom.js";
import { COLOURS, day, itemName, num, table, td, tdNum, tr } from "./common.js";

// -- 2. hospital load forecast ---------------------------------------------------------

export async function forecastSection(body, ctx) {
  const fc = await ctx.forecast();
  if (!ctx.alive()) return;
  ctx.shows("sante_hopitaux");
  const band = Math.round((fc.band ?? 0.9) * 100);
  const capacity = fc.capacity?.icu ?? null;
  const observed = (fc.observed_icu || []).map((value, i) => ({ x: addDays(fc.start, i), y: value, title: tr("forecast.point", { date: day(addDays(fc.start, i)), value: num(value) }) }));
  const days = fc.days || [];
  const ahead = days.map((d) => ({
    x: dayTime(d.date),
    y: d.icu,
    lo: d.icu_low,
    hi: d.icu_high,
    title: tr("forecast.pointband", { date: day(d.date), value: num(d.icu), low: num(d.icu_low), high: num(d.icu_high) }),
  }));
  // the median starts from the last observed day, so the two curves join
  const lastSeen = observed[observed.length - 1];
  const joined = lastSeen ? [{ x: lastSeen.x, y: lastSeen.y, lo: lastSeen.y, hi: lastSeen.y }, ...ahead] : ahead;
  const xs = [...observed.map((p) => p.x), ...ahead.map((p) => p.x)];
  const top = niceMax(Math.max(capacity || 0, ...observed.map((p) => p.y), ...ahead.map((p) => p.hi ?? p.y)) * 1.05);
  const layers = [
    { type: "band", class: "forecast-band", points: joined, color: COLOURS.accent, opacity: 0.22 },
    { type: "line", class: "observed-line", points: observed, color: COLOURS.observed },
    { type: "line", class: "forecast-line", points: joined, color: COLOURS.accent, dash: true },
  ];
  const legend = [
    { label: tr("forecast.observed"), color: COLOURS.observed },
    { label: tr("forecast.median"), color: COLOURS.accent, shape: "dash" },
    { label: tr("forecast.band", { band }), color: COLOURS.accent, shape: "area" },
  ];
  if (capacity !== null) {
    layers.push({ type: "hline", class: "capacity-line", y: capacity, color: COLOURS.danger, width: 2 });
    legend.push({ label: tr("forecast.capacity", { n: num(capacity) }), color: COLOURS.danger });
  }
  if (fc.from) layers.push({ type: "vline", class: "today-line", x: dayTime(fc.from), color: COLOURS.muted, dash: true, label: tr("forecast.today") });
  const regions = (fc.regions || []).map((r) => r.name || r.code).join(", ");
  const hospitals = [...(fc.hospitals || [])].sort((a, b) => b.days_over_icu_capacity - a.days_over_icu_capacity || b.peak_icu / (b.icu_beds || 1) - a.peak_icu / (a.icu_beds || 1));
  clear(
    body,
    h("p", { class: "forecast-summary" }, tr("forecast.summary", { date: day(fc.from), regions, r: (fc.r || []).map((r) => num(r, 2)).join(" → ") })),
    chart({
      label: tr("forecast.chart", { band, capacity: num(capacity) }),
      className: "chart forecast-chart",
      height: 300,
      x: { min: Math.min(...xs), max: Math.max(...xs), time: true, format: (v) => day(v, true) },
      y: { min: 0, max: top, format: (v) => num(v), title: tr("forecast.patients") },
      layers,
      legend,
    }),
    table(
      "forecast-hospitals",
      [
        [tr("forecast.hospital")],
        [tr("forecast.departement")],
        [tr("forecast.beds"), true],
        [tr("forecast.peak"), true],
        [tr("forecast.peak_date")],
        [tr("forecast.over"), true],
      ],
      hospitals.map((x) => {
        const over = x.days_over_icu_capacity > 0;
        return h(
          "tr",
          { class: over ? "over" : null, dataset: { hospital: x.hospital } },
          td(`${x.hospital} ${x.name}`),
          td(x.departement ? `${x.departement}${x.departement_name ? ` ${x.departement_name}` : ""}` : "–"),
          tdNum(num(x.icu_beds)),
          tdNum(num(x.peak_icu), x.peak_icu > x.icu_beds ? "over" : ""),
          td(day(x.peak_icu_date)),
          tdNum(num(x.days_over_icu_capacity), over ? "over" : ""),
        );
      }),
    ),
  );
}

// -- 3. shortage alerts ----------------------------------------------------------------

export async function alertsSection(body, ctx) {
  const alerts = await get("/api/health/alerts");
  if (!ctx.alive()) return;
  ctx.shows("sante_hopitaux");
  if (!alerts.length) {
    clear(body, h("p", { class: "muted" }, tr("alerts.none")));
    return;
  }
  const sorted = [...alerts].sort((a, b) => a.days_left - b.days_left);
  clear(
    body,
    h("p", { class: "muted" }, tr("alerts.legend")),
    table(
      "alerts-table",
      [
        [tr("alerts.hospital")],
        [tr("alerts.kind")],
        [tr("alerts.item")],
        [tr("alerts.days_left"), true],
        [tr("alerts.date")],
        [tr("alerts.stock"), true],
        [tr("alerts.need"), true],
        [tr("alerts.missing"), true],
      ],
      sorted.map((a) =>
        h(
          "tr",
          { class: a.days_left <= 3 ? "urgent" : a.days_left <= 7 ? "soon" : null, dataset: { hospital: a.hospital, kind: a.kind, item: a.item } },
          td(`${a.hospital} ${a.name || ""}`.trim()),
          td(tr(`kind.${a.kind}`) === `kind.${a.kind}` ? a.kind : tr(`kind.${a.kind}`)),
          td(itemName(a.item)),
          tdNum(num(a.days_left, 1)),
          td(day(a.runs_out)),
          tdNum(num(a.stock)),
          tdNum(num(a.daily_need, 1)),
          tdNum(num(a.missing_over_horizon)),
        ),
      ),
    ),
  );
}
