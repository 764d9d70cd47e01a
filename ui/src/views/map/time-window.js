// The time window of the map's tracks: two sliders over the span of the dated points, the
// period they show, and the range shared with the rest of the workspace (state.range).

import { parseTs } from "../../map-data.js";
import { emit, state } from "../../state.js";
import { tr } from "./texts.js";

export const SLIDER_STEPS = 1000;

/** Wire the sliders ``fromInput`` and ``toInput``, the ``allTime`` button and ``periodText``
 * (days told by ``when``); ``draw()`` redraws the tracks when the period changes. Returns
 * ``period()`` ([lo, hi] in ms), ``setSpan(span)`` for new tracks and ``follow(range)``. */
export function timeWindow({ fromInput, toInput, allTime, periodText, when, draw }) {
  let span = null;
  let period = [-Infinity, Infinity];
  let sentRange; // the range this view broadcast last: not followed back

  const toStep = (ms) => Math.round(((ms - span[0]) / (span[1] - span[0])) * SLIDER_STEPS);
  const toMs = (step) => span[0] + (Math.max(0, Math.min(SLIDER_STEPS, step)) / SLIDER_STEPS) * (span[1] - span[0]);

  function setupSlider() {
    const usable = span !== null;
    for (const el of [fromInput, toInput, allTime]) el.disabled = !usable;
    if (usable && span[0] === span[1]) span = [span[0] - 3_600_000, span[1] + 3_600_000];
    followRange(state.range, false);
  }

  function showPeriod() {
    if (!span) {
      periodText.textContent = tr("noTime");
      return;
    }
    const lo = Math.max(period[0], span[0]);
    const hi = Math.min(period[1], span[1]);
    periodText.textContent = `${when.format(lo)} – ${when.format(hi)}`;
  }

  /** Put the window on ``range`` ([startISO, endISO] or null) and redraw. */
  function followRange(range, redraw = true) {
    if (span && range) {
      const lo = parseTs(range[0]);
      const hi = parseTs(range[1]);
      period = [lo, hi];
      fromInput.value = String(Math.max(0, Math.min(SLIDER_STEPS, toStep(lo))));
      toInput.value = String(Math.max(0, Math.min(SLIDER_STEPS, toStep(hi))));
    } else {
      period = [-Infinity, Infinity];
      fromInput.value = "0";
      toInput.value = String(SLIDER_STEPS);
    }
    showPeriod();
    if (redraw) draw();
  }

  function fromSlider(event) {
    if (!span) return;
    let a = Number(fromInput.value);
    let b = Number(toInput.value);
    if (a > b) {
      if (event.target === fromInput) b = a;
      else a = b;
      fromInput.value = String(a);
      toInput.value = String(b);
    }
    period = [a <= 0 ? -Infinity : toMs(a), b >= SLIDER_STEPS ? Infinity : toMs(b)];
    showPeriod();
    draw();
  }

  function broadcast() {
    if (!span) return;
    const full = period[0] === -Infinity && period[1] === Infinity;
    const iso = (ms) => new Date(ms).toISOString();
    state.range = full ? null : [iso(Math.max(period[0], span[0])), iso(Math.min(period[1], span[1]))];
    sentRange = state.range;
    emit("range", state.range);
  }
  fromInput.addEventListener("input", fromSlider);
  toInput.addEventListener("input", fromSlider);
  fromInput.addEventListener("change", broadcast);
  toInput.addEventListener("change", broadcast);
  allTime.addEventListener("click", () => {
    followRange(null);
    broadcast();
  });

  return {
    period: () => period,
    /** The tracks' new span of time ([lo, hi] in ms, or null): the sliders over it. */
    setSpan(next) {
      span = next;
      setupSlider();
    },
    /** Follow a range set elsewhere in the workspace (not the one this view sent). */
    follow(range) {
      if (range === sentRange) return;
      followRange(range);
    },
  };
}
