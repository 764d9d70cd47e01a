// The audit log for auditors: who did what, when, from where, and why; chain intact?

import { get } from "../api.js";
import { clear, h } from "../dom.js";
import { language, t } from "../i18n.js";

export async function render(main) {
  const actor = h("input", { id: "audit-actor", placeholder: "ana" });
  const table = h("div", { id: "audit-table" });
  const verdict = h("p", { id: "audit-verdict" });
  const locale = language() === "fr" ? "fr-FR" : "en-GB";
  async function load(before) {
    const found = await get("/api/audit", { limit: 100, actor: actor.value.trim(), before });
    verdict.textContent = `${found.intact ? "✔" : "✘"} ${found.verdict}`;
    verdict.className = found.intact ? "" : "error";
    const last = found.events.at(-1);
    clear(
      table,
      h(
        "table",
        { class: "props" },
        h("thead", {}, h("tr", {}, ["#", t("entity.date"), "Qui", "Depuis", "Action", "Requête", "Résultats", "Motif", "Statut"].map((c) => h("th", {}, c)))),
        h(
          "tbody",
          {},
          found.events.map((e) =>
            h(
              "tr",
              { class: e.status >= 400 ? "refused" : "" },
              h("td", {}, e.seq),
              h("td", {}, new Date(e.at).toLocaleString(locale)),
              h("td", {}, e.actor),
              h("td", {}, e.origin),
              h("td", {}, e.action),
              h("td", { class: "muted" }, e.query || ""),
              h("td", {}, e.results ?? ""),
              h("td", {}, e.justification || ""),
              h("td", {}, e.status ?? ""),
            ),
          ),
        ),
      ),
      last && last.seq > 1 ? h("button", { id: "audit-older", onclick: () => load(last.seq) }, "…") : null,
    );
  }
  clear(
    main,
    h("h1", {}, t("audit.title")),
    h("form", { class: "toolbar", onsubmit: (e) => (e.preventDefault(), load()) }, h("label", {}, "Qui ", actor), h("button", { type: "submit" }, t("search.submit"))),
    verdict,
    table,
  );
  await load();
  main.dataset.ready = "1";
}
