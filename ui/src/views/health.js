// Health dashboards: Rt by département, the hospital load forecast against capacity,
// shortage alerts, proposed transfers (table and map), lockdown-exit scenarios and the
// transmission trees of the traced cases. Each section loads on its own: one refused or
// failing request shows its error in its section and leaves the others be.
// The sections live in health/, the texts and shared helpers in health/common.js; the
// styles are in style.css ("Health dashboards").

import { get } from "../api.js";
import { forget, showing } from "../banner.js";
import { clear, h } from "../dom.js";
import { errorBox, loadingText, tr } from "./health/common.js";
import { curvesSection } from "./health/curves.js";
import { alertsSection, forecastSection } from "./health/forecast.js";
import { locateHospitals, transfersSection } from "./health/transfers.js";
import { scenariosSection } from "./health/scenarios.js";
import { traceSection } from "./health/trace.js";

const SECTIONS = ["curves", "forecast", "alerts", "transfers", "scenarios", "trace"];

export async function render(main, { params }) {
  let alive = true;
  const undo = [];
  const datasets = new Set();
  const shows = (...names) => {
    if (!alive) return;
    for (const name of names) datasets.add(name);
    showing("health", [...datasets].sort());
  };
  showing("health", []);

  const bodies = {};
  const sections = SECTIONS.map((name) => {
    bodies[name] = h("div", { class: "section-body" }, loadingText());
    return h(
      "section",
      { id: `health-${name}`, class: "health-section", "aria-labelledby": `health-${name}-title`, "aria-busy": "true" },
      h("h2", { id: `health-${name}-title` }, tr(`${name}.title`)),
      bodies[name],
    );
  });
  const nav = h(
    "nav",
    { class: "health-nav", "aria-label": tr("title") },
    SECTIONS.map((name, i) =>
      h("button", { type: "button", class: "link", onclick: () => sections[i].scrollIntoView({ behavior: "smooth", block: "start" }) }, tr(`nav.${name}`)),
    ),
  );
  clear(main, h("h1", {}, tr("title")), nav, sections);

  // shared answers: the forecast (capacity, hospitals, région), the territories
  const once = (make) => {
    let found = null;
    return () => (found ||= make());
  };
  const forecast = once(() => get("/api/health/forecast"));
  const territories = once(() => get("/api/territories", { level: "departement" }));
  const ctx = { alive: () => alive, shows, forecast, territories, params, undo };
  ctx.hospitalPlaces = once(() => locateHospitals(ctx));

  const run = async (name, work) => {
    const body = bodies[name];
    const section = sections[SECTIONS.indexOf(name)];
    try {
      await work(body, ctx);
    } catch (exc) {
      if (alive) clear(body, errorBox(exc));
    } finally {
      section.removeAttribute("aria-busy");
    }
  };
  const jobs = [
    run("curves", curvesSection),
    run("forecast", forecastSection),
    run("alerts", alertsSection),
    run("transfers", transfersSection),
    run("scenarios", scenariosSection),
    run("trace", traceSection),
  ];
  Promise.allSettled(jobs).then(() => {
    if (alive) main.dataset.ready = "1";
  });

  return () => {
    alive = false;
    for (const fn of undo) {
      try {
        fn();
      } catch {
        /* a map already gone */
      }
    }
    forget("health");
  };
}
