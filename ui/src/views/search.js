// Search: query, facets and filters, highlighted results that open the entity.

import { get } from "../api.js";
import { showing } from "../banner.js";
import { clear, h, highlighted } from "../dom.js";
import { formatNumber, schemaLabel, t } from "../i18n.js";

const FACETS = [
  ["schema", "schema", "search.facets.schema"],
  ["dataset", "dataset", "search.facets.dataset"],
  ["countries", "country", "search.facets.country"],
];
const PAGE = 20;

export async function render(main, { params, go }) {
  const q = params.get("q") || "";
  const chosen = {
    schema: params.getAll("schema"),
    dataset: params.getAll("dataset"),
    country: params.getAll("country"),
  };
  const from = params.get("from") || "";
  const to = params.get("to") || "";
  const offset = Number(params.get("offset") || 0);

  const input = h("input", {
    id: "q",
    type: "search",
    value: q,
    placeholder: t("search.placeholder"),
    "aria-label": t("search.submit"),
    autofocus: true,
  });
  const dateFrom = h("input", { id: "date-from", type: "date", value: from, title: t("search.from") });
  const dateTo = h("input", { id: "date-to", type: "date", value: to, title: t("search.to") });
  const navigate = (changes = {}) => {
    const next = new URLSearchParams();
    const state = { q: input.value.trim(), from: dateFrom.value, to: dateTo.value, ...chosen, ...changes };
    for (const [key, value] of Object.entries(state)) {
      for (const one of Array.isArray(value) ? value : [value]) if (one) next.append(key, one);
    }
    go(`search?${next}`);
  };
  const form = h(
    "form",
    { class: "searchbar", onsubmit: (e) => (e.preventDefault(), navigate({ offset: 0 })) },
    input,
    h("label", {}, t("search.from"), dateFrom),
    h("label", {}, t("search.to"), dateTo),
    h("button", { type: "submit", id: "search-submit" }, t("search.submit")),
  );
  const facets = h("aside", { class: "facets", id: "facets" });
  const results = h("section", { class: "results", id: "results" });
  clear(main, form, h("div", { class: "columns" }, facets, results));
  if (!q && !chosen.schema.length && !chosen.dataset.length) return;

  clear(results, h("p", { class: "muted" }, t("loading")));
  const found = await get("/api/search", {
    q,
    schema: chosen.schema,
    dataset: chosen.dataset,
    country: chosen.country,
    date_from: from,
    date_to: to,
    limit: PAGE,
    offset,
  });
  showing("search", found.results.flatMap((r) => r.datasets));

  clear(
    facets,
    FACETS.map(([field, param, label]) =>
      h(
        "fieldset",
        { class: "facet", id: `facet-${param}` },
        h("legend", {}, t(label)),
        (found.facets[field] || []).map((bucket) =>
          h(
            "label",
            {},
            h("input", {
              type: "checkbox",
              value: bucket.value,
              checked: chosen[param].includes(bucket.value),
              onchange: (e) => {
                const values = new Set(chosen[param]);
                if (e.target.checked) values.add(bucket.value);
                else values.delete(bucket.value);
                navigate({ [param]: [...values], offset: 0 });
              },
            }),
            ` ${param === "schema" ? schemaLabel(bucket.value) : bucket.value} `,
            h("span", { class: "count" }, formatNumber(bucket.count)),
          ),
        ),
      ),
    ),
  );

  const total = found.total_exact ? formatNumber(found.total) : `≥ ${formatNumber(found.total)}`;
  clear(
    results,
    h("p", { class: "muted", id: "result-count" }, found.total ? t("search.results", { n: total }) : t("search.none"), ` (${found.took_ms} ms)`),
    h(
      "ol",
      { class: "hits", start: offset + 1 },
      found.results.map((hit) =>
        h(
          "li",
          { class: "hit" },
          h(
            "a",
            { href: `#/entity/${encodeURIComponent(hit.id)}`, class: "hit-title" },
            h("span", { class: `schema schema-${hit.schema}`, title: hit.schema }, schemaLabel(hit.schema)),
            " ",
            hit.highlights && hit.highlights.length ? highlighted(hit.highlights[0]) : hit.caption,
          ),
          h(
            "div",
            { class: "hit-meta" },
            hit.names.slice(0, 4).join(" · "),
            hit.identifiers.length ? ` — ${hit.identifiers.slice(0, 3).join(", ")}` : "",
            " ",
            hit.datasets.map((d) => h("span", { class: "tag" }, d)),
          ),
        ),
      ),
    ),
    offset + PAGE < found.total
      ? h("button", { id: "search-more", onclick: () => navigate({ offset: offset + PAGE }) }, t("search.more"))
      : null,
  );
}
