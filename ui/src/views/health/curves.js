// Section 1 of the health dashboards: the daily cases and Rt of one département, with the
// serial interval and the window the reader chooses.

import { ApiError, get } from "../../api.js";
import { chart, dayTime, niceMax } from "../../charts.js";
import { clear, h } from "../../dom.js";
import { COLOURS, day, errorBox, loadingText, num, tr } from "./common.js";

export async function curvesSection(body, ctx) {
  const [all, fc] = await Promise.all([ctx.territories(), ctx.forecast().catch(() => null)]);
  if (!ctx.alive()) return;
  const regions = new Set((fc?.regions || []).map((r) => r.code));
  const withHospital = new Set((fc?.hospitals || []).map((x) => x.departement).filter(Boolean));
  const choices = all.filter((d) => !regions.size || regions.has(d.region) || withHospital.has(d.code));
  const asked = ctx.params?.get("place");
  const initial =
    (asked && choices.find((d) => d.code === asked || d.name === asked)?.code) ||
    (withHospital.has("67") ? "67" : [...withHospital].sort()[0]) ||
    choices[0]?.code;
  const select = h(
    "select",
    { id: "health-place", name: "place" },
    choices.map((d) =>
      h("option", { value: d.code, selected: d.code === initial }, `${d.code} ${d.name}${withHospital.has(d.code) ? ` (${tr("curves.hospital")})` : ""}`),
    ),
  );
  const siMean = h("input", { type: "number", id: "health-si-mean", min: 1.1, step: 0.1, value: 6.5 });
  const siSd = h("input", { type: "number", id: "health-si-sd", min: 0.1, step: 0.1, value: 4 });
  const windowInput = h("input", { type: "number", id: "health-window", min: 1, max: 60, step: 1, value: 7 });
  const out = h("div", { class: "rt-output", "aria-live": "polite" });
  const nameOf = (code) => {
    const found = all.find((d) => d.code === code);
    return found ? `${found.name} (${code})` : code;
  };
  let ticket = 0;
  const draw = async () => {
    const mine = ++ticket;
    const place = select.value;
    clear(out, loadingText());
    try {
      const found = await get("/api/health/rt", {
        place,
        si_mean: siMean.value || 6.5,
        si_sd: siSd.value || 4,
        window: windowInput.value || 7,
      });
      if (!ctx.alive() || mine !== ticket) return;
      ctx.shows("sante_cas");
      clear(out, rtChart(found, Number(windowInput.value || 7), found.name ? `${found.name} (${found.place})` : nameOf(place)));
    } catch (exc) {
      if (!ctx.alive() || mine !== ticket) return;
      if (exc instanceof ApiError && exc.status === 404) {
        clear(out, h("p", { class: "error no-cases", role: "alert" }, tr("curves.nocases", { place: nameOf(place) })), h("p", { class: "muted" }, exc.message));
      } else clear(out, errorBox(exc));
    }
  };
  select.addEventListener("change", draw);
  const form = h(
    "form",
    {
      class: "controls",
      onsubmit: (event) => {
        event.preventDefault();
        draw();
      },
    },
    h("label", {}, tr("curves.place"), select),
    h("label", {}, tr("curves.si_mean"), siMean),
    h("label", {}, tr("curves.si_sd"), siSd),
    h("label", {}, tr("curves.window"), windowInput),
    h("button", { type: "submit" }, tr("curves.update")),
  );
  clear(body, form, out);
  if (choices.length) await draw();
}

function rtChart(found, window, placeName) {
  const rows = (found.windows || []).filter((w) => w.end_date);
  const known = rows.filter((w) => w.mean !== null && w.mean !== undefined);
  if (!known.length) return h("p", { class: "muted" }, tr("curves.none"));
  const xs = rows.map((w) => dayTime(w.end_date));
  const maxMean = Math.max(...known.map((w) => w.mean));
  const maxHigh = Math.max(...known.map((w) => w.q975 ?? w.mean));
  const top = niceMax(Math.max(2, Math.min(maxHigh, maxMean * 1.4)));
  const points = rows.map((w) => ({
    x: dayTime(w.end_date),
    y: w.mean,
    title: tr("curves.point", { start: day(w.start_date, true), end: day(w.end_date, true), mean: num(w.mean, 2), low: num(w.q025, 2), high: num(w.q975, 2) }),
  }));
  const last = known[known.length - 1];
  const cases = found.cases || [];
  const casesTop = niceMax(Math.max(1, ...cases.map((c) => c.cases)));
  const curve = cases.length
    ? chart({
        label: tr("curves.cases", { place: placeName }),
        className: "chart cases-chart",
        height: 200,
        x: { min: Math.min(...xs, dayTime(cases[0].date)), max: Math.max(...xs), time: true, format: (v) => day(v, true) },
        y: { min: 0, max: casesTop, format: (v) => num(v, 0), title: tr("curves.cases.axis") },
        layers: [{ type: "bars", class: "case-bars", step: 86_400_000, points: cases.map((c) => ({ x: dayTime(c.date), y: c.cases, title: `${day(c.date, true)} : ${num(c.cases, 0)}` })), color: "#7f9cc0" }],
        legend: [{ label: tr("curves.cases.axis"), color: "#7f9cc0", shape: "bar" }],
      })
    : h("p", { class: "muted" }, tr("curves.nocounts"));
  return h(
    "div",
    {},
    curve,
    chart({
      label: tr("curves.chart", { place: placeName, window }),
      className: "chart rt-chart",
      height: 280,
      x: { min: Math.min(...xs), max: Math.max(...xs), time: true, format: (v) => day(v, true) },
      y: { min: 0, max: top, format: (v) => num(v, 1), title: "Rt" },
      layers: [
        { type: "band", class: "rt-band", points: rows.map((w) => ({ x: dayTime(w.end_date), lo: w.q025, hi: w.q975 })), color: COLOURS.accent, opacity: 0.2 },
        { type: "hline", class: "rt-one", y: 1, color: COLOURS.danger, dash: true },
        { type: "line", class: "rt-line", points, color: COLOURS.accent },
      ],
      legend: [
        { label: tr("curves.rt"), color: COLOURS.accent },
        { label: tr("curves.band"), color: COLOURS.accent, shape: "area" },
        { label: tr("curves.one"), color: COLOURS.danger, shape: "dash" },
      ],
    }),
    h("p", { class: "rt-latest" }, tr("curves.latest", { date: day(last.end_date), mean: num(last.mean, 2), low: num(last.q025, 2), high: num(last.q975, 2) })),
  );
}
