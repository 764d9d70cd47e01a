// The classification banner: the highest marking of what is on screen, asked of the
// server (which leaves out datasets the reader may not see).

import { get } from "./api.js";
import { t } from "./i18n.js";

const onScreen = new Map(); // part of the page -> datasets it shows
let asked = 0;

/** Say which datasets a part of the page (``part``) shows; ``[]`` when it shows none. */
export function showing(part, datasets) {
  onScreen.set(part, new Set(datasets || []));
  refresh();
}

export function forget(part) {
  onScreen.delete(part);
  refresh();
}

export function resetBanner() {
  onScreen.clear();
  refresh();
}

async function refresh() {
  const all = new Set();
  for (const names of onScreen.values()) for (const name of names) all.add(name);
  const ticket = ++asked;
  const top = document.getElementById("banner-top");
  const bottom = document.getElementById("banner-bottom");
  if (!top || !bottom) return;
  if (all.size === 0) {
    paint(top, bottom, { banner: t("banner.none"), rank: -1, marking: "" });
    return;
  }
  try {
    const found = await get("/api/marking", { dataset: [...all].sort() });
    if (ticket === asked) paint(top, bottom, found);
  } catch {
    /* the banner keeps its last value; the page shows the error of its own request */
  }
}

function paint(top, bottom, found) {
  for (const el of [top, bottom]) {
    el.textContent = found.banner;
    el.dataset.rank = String(found.rank);
    el.dataset.marking = found.marking;
  }
}
