// Health dashboards: Rt by département, the hospital load forecast against capacity,
// shortage alerts, proposed transfers (table and map), lockdown-exit scenarios and the
// transmission trees of the traced cases. Each section loads on its own: one refused or
// failing request shows its error in its section and leaves the others be.

import { maplibregl, useBundledWorker } from "../maplibre.js";
import { ApiError, get } from "../api.js";
import { forget, showing } from "../banner.js";
import { addDays, chart, dayTime, niceMax, tree } from "../charts.js";
import { clear, h } from "../dom.js";
import { language } from "../i18n.js";

const TEXTS = {
  fr: {
    title: "Tableaux de bord sanitaires",
    loading: "Chargement…",
    error: "Erreur",
    "error.refused": "Accès refusé",
    "error.reason": "Motif de consultation requis",
    "nav.curves": "Courbes et Rt",
    "nav.forecast": "Prévision hospitalière",
    "nav.alerts": "Alertes de pénurie",
    "nav.transfers": "Transferts",
    "nav.scenarios": "Scénarios de déconfinement",
    "nav.trace": "Chaînes de transmission",
    "curves.title": "Courbes épidémiques et Rt par département",
    "curves.place": "Département",
    "curves.hospital": "hôpital",
    "curves.si_mean": "Intervalle sériel moyen (j)",
    "curves.si_sd": "Écart type (j)",
    "curves.window": "Fenêtre (j)",
    "curves.update": "Calculer",
    "curves.nocases": "Aucun comptage de cas pour {place} : choisissez un autre département.",
    "curves.chart": "Rt de {place} par fenêtre de {window} jours, avec son intervalle à 95 %",
    "curves.rt": "Rt (moyenne a posteriori)",
    "curves.band": "Intervalle à 95 %",
    "curves.one": "Rt = 1",
    "curves.latest": "Dernière estimation ({date}) : Rt = {mean} [{low} – {high}]",
    "curves.none": "Rt n'est estimable sur aucune fenêtre.",
    "curves.nocounts": "Les comptages quotidiens ne sont pas fournis par le serveur : seul Rt est tracé.",
    "curves.cases": "Cas confirmés par jour, {place}",
    "curves.cases.axis": "Cas par jour",
    "curves.point": "{start} – {end} : Rt = {mean} [{low} – {high}]",
    "forecast.title": "Prévision de charge hospitalière",
    "forecast.summary": "Prévision à partir du {date} ({regions}) ; R estimé par phase : {r}.",
    "forecast.chart": "Patients en réanimation observés puis prévus, bande à {band} %, capacité {capacity} lits",
    "forecast.observed": "Réanimation observée",
    "forecast.median": "Prévision (médiane)",
    "forecast.band": "Bande à {band} %",
    "forecast.capacity": "Capacité ({n} lits)",
    "forecast.today": "dernier jour observé",
    "forecast.patients": "patients en réanimation",
    "forecast.hospital": "Hôpital",
    "forecast.departement": "Département",
    "forecast.beds": "Lits de réanimation",
    "forecast.peak": "Pic prévu",
    "forecast.peak_date": "Date du pic",
    "forecast.over": "Jours au-delà de la capacité",
    "forecast.point": "{date} : {value}",
    "forecast.pointband": "{date} : {value} [{low} – {high}]",
    "alerts.title": "Alertes de pénurie (équipements et lits)",
    "alerts.none": "Aucune pénurie prévue sur l'horizon.",
    "alerts.hospital": "Hôpital",
    "alerts.kind": "Nature",
    "alerts.item": "Objet",
    "alerts.days_left": "Jours restants",
    "alerts.date": "Date",
    "alerts.stock": "Stock ou lits",
    "alerts.need": "Besoin (par jour ou au pic)",
    "alerts.missing": "Manque sur l'horizon",
    "alerts.legend": "En rouge : épuisement sous 3 jours ; en orange : sous 7 jours.",
    "kind.stock": "Équipement",
    "kind.beds": "Lits",
    "item.icu": "lits de réanimation",
    "item.ventilated": "respirateurs",
    "item.surgical_mask": "masques chirurgicaux",
    "item.n95": "masques FFP2",
    "item.gowns": "surblouses",
    "item.glove_pairs": "paires de gants",
    "item.eye_protection": "protections oculaires",
    "transfers.title": "Transferts proposés",
    "transfers.summary": "Au {date} ({unit}) : {moved} patients à transférer ; {before} patients au-delà de la capacité avant, {after} après ; {burden} patients-heures de trajet (plan {status}).",
    "transfers.none": "Aucun transfert nécessaire.",
    "transfers.from": "De",
    "transfers.to": "Vers",
    "transfers.patients": "Patients",
    "transfers.vehicles": "Véhicules",
    "transfers.hours": "Trajet (h)",
    "transfers.map": "Carte des transferts proposés entre hôpitaux",
    "transfers.nomap": "Carte indisponible : {reason}",
    "transfers.legend": "Chaque trait va du clair (départ) au foncé (arrivée), d'autant plus épais qu'il porte de patients ; en rouge, les hôpitaux au-delà de leur capacité avant transferts ; cliquez pour le détail.",
    "transfers.noplace": "Hôpitaux sans coordonnées : {list}",
    "transfers.popup.over": "Au-delà de la capacité : {before} avant, {after} après",
    "transfers.popup.move": "{from} → {to} : {n} patients, {v} véhicules, {hours} h",
    "unit.icu": "réanimation",
    "unit.hospitalized": "hospitalisation",
    "scenarios.title": "Scénarios de sortie du confinement",
    "scenarios.summary": "R0 = {r0} ; R estimé par phase : {r} ; aujourd'hui : {today} ; capacité de réanimation : {capacity} lits.",
    "scenarios.peak": "Pic de réanimation",
    "scenarios.peak_value": "{n} le {date}",
    "scenarios.over": "Dépassement au pic",
    "scenarios.days_over": "Jours au-delà de la capacité",
    "scenarios.deaths": "Décès",
    "scenarios.infections": "Infections",
    "scenarios.duration": "Durée de l'épidémie",
    "scenarios.days": "{n} jours",
    "scenarios.beyond": "au-delà de l'horizon",
    "scenarios.chart": "Patients en réanimation, scénario « {name} », capacité {capacity} lits",
    "scenarios.icu": "Réanimation",
    "scenarios.capacity": "Capacité",
    "scenarios.today": "aujourd'hui",
    "trace.title": "Arbres de transmission",
    "trace.summary": "{cases} cas, {links} liens de transmission, {trees} {treeWord} ; génération la plus profonde : {deep}.",
    "trace.offspring": "Cas secondaires par cas : moyenne {mean}, variance {variance} ; {nobody} cas n'ont contaminé personne.",
    "trace.si": "Intervalle sériel : {mean} jours (écart type {sd}).",
    "trace.si_none": "Intervalle sériel : non estimable.",
    "trace.chain": "Plus longue chaîne : {chain}",
    "trace.generations": "Cas par génération",
    "trace.generation": "Génération",
    "trace.cases": "Cas",
    "trace.spreaders": "Super-contaminateurs",
    "trace.case": "Cas",
    "trace.onset": "Début des signes",
    "trace.infected": "Personnes contaminées",
    "trace.tree": "Arbre de transmission issu de {root} ({n} cas)",
    "trace.node": "{caption}, génération {g}",
    "trace.more": "{n} autres arbres de moins de deux cas : {list}",
    "trace.notree": "Structure des arbres indisponible : {reason}",
    "trace.tree.one": "arbre",
    "trace.tree.many": "arbres",
    "trace.highlight": "En rouge : le super-contaminateur ; cliquez un cas pour l'ouvrir.",
  },
  en: {
    title: "Health dashboards",
    loading: "Loading…",
    error: "Error",
    "error.refused": "Access refused",
    "error.reason": "A reason for reading is required",
    "nav.curves": "Curves and Rt",
    "nav.forecast": "Hospital forecast",
    "nav.alerts": "Shortage alerts",
    "nav.transfers": "Transfers",
    "nav.scenarios": "Lockdown-exit scenarios",
    "nav.trace": "Transmission chains",
    "curves.title": "Epidemic curves and Rt by département",
    "curves.place": "Département",
    "curves.hospital": "hospital",
    "curves.si_mean": "Mean serial interval (d)",
    "curves.si_sd": "Standard deviation (d)",
    "curves.window": "Window (d)",
    "curves.update": "Estimate",
    "curves.nocases": "No case counts for {place}: pick another département.",
    "curves.chart": "Rt of {place} over {window}-day windows, with its 95% interval",
    "curves.rt": "Rt (posterior mean)",
    "curves.band": "95% interval",
    "curves.one": "Rt = 1",
    "curves.latest": "Latest estimate ({date}): Rt = {mean} [{low} – {high}]",
    "curves.none": "Rt cannot be estimated on any window.",
    "curves.nocounts": "The server does not send the daily counts: only Rt is drawn.",
    "curves.cases": "Confirmed cases per day, {place}",
    "curves.cases.axis": "Cases per day",
    "curves.point": "{start} – {end}: Rt = {mean} [{low} – {high}]",
    "forecast.title": "Hospital load forecast",
    "forecast.summary": "Forecast from {date} ({regions}); R fitted by phase: {r}.",
    "forecast.chart": "ICU patients observed then forecast, {band}% band, capacity {capacity} beds",
    "forecast.observed": "Observed ICU",
    "forecast.median": "Forecast (median)",
    "forecast.band": "{band}% band",
    "forecast.capacity": "Capacity ({n} beds)",
    "forecast.today": "last observed day",
    "forecast.patients": "ICU patients",
    "forecast.hospital": "Hospital",
    "forecast.departement": "Département",
    "forecast.beds": "ICU beds",
    "forecast.peak": "Forecast peak",
    "forecast.peak_date": "Peak date",
    "forecast.over": "Days over capacity",
    "forecast.point": "{date}: {value}",
    "forecast.pointband": "{date}: {value} [{low} – {high}]",
    "alerts.title": "Shortage alerts (equipment and beds)",
    "alerts.none": "No shortage within the horizon.",
    "alerts.hospital": "Hospital",
    "alerts.kind": "Kind",
    "alerts.item": "Item",
    "alerts.days_left": "Days left",
    "alerts.date": "Date",
    "alerts.stock": "Stock or beds",
    "alerts.need": "Need (daily, or at peak)",
    "alerts.missing": "Missing over the horizon",
    "alerts.legend": "Red: runs out within 3 days; orange: within 7 days.",
    "kind.stock": "Equipment",
    "kind.beds": "Beds",
    "item.icu": "ICU beds",
    "item.ventilated": "ventilators",
    "item.surgical_mask": "surgical masks",
    "item.n95": "N95 masks",
    "item.gowns": "gowns",
    "item.glove_pairs": "pairs of gloves",
    "item.eye_protection": "eye protection",
    "transfers.title": "Proposed transfers",
    "transfers.summary": "On {date} ({unit}): {moved} patients to move; {before} patients over capacity before, {after} after; {burden} patient-hours of travel (plan {status}).",
    "transfers.none": "No transfer needed.",
    "transfers.from": "From",
    "transfers.to": "To",
    "transfers.patients": "Patients",
    "transfers.vehicles": "Vehicles",
    "transfers.hours": "Travel (h)",
    "transfers.map": "Map of the proposed transfers between hospitals",
    "transfers.nomap": "Map unavailable: {reason}",
    "transfers.legend": "Each line runs from light (departure) to dark (arrival), thicker with more patients; in red, hospitals over capacity before the transfers; click for details.",
    "transfers.noplace": "Hospitals without coordinates: {list}",
    "transfers.popup.over": "Over capacity: {before} before, {after} after",
    "transfers.popup.move": "{from} → {to}: {n} patients, {v} vehicles, {hours} h",
    "unit.icu": "ICU",
    "unit.hospitalized": "hospitalised",
    "scenarios.title": "Lockdown-exit scenarios",
    "scenarios.summary": "R0 = {r0}; R fitted by phase: {r}; today: {today}; ICU capacity: {capacity} beds.",
    "scenarios.peak": "ICU peak",
    "scenarios.peak_value": "{n} on {date}",
    "scenarios.over": "Over capacity at peak",
    "scenarios.days_over": "Days over capacity",
    "scenarios.deaths": "Deaths",
    "scenarios.infections": "Infections",
    "scenarios.duration": "Epidemic duration",
    "scenarios.days": "{n} days",
    "scenarios.beyond": "beyond the horizon",
    "scenarios.chart": "ICU patients, scenario “{name}”, capacity {capacity} beds",
    "scenarios.icu": "ICU",
    "scenarios.capacity": "Capacity",
    "scenarios.today": "today",
    "trace.title": "Transmission trees",
    "trace.summary": "{cases} cases, {links} transmission links, {trees} {treeWord}; deepest generation: {deep}.",
    "trace.offspring": "Secondary cases per case: mean {mean}, variance {variance}; {nobody} cases infected nobody.",
    "trace.si": "Serial interval: {mean} days (standard deviation {sd}).",
    "trace.si_none": "Serial interval: cannot be estimated.",
    "trace.chain": "Longest chain: {chain}",
    "trace.generations": "Cases by generation",
    "trace.generation": "Generation",
    "trace.cases": "Cases",
    "trace.spreaders": "Super-spreaders",
    "trace.case": "Case",
    "trace.onset": "Onset",
    "trace.infected": "People infected",
    "trace.tree": "Transmission tree from {root} ({n} cases)",
    "trace.node": "{caption}, generation {g}",
    "trace.more": "{n} more trees of fewer than two cases: {list}",
    "trace.notree": "Tree structure unavailable: {reason}",
    "trace.tree.one": "tree",
    "trace.tree.many": "trees",
    "trace.highlight": "In red: the super-spreader; click a case to open it.",
  },
};

function tr(key, vars = {}) {
  const text = TEXTS[language()]?.[key] ?? TEXTS.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

const locale = () => (language() === "en" ? "en-GB" : "fr-FR");
const colon = () => (language() === "en" ? ": " : " : ");

function num(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return "–";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);
}

/** A day (YYYY-MM-DD, or a time in ms) in the reader's language; ``short``: "11 avr.". */
function day(value, short = false) {
  if (value === null || value === undefined) return "–";
  const when = typeof value === "number" ? new Date(value) : new Date(dayTime(value));
  const options = short ? { day: "numeric", month: "short" } : { day: "numeric", month: "long", year: "numeric" };
  return when.toLocaleDateString(locale(), { timeZone: "UTC", ...options });
}

const itemName = (item) => (TEXTS.fr[`item.${item}`] ? tr(`item.${item}`) : item);

const SECTIONS = ["curves", "forecast", "alerts", "transfers", "scenarios", "trace"];
const COLOURS = { ink: "#1d2430", accent: "#1f5fa8", danger: "#b3261e", observed: "#2e7d32", muted: "#5d6b7d" };

const CSS = `
#view-health .health-nav { display: flex; gap: 6px; flex-wrap: wrap; margin: 0 0 12px; }
#view-health section.health-section { background: var(--paper, #fff); border: 1px solid var(--line, #d6dce4); border-radius: 6px; padding: 8px 14px 14px; margin-bottom: 16px; }
#view-health section.health-section h2 { font-size: 17px; margin: 6px 0 10px; }
#view-health .controls { display: flex; gap: 12px; flex-wrap: wrap; align-items: flex-end; margin-bottom: 8px; }
#view-health .controls label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted, #5d6b7d); }
#view-health .controls input[type="number"] { width: 7em; }
#view-health table.health-table { border-collapse: collapse; width: 100%; margin-top: 8px; }
#view-health table.health-table th, #view-health table.health-table td { border-bottom: 1px solid var(--line, #d6dce4); padding: 3px 6px; text-align: left; vertical-align: top; }
#view-health table.health-table th { color: var(--muted, #5d6b7d); font-weight: 600; font-size: 12px; }
#view-health table.health-table td.num, #view-health table.health-table th.num { text-align: right; font-variant-numeric: tabular-nums; }
#view-health tr.urgent td { background: #fde2e0; color: #7a1712; }
#view-health tr.soon td { background: #fff1d6; }
#view-health tr.over td { background: #fff6f5; }
#view-health tr.super-spreader td { background: #fde2e0; color: #7a1712; font-weight: 600; }
#view-health td.over { color: #b3261e; font-weight: 700; }
#view-health .scenario-columns { display: flex; gap: 12px; flex-wrap: wrap; }
#view-health .scenario { flex: 1 1 300px; min-width: 0; border: 1px solid var(--line, #d6dce4); border-radius: 4px; padding: 6px 10px; }
#view-health .scenario h3 { font-size: 15px; margin: 4px 0 6px; }
#view-health .scenario dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0 0 6px; }
#view-health .scenario dt { color: var(--muted, #5d6b7d); }
#view-health .scenario dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
#view-health .scenario dd.over { color: #b3261e; font-weight: 700; }
#view-health .transfer-map { height: 420px; border: 1px solid var(--line, #d6dce4); border-radius: 4px; margin-top: 10px; background: #dfe8f0; }
#view-health .tree-scroll { overflow-x: auto; border: 1px solid var(--line, #d6dce4); border-radius: 4px; margin: 8px 0; padding: 4px; }
#view-health .tree-node.super-spreader circle { fill: #b3261e; }
#view-health .tree a:hover circle, #view-health .tree a:focus circle { stroke: #1f5fa8; stroke-width: 3; }
#view-health .two-columns { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
#view-health .two-columns > * { flex: 1 1 320px; min-width: 0; }
#view-health .health-popup { font-size: 13px; }
`;

function errorBox(exc) {
  let head = tr("error");
  if (exc instanceof ApiError && exc.status === 403) head = tr("error.refused");
  if (exc instanceof ApiError && exc.status === 428) head = tr("error.reason");
  return h("p", { class: "error", role: "alert" }, `${head}${colon()}${exc.message || String(exc)}`);
}

const loadingText = () => h("p", { class: "muted loading" }, tr("loading"));

function table(className, headers, rows) {
  return h(
    "table",
    { class: `health-table ${className}` },
    h("thead", {}, h("tr", {}, headers.map(([label, numeric]) => h("th", { scope: "col", class: numeric ? "num" : null }, label)))),
    h("tbody", {}, rows),
  );
}

const td = (value, attrs = {}) => h("td", attrs, value);
const tdNum = (value, extra = "") => h("td", { class: `num ${extra}`.trim() }, value);

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
  clear(main, h("style", {}, CSS), h("h1", {}, tr("title")), nav, sections);

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

// -- 1. epidemic curves and Rt ---------------------------------------------------------

async function curvesSection(body, ctx) {
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

// -- 2. hospital load forecast ---------------------------------------------------------

async function forecastSection(body, ctx) {
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

async function alertsSection(body, ctx) {
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

// -- 4. transfers: table and map ---------------------------------------------------------

/** Every visible hospital's code, name and coordinates (from its entity). */
/** Where each hospital is (code -> {id, code, name, departement, lat, lon}), from the
 * forecast's hospitals (the server reads their coordinates with them). */
async function locateHospitals(ctx) {
  const fc = await ctx.forecast();
  const out = new Map();
  for (const x of fc.hospitals || []) {
    out.set(x.hospital, { id: x.entity_id, code: x.hospital, name: x.name, departement: x.departement, lat: x.latitude ?? Number.NaN, lon: x.longitude ?? Number.NaN });
  }
  return out;
}

async function transfersSection(body, ctx) {
  const plan = await get("/api/health/transfers");
  if (!ctx.alive()) return;
  ctx.shows("sante_hopitaux");
  const fc = await ctx.forecast().catch(() => null);
  const byCode = new Map((fc?.hospitals || []).map((x) => [x.hospital, x]));
  const label = (code) => {
    const x = byCode.get(code);
    return x ? `${code} ${x.name}` : code;
  };
  const moves = [...(plan.moves || [])].sort((a, b) => b.amount - a.amount);
  const summary = h(
    "p",
    { class: "transfers-summary" },
    tr("transfers.summary", {
      date: day(plan.date),
      unit: tr(`unit.${plan.unit}`),
      moved: num(plan.moved),
      before: num(plan.over_before),
      after: num(plan.over_after),
      burden: num(plan.burden, 1),
      status: plan.status,
    }),
  );
  const rows = moves.map((m) =>
    h(
      "tr",
      { dataset: { from: m.from, to: m.to } },
      td(label(m.from)),
      td(label(m.to)),
      tdNum(num(m.amount)),
      tdNum(num(m.vehicles)),
      tdNum(num(m.cost_each, 1)),
    ),
  );
  const mapBox = h("div", { id: "health-transfer-map", class: "transfer-map", role: "region", "aria-label": tr("transfers.map") });
  const mapNote = h("div", { class: "map-note" });
  clear(
    body,
    summary,
    moves.length
      ? table("transfers-table", [[tr("transfers.from")], [tr("transfers.to")], [tr("transfers.patients"), true], [tr("transfers.vehicles"), true], [tr("transfers.hours"), true]], rows)
      : h("p", { class: "muted" }, tr("transfers.none")),
    mapNote,
    mapBox,
    h("p", { class: "muted map-legend" }, tr("transfers.legend")),
  );
  try {
    await transferMap(mapBox, mapNote, plan, fc, ctx);
  } catch (exc) {
    if (!ctx.alive()) return;
    mapBox.remove();
    clear(mapNote, h("p", { class: "error", role: "alert" }, tr("transfers.nomap", { reason: exc.message || String(exc) })));
  }
}

async function transferMap(box, note, plan, fc, ctx) {
  const [places, outlines, deps] = await Promise.all([
    ctx.hospitalPlaces().catch(() => new Map()),
    get("/api/territories/outlines", { level: "departement" }),
    ctx.territories().catch(() => []),
  ]);
  if (!ctx.alive()) return;
  const depCentre = new Map(deps.map((d) => [d.code, [d.longitude, d.latitude]]));
  const codes = new Set([...(plan.sites || []).map((s) => s.site), ...(fc?.hospitals || []).map((x) => x.hospital), ...places.keys()]);
  const fcBy = new Map((fc?.hospitals || []).map((x) => [x.hospital, x]));
  const siteBy = new Map((plan.sites || []).map((s) => [s.site, s]));
  const where = new Map();
  const missing = [];
  for (const code of codes) {
    const p = places.get(code);
    if (p && Number.isFinite(p.lat) && Number.isFinite(p.lon)) where.set(code, [p.lon, p.lat]);
    else {
      const dep = p?.departement || fcBy.get(code)?.departement;
      const centre = dep && depCentre.get(dep);
      if (centre && Number.isFinite(centre[0])) where.set(code, centre);
      missing.push(code);
    }
  }
  if (missing.length) clear(note, h("p", { class: "muted" }, tr("transfers.noplace", { list: missing.join(", ") })));
  const hospitals = {
    type: "FeatureCollection",
    features: [...where].map(([code, coordinates]) => {
      const site = siteBy.get(code) || {};
      const info = places.get(code) || {};
      return {
        type: "Feature",
        geometry: { type: "Point", coordinates },
        properties: {
          code,
          name: info.name || fcBy.get(code)?.name || code,
          entity: info.id || "",
          beds: fcBy.get(code)?.icu_beds ?? null,
          over_before: site.over_before ?? 0,
          over_after: site.over_after ?? 0,
        },
      };
    }),
  };
  const lines = {
    type: "FeatureCollection",
    features: (plan.moves || [])
      .filter((m) => where.has(m.from) && where.has(m.to))
      .map((m) => ({
        type: "Feature",
        geometry: { type: "LineString", coordinates: [where.get(m.from), where.get(m.to)] },
        properties: { from: m.from, to: m.to, amount: m.amount, vehicles: m.vehicles, hours: m.cost_each },
      })),
  };
  const regions = new Set((fc?.regions || []).map((r) => r.code));
  const maxAmount = Math.max(1, ...lines.features.map((f) => f.properties.amount));
  useBundledWorker();
  const map = new maplibregl.Map({
    container: box,
    style: {
      version: 8,
      sources: {
        outlines: { type: "geojson", data: outlines },
        moves: { type: "geojson", data: lines, lineMetrics: true },
        hospitals: { type: "geojson", data: hospitals },
      },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#dfe8f0" } },
        {
          id: "outlines-fill",
          type: "fill",
          source: "outlines",
          paint: { "fill-color": ["case", ["in", ["get", "region"], ["literal", [...regions]]], "#fbfaf4", "#eef0ea"] },
        },
        { id: "outlines-line", type: "line", source: "outlines", paint: { "line-color": "#9aa5b1", "line-width": 0.8 } },
        {
          id: "moves-line",
          type: "line",
          source: "moves",
          layout: { "line-cap": "round" },
          paint: {
            "line-gradient": ["interpolate", ["linear"], ["line-progress"], 0, "#a9c8ea", 1, "#0d3f7a"],
            "line-opacity": 0.85,
            "line-width": ["interpolate", ["linear"], ["get", "amount"], 0, 1.5, maxAmount, 12],
          },
        },
        {
          id: "hospitals-circles",
          type: "circle",
          source: "hospitals",
          paint: {
            "circle-radius": 7,
            "circle-color": ["case", [">", ["get", "over_before"], 0], "#b3261e", "#2e7d32"],
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 2,
          },
        },
      ],
    },
    center: [5.5, 48.8],
    zoom: 6,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    maxPitch: 0,
  });
  box._map = map;
  ctx.undo.push(() => map.remove());
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  const points = [...where.values()];
  if (points.length) {
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    map.fitBounds(
      [
        [Math.min(...lons), Math.min(...lats)],
        [Math.max(...lons), Math.max(...lats)],
      ],
      { padding: 50, maxZoom: 9, duration: 0 },
    );
  }
  const label = (code) => places.get(code)?.name || fcBy.get(code)?.name || code;
  let popup = null;
  const open = (lngLat, node) => {
    popup?.remove();
    popup = new maplibregl.Popup({ maxWidth: "320px", className: "health-popup" }).setLngLat(lngLat).setDOMContent(node).addTo(map);
  };
  map.on("click", "hospitals-circles", (event) => {
    const f = event.features?.[0];
    if (!f) return;
    const p = f.properties;
    open(
      f.geometry.coordinates,
      h(
        "div",
        { class: "health-popup" },
        h("strong", {}, p.entity ? h("a", { href: `#/entity/${encodeURIComponent(p.entity)}` }, `${p.code} ${p.name}`) : `${p.code} ${p.name}`),
        p.beds !== null && p.beds !== undefined && p.beds !== "null" ? h("div", {}, `${tr("forecast.beds")}${colon()}${num(Number(p.beds))}`) : null,
        h("div", {}, tr("transfers.popup.over", { before: num(Number(p.over_before)), after: num(Number(p.over_after)) })),
      ),
    );
  });
  map.on("click", "moves-line", (event) => {
    const f = event.features?.[0];
    if (!f) return;
    const p = f.properties;
    open(
      event.lngLat,
      h("div", { class: "health-popup" }, tr("transfers.popup.move", { from: label(p.from), to: label(p.to), n: num(Number(p.amount)), v: num(Number(p.vehicles)), hours: num(Number(p.hours), 1) })),
    );
  });
  for (const layer of ["hospitals-circles", "moves-line"]) {
    map.on("mouseenter", layer, () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", layer, () => (map.getCanvas().style.cursor = ""));
  }
  ctx.undo.push(() => popup?.remove());
  // the section is done when the map has drawn (or after a while, on a slow machine)
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 8000);
    map.once("load", () => {
      clearTimeout(timer);
      box.dataset.loaded = "1";
      resolve();
    });
  });
}

// -- 5. lockdown-exit scenarios ----------------------------------------------------------

async function scenariosSection(body, ctx) {
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

// -- 6. transmission trees ---------------------------------------------------------------

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

async function traceSection(body, ctx) {
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
