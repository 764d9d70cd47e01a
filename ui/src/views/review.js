// Entity resolution review: the queue, each pair side by side with its explanation,
// same / different / unsure, and undo of the last judgement.

import { del, get, post } from "../api.js";
import { forget, showing } from "../banner.js";
import { clear, h } from "../dom.js";
import { t } from "../i18n.js";

const judged = []; // judgement ids of this page, newest last (for undo)

function record(side) {
  const rows = Object.entries(side.properties).sort(([a], [b]) => a.localeCompare(b));
  return h(
    "div",
    { class: "record" },
    h("h3", {}, h("span", { class: `schema schema-${side.schema}` }, side.schema), " ", h("a", { href: `#/entity/${encodeURIComponent(side.id)}` }, (side.properties.name || [side.id])[0])),
    h("p", {}, side.datasets.map((d) => h("span", { class: "tag" }, d))),
    h("table", { class: "props" }, h("tbody", {}, rows.map(([prop, values]) => h("tr", {}, h("th", { scope: "row" }, prop), h("td", {}, values.join(" · ")))))),
  );
}

export async function render(main) {
  const status = h("p", { id: "review-status", role: "status" });
  const list = h("div", { id: "review-queue" });
  const undoButton = h(
    "button",
    {
      id: "review-undo",
      disabled: judged.length === 0,
      onclick: async () => {
        const last = judged.pop();
        if (last === undefined) return;
        await del(`/api/resolve/judgements/${last}`, { reason: "annulé depuis la file" });
        await load();
        status.textContent = `${t("review.undo")} : ${last}`; // once the queue shows it
      },
    },
    t("review.undo"),
  );
  clear(main, h("h1", {}, t("review.title")), h("div", { class: "toolbar" }, undoButton), status, list);

  async function load() {
    undoButton.disabled = judged.length === 0;
    const pairs = await get("/api/resolve/queue", { limit: 10 });
    showing("review", pairs.flatMap((p) => [...p.left_entity.datasets, ...p.right_entity.datasets]));
    if (!pairs.length) {
      clear(list, h("p", { class: "muted" }, t("review.empty")));
      return;
    }
    clear(
      list,
      pairs.map((pair) => {
        const decide = async (verdict) => {
          const found = await post("/api/resolve/judgements", { left: pair.left, right: pair.right, verdict });
          judged.push(found.judgement_id);
          await load();
          status.textContent = `${t(`review.${verdict}`)} : ${found.judgement_id}`;
        };
        return h(
          "article",
          { class: "pair", dataset: { left: pair.left, right: pair.right } },
          h("div", { class: "pair-head" }, h("strong", {}, `${Math.round(pair.probability * 100)} %`), ` — ${pair.schema}`, pair.rule ? ` (${pair.rule})` : ""),
          h("div", { class: "side-by-side" }, record(pair.left_entity), record(pair.right_entity)),
          h(
            "table",
            { class: "explanation" },
            h(
              "tbody",
              {},
              pair.explanation.map((e) =>
                h("tr", { class: e.weight > 0 ? "for" : e.weight < 0 ? "against" : "" }, h("th", { scope: "row" }, e.feature), h("td", {}, e.level), h("td", { class: "num" }, e.weight > 0 ? `+${e.weight.toFixed(1)}` : e.weight.toFixed(1))),
              ),
            ),
          ),
          h(
            "div",
            { class: "verdicts" },
            h("button", { class: "same", onclick: () => decide("same") }, t("review.same")),
            h("button", { class: "different", onclick: () => decide("different") }, t("review.different")),
            h("button", { class: "unsure", onclick: () => decide("unsure") }, t("review.unsure")),
          ),
        );
      }),
    );
  }
  await load();
  main.dataset.ready = "1";
  return () => forget("review");
}
