// Investigations: the saved graphs shared with me, and saving the graph in view.

import { del, get, post, request } from "../api.js";
import { forget, showing } from "../banner.js";
import { clear, h } from "../dom.js";
import { language, t } from "../i18n.js";
import { addToGraph, snapshot, state } from "../state.js";

function positions() {
  const canvas = document.querySelector("#graph");
  const graph = canvas && canvas._graph;
  return [...state.graph.nodes.values()].map((n) => {
    const attrs = graph && graph.hasNode(n.id) ? graph.getNodeAttributes(n.id) : n;
    return { id: n.id, x: attrs.x ?? null, y: attrs.y ?? null };
  });
}

/** Save the graph in view as the current investigation (or a new one). */
export async function saveInvestigation({ title, notes, shares }) {
  const body = { title, notes, nodes: positions(), shares };
  const current = state.investigation;
  const saved = current
    ? await request("PUT", `/api/investigations/${current.id}`, { json: body })
    : await post("/api/investigations", body);
  state.investigation = saved;
  return saved;
}

/** Open an investigation: its graph replaces the one in view. */
export async function openInvestigation(id) {
  const found = await get(`/api/investigations/${encodeURIComponent(id)}`);
  snapshot();
  state.graph = { nodes: new Map(), edges: new Map() };
  addToGraph({ nodes: found.nodes, edges: found.edges });
  state.investigation = found;
  return found;
}

function when(value) {
  return new Date(value).toLocaleString(language() === "fr" ? "fr-FR" : "en-GB");
}

export async function render(main, { go }) {
  const me = state.me.user.login;
  const current = state.investigation;
  const title = h("input", { id: "inv-title", required: true, maxlength: 200, value: current ? current.title : "" });
  const notes = h("textarea", { id: "inv-notes", rows: 5, cols: 60 }, current ? current.notes : "");
  const shares = h("input", {
    id: "inv-shares",
    value: current ? current.shares.map((s) => s.replace(/^user:/, "")).join(", ") : "",
    placeholder: "ana, group:analyst",
  });
  const status = h("p", { id: "inv-status", role: "status" });
  const list = h("div", { id: "inv-list" });
  const form = h(
    "form",
    {
      class: "investigation-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const named = shares.value
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .map((s) => (s.includes(":") ? s : `user:${s}`));
        try {
          const saved = await saveInvestigation({ title: title.value, notes: notes.value, shares: named });
          status.textContent = `${t("inv.saved")} — ${saved.banner}`;
          status.className = "";
          await load();
        } catch (exc) {
          status.textContent = exc.message;
          status.className = "error";
        }
      },
    },
    h("h2", {}, current ? current.title : t("inv.new")),
    h("p", { class: "muted" }, t("graph.nodes", { n: state.graph.nodes.size, e: state.graph.edges.size })),
    h("label", {}, t("inv.name"), title),
    h("label", {}, t("inv.notes"), notes),
    h("label", {}, t("inv.share"), shares),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", id: "inv-save" }, t("inv.save")),
      current
        ? h(
            "button",
            {
              type: "button",
              id: "inv-new",
              onclick: () => {
                state.investigation = null;
                go(`investigations?new=${Date.now()}`);
              },
            },
            t("inv.new"),
          )
        : null,
    ),
    status,
  );
  clear(main, h("h1", {}, t("inv.title")), h("div", { class: "columns" }, form, list));

  async function reopen(id) {
    status.textContent = t("loading");
    status.className = "";
    try {
      await openInvestigation(id);
      go("graph");
    } catch (exc) {
      status.textContent = exc.message;
      status.className = "error";
    }
  }

  async function load() {
    const found = await get("/api/investigations");
    if (!found.length) {
      clear(list, h("p", { class: "muted" }, t("inv.none")));
      return;
    }
    clear(
      list,
      h(
        "table",
        { class: "props", id: "inv-table" },
        h("thead", {}, h("tr", {}, ["", t("inv.name"), t("entity.marking"), "", ""].map((c) => h("th", {}, c)))),
        h(
          "tbody",
          {},
          found.map((inv) =>
            h(
              "tr",
              { dataset: { id: inv.id } },
              h("td", {}, h("button", { class: "inv-open", onclick: () => reopen(inv.id) }, t("inv.open"))),
              h("td", {}, h("strong", {}, inv.title), h("div", { class: "muted" }, `${inv.owner} · ${inv.entities} · ${when(inv.updated_at)}`)),
              h("td", { class: "marking" }, inv.marking),
              h("td", {}, inv.owner === me ? h("button", { class: "link inv-delete", onclick: async () => (await del(`/api/investigations/${inv.id}`), load()) }, "✕") : null),
            ),
          ),
        ),
      ),
    );
    showing("investigations", []);
  }
  await load();
  main.dataset.ready = "1";
  return () => forget("investigations");
}
