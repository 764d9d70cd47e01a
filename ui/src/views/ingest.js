// Ingestion: upload source files, pick or write a mapping, preview the first rows mapped,
// run with a progress bar, then see the rejected rows and their reasons.

import { get, request } from "../api.js";
import { clear, h } from "../dom.js";
import { formatNumber, language, t } from "../i18n.js";

const TEMPLATE = `mon_jeu:
  title: "Mon jeu de données"
  marking: DR
  queries:
    - csv_url: personnes.csv
      entities:
        personne:
          schema: Person
          keys: [id]
          key_literal: mon-jeu-personne
          properties:
            name: {column: nom, required: true}
            birthDate: {column: naissance}
            phone: {column: telephone}
`;

const TEXT = {
  fr: {
    files: "Fichiers sources",
    mapping: "Correspondance (YAML)",
    pick: "ou choisir un fichier",
    preview: "Aperçu des premières lignes",
    run: "Ingérer",
    entities: "Entités produites",
    rejected: "Lignes rejetées",
    dropped: "Valeurs écartées",
    row: "Ligne",
    reason: "Motif",
    file: "Fichier",
    none: "Aucune",
    done: "Terminé",
  },
  en: {
    files: "Source files",
    mapping: "Mapping (YAML)",
    pick: "or pick a file",
    preview: "Preview of the first rows",
    run: "Ingest",
    entities: "Entities made",
    rejected: "Rejected rows",
    dropped: "Values dropped",
    row: "Row",
    reason: "Reason",
    file: "File",
    none: "None",
    done: "Done",
  },
};

function text(key) {
  return TEXT[language()][key];
}

function form(files, mappingText, extra = {}) {
  const body = new FormData();
  body.append("mapping", new Blob([mappingText.value], { type: "application/x-yaml" }), "mapping.yml");
  for (const file of files.files) body.append("files", file, file.name);
  for (const [key, value] of Object.entries(extra)) body.append(key, value);
  return body;
}

function rejectedTable(rows, id) {
  if (!rows.length) return h("p", { class: "muted", id }, text("none"));
  return h(
    "table",
    { class: "props", id },
    h("thead", {}, h("tr", {}, h("th", {}, text("file")), h("th", {}, text("row")), h("th", {}, text("reason")), h("th", {}, ""))),
    h(
      "tbody",
      {},
      rows.map((r) => h("tr", { class: "rejected-row" }, h("td", {}, r.source_file), h("td", {}, r.row), h("td", { class: "error" }, r.reason), h("td", { class: "muted" }, r.record || `${r.prop} = ${r.value}`))),
    ),
  );
}

export async function render(main) {
  const files = h("input", { type: "file", id: "ingest-files", multiple: true });
  const mappingText = h("textarea", { id: "ingest-mapping", rows: 18, cols: 80, spellcheck: "false" }, TEMPLATE);
  const pick = h("input", {
    type: "file",
    id: "ingest-mapping-file",
    accept: ".yml,.yaml,.json",
    onchange: async () => {
      if (pick.files[0]) mappingText.value = await pick.files[0].text();
    },
  });
  const output = h("section", { id: "ingest-output" });
  const bar = h("progress", { id: "ingest-progress", max: 1, value: 0, hidden: true });
  const stage = h("span", { id: "ingest-stage", class: "muted" });

  async function preview() {
    clear(output, h("p", { class: "muted" }, "…"));
    try {
      const found = await request("POST", "/api/ingest/preview", { body: form(files, mappingText, { rows: "20" }) });
      clear(
        output,
        h("h2", {}, `${text("preview")} (${found.run.rows_read})`),
        h("h3", {}, text("entities"), ` (${found.entities.length})`),
        h(
          "table",
          { class: "props", id: "preview-entities" },
          h(
            "tbody",
            {},
            found.entities.map((e) =>
              h("tr", {}, h("td", {}, h("span", { class: `schema schema-${e.schema}` }, e.schema)), h("td", {}, Object.entries(e.properties).map(([k, v]) => h("div", {}, h("span", { class: "muted" }, `${k} `), v.join(" · "))))),
            ),
          ),
        ),
        h("h3", {}, text("rejected")),
        rejectedTable(found.rejected_rows, "preview-rejected"),
        h("h3", {}, text("dropped")),
        rejectedTable(found.dropped_values, "preview-dropped"),
      );
    } catch (exc) {
      clear(output, h("p", { class: "error", id: "ingest-error" }, exc.message));
    }
  }

  async function run() {
    bar.hidden = false;
    bar.value = 0;
    try {
      let job = await request("POST", "/api/ingest", { body: form(files, mappingText) });
      while (job.state === "queued" || job.state === "running") {
        if (job.total) {
          bar.max = job.total;
          bar.value = job.done;
        }
        stage.textContent = `${job.stage || job.state} ${job.total ? `${formatNumber(job.done)} / ${formatNumber(job.total)}` : ""}`;
        await new Promise((resolve) => setTimeout(resolve, 300));
        job = await get(`/api/jobs/${job.id}`);
      }
      if (job.state !== "done") throw new Error(job.error || job.state);
      bar.max = 1;
      bar.value = 1;
      stage.textContent = text("done");
      const summary = job.result.run;
      const rejected = await get(`/api/runs/${summary.run_id}/rejected`);
      clear(
        output,
        h(
          "p",
          { id: "ingest-summary" },
          `${summary.dataset} : ${formatNumber(summary.rows_read)} lues, ${formatNumber(summary.rows_loaded)} chargées, `,
          `${formatNumber(summary.rows_rejected)} rejetées, ${formatNumber(summary.entities)} entités`,
        ),
        h("h3", {}, text("rejected")),
        rejectedTable(rejected.rejected_rows, "run-rejected"),
        h("h3", {}, text("dropped")),
        rejectedTable(rejected.dropped_values, "run-dropped"),
      );
    } catch (exc) {
      stage.textContent = "";
      clear(output, h("p", { class: "error", id: "ingest-error" }, exc.message));
    }
  }

  clear(
    main,
    h("h1", {}, t("ingest.title")),
    h("div", { class: "columns" },
      h("div", {},
        h("label", { class: "block" }, text("files"), files),
        h("label", { class: "block" }, text("mapping"), mappingText),
        h("label", { class: "block" }, text("pick"), " ", pick),
        h("div", { class: "actions" },
          h("button", { id: "ingest-preview", onclick: preview }, text("preview")),
          h("button", { id: "ingest-run", onclick: run }, text("run")),
          bar, stage),
      ),
      output,
    ),
  );
  main.dataset.ready = "1";
}
