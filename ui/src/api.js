// The one way the workspace talks to the server: same origin, session cookie, CSRF token.

import { language } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)recoupe_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

let justification = sessionStorage.getItem("recoupe.justification") || "";
let askReason = null;

/** The reason the analyst gave for reads of compartmented data (sent on every request,
 * kept for the browser tab's life; the server records it in the audit log). */
export function setJustification(text) {
  justification = text;
  sessionStorage.setItem("recoupe.justification", text);
}

export function currentJustification() {
  return justification;
}

/** ``ask(message)`` resolves to the reason the analyst types, or null if they decline;
 * a request the server refuses for want of one (428) is then sent again with it. */
export function onJustificationRequired(ask) {
  askReason = ask;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function request(method, path, options = {}) {
  try {
    return await send(method, path, options);
  } catch (exc) {
    if (!(exc instanceof ApiError) || exc.status !== 428 || !askReason) throw exc;
    const reason = await askReason(exc.message);
    if (!reason) throw exc;
    setJustification(reason);
    return send(method, path, options);
  }
}

async function send(method, path, { params, json, body, raw } = {}) {
  // The server's error titles follow the page's language; their details name the culprit.
  const headers = { Accept: "application/json", "Accept-Language": language() === "fr" ? "fr-FR, fr;q=0.9, en;q=0.5" : "en" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (justification) headers["X-Recoupe-Justification"] = justification;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(path + query(params), {
    method,
    headers,
    body,
    credentials: "same-origin",
  });
  if (raw && response.ok) return response;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    let detail = (data && (data.detail || data.title)) || response.statusText;
    if (typeof detail !== "string") detail = JSON.stringify(detail);
    const title = data && typeof data.title === "string" ? data.title : "";
    throw new ApiError(response.status, title && title !== detail ? `${title} : ${detail}` : detail, data);
  }
  return data;
}

export const get = (path, params) => request("GET", path, { params });
export const post = (path, json, params) => request("POST", path, { json, params });
export const del = (path, params) => request("DELETE", path, { params });
