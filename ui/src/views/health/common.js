// What the health sections share: the translator over texts.js, numbers and days in the
// reader's language, the chart colours, and the error, loading and table helpers.

import { ApiError } from "../../api.js";
import { dayTime } from "../../charts.js";
import { h } from "../../dom.js";
import { language } from "../../i18n.js";
import { TEXTS } from "./texts.js";

export function tr(key, vars = {}) {
  const text = TEXTS[language()]?.[key] ?? TEXTS.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

const locale = () => (language() === "en" ? "en-GB" : "fr-FR");
export const colon = () => (language() === "en" ? ": " : " : ");

export function num(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return "–";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);
}

/** A day (YYYY-MM-DD, or a time in ms) in the reader's language; ``short``: "11 avr.". */
export function day(value, short = false) {
  if (value === null || value === undefined) return "–";
  const when = typeof value === "number" ? new Date(value) : new Date(dayTime(value));
  const options = short ? { day: "numeric", month: "short" } : { day: "numeric", month: "long", year: "numeric" };
  return when.toLocaleDateString(locale(), { timeZone: "UTC", ...options });
}

export const itemName = (item) => (TEXTS.fr[`item.${item}`] ? tr(`item.${item}`) : item);

export const COLOURS = { ink: "#1d2430", accent: "#1f5fa8", danger: "#b3261e", observed: "#2e7d32", muted: "#5d6b7d" };

export function errorBox(exc) {
  let head = tr("error");
  if (exc instanceof ApiError && exc.status === 403) head = tr("error.refused");
  if (exc instanceof ApiError && exc.status === 428) head = tr("error.reason");
  return h("p", { class: "error", role: "alert" }, `${head}${colon()}${exc.message || String(exc)}`);
}

export const loadingText = () => h("p", { class: "muted loading" }, tr("loading"));

export function table(className, headers, rows) {
  return h(
    "table",
    { class: `health-table ${className}` },
    h("thead", {}, h("tr", {}, headers.map(([label, numeric]) => h("th", { scope: "col", class: numeric ? "num" : null }, label)))),
    h("tbody", {}, rows),
  );
}

export const td = (value, attrs = {}) => h("td", attrs, value);
export const tdNum = (value, extra = "") => h("td", { class: `num ${extra}`.trim() }, value);
