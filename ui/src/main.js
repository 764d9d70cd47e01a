// The analyst workspace: a page per hash route, a header, and the classification banner.

import { ApiError, currentJustification, get, onJustificationRequired, post, setJustification } from "./api.js";
import { resetBanner } from "./banner.js";
import { h, clear } from "./dom.js";
import { language, setLanguage, setVocabulary, t, vocabularyLanguage } from "./i18n.js";
import { state } from "./state.js";
import "./style.css";

const routes = {
  search: () => import("./views/search.js"),
  entity: () => import("./views/entity.js"),
  graph: () => import("./views/graph.js"),
  map: () => import("./views/map.js"),
  investigations: () => import("./views/investigations.js"),
  ingest: () => import("./views/ingest.js"),
  review: () => import("./views/review.js"),
  health: () => import("./views/health.js"),
  audit: () => import("./views/audit.js"),
};
const NAV = ["search", "graph", "map", "investigations", "ingest", "review", "health", "audit"];

let cleanup = null;

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, queryText] = hash.split("?");
  const [name, ...rest] = (path || "search").split("/");
  return { name, args: rest.map(decodeURIComponent), params: new URLSearchParams(queryText || "") };
}

export function go(path) {
  location.hash = `#/${path}`;
}

function header() {
  const me = state.me;
  const current = parseHash().name;
  return h(
    "header",
    { class: "top" },
    h("a", { class: "brand", href: "#/search" }, "Recoupe"),
    h(
      "nav",
      {},
      NAV.filter((name) => name !== "audit" || (me && me.scopes.includes("audit"))).map((name) =>
        h("a", { href: `#/${name}`, class: name === current ? "active" : "", id: `nav-${name}` }, t(`nav.${name}`)),
      ),
    ),
    h(
      "div",
      { class: "who" },
      h("input", {
        id: "justification",
        class: "why",
        value: currentJustification(),
        placeholder: t("why"),
        title: t("why"),
        oninput: (event) => setJustification(event.target.value.trim()),
      }),
      h("span", { class: "user", id: "user" }, me ? me.user.display_name || me.user.login : ""),
      h("button", { class: "link", id: "lang", onclick: switchLanguage }, t("lang.switch")),
      h("button", { class: "link", id: "logout", onclick: logout }, t("logout")),
    ),
  );
}

function switchLanguage() {
  setLanguage(language() === "fr" ? "en" : "fr");
  render();
}

async function logout() {
  try {
    await post("/api/auth/logout");
  } finally {
    state.me = null;
    render();
  }
}

function loginPage(root) {
  const error = h("p", { class: "error", id: "login-error", role: "alert" });
  const login = h("input", { id: "login", name: "login", autocomplete: "username", required: true });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const form = h(
    "form",
    {
      class: "login",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        try {
          await post("/api/auth/login", { login: login.value, password: password.value });
          state.me = await get("/api/auth/me");
          render();
        } catch (exc) {
          error.textContent = `${t("login.failed")} : ${exc.message}`;
        }
      },
    },
    h("h1", {}, "Recoupe"),
    h("h2", {}, t("login.title")),
    h("label", {}, t("login.login"), login),
    h("label", {}, t("login.password"), password),
    h("button", { type: "submit", id: "login-submit" }, t("login.submit")),
    error,
    h("button", { type: "button", class: "link", onclick: switchLanguage }, t("lang.switch")),
  );
  clear(root, form);
  login.focus();
}

async function render() {
  document.documentElement.lang = language();
  const root = document.getElementById("root");
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  resetBanner();
  if (!state.me) {
    try {
      state.me = await get("/api/auth/me");
    } catch (exc) {
      if (!(exc instanceof ApiError) || exc.status !== 401) throw exc;
      clear(document.getElementById("chrome"));
      loginPage(root);
      return;
    }
  }
  if (vocabularyLanguage() !== language()) {
    // Schema and property labels in the page's language; identifiers stand in if this fails.
    setVocabulary(await get("/api/ontology/labels", { lang: language() }).catch(() => null));
  }
  clear(document.getElementById("chrome"), header());
  const { name, args, params } = parseHash();
  const load = routes[name] || routes.search;
  const main = h("main", { id: `view-${name}`, class: "view" }, h("p", { class: "muted" }, t("loading")));
  clear(root, main);
  try {
    const view = await load();
    clear(main);
    cleanup = (await view.render(main, { args, params, go })) || null;
  } catch (exc) {
    clear(main, h("p", { class: "error", role: "alert" }, `${t("error")} : ${exc.message}`));
    if (exc instanceof ApiError && exc.status === 401) {
      state.me = null;
      render();
    }
  }
}

let asking = null;
onJustificationRequired((message) => {
  // One dialog at a time: requests refused together wait for the same answer.
  if (asking) return asking;
  asking = new Promise((resolve) => {
    const input = h("input", { id: "why-reason", required: true, minlength: 3, placeholder: "enquête 2026-041" });
    const dialog = h(
      "dialog",
      { id: "why-dialog", class: "why-dialog" },
      h(
        "form",
        { method: "dialog" },
        h("h2", {}, t("why")),
        h("p", { class: "muted" }, message),
        h("label", {}, t("why.label"), input),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "submit", id: "why-submit", value: "ok" }, t("why.submit")),
          h("button", { type: "button", id: "why-cancel", onclick: () => dialog.close("") }, t("why.cancel")),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      const reason = dialog.returnValue === "ok" ? input.value.trim() : "";
      dialog.remove();
      asking = null;
      const field = document.getElementById("justification");
      if (reason && field) field.value = reason;
      resolve(reason || null);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
  return asking;
});

window.addEventListener("hashchange", render);
window.addEventListener("DOMContentLoaded", render);
