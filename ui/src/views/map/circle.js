// "Who was there": drawing a circle on the map, a click for its centre and one for its
// edge, with a live preview, Escape to cancel and a button to clear it.

import { MAX_RADIUS_M, circlePolygon, collection, formatDistance, haversine } from "../../map-data.js";
import { tr } from "./texts.js";

/** Wire ``circleButton`` and ``clearButton`` to ``map``. ``search(centre, metres)`` is called
 * with each circle drawn, ``cleared()`` when the clear button empties it; ``say`` and
 * ``setData`` are the view's. Returns ``active()``, ``click(lngLat)`` (for the map's click
 * handler, while active) and ``dispose()``. */
export function circleTool({ map, main, circleButton, clearButton, popups, lang, alive, say, setData, search, cleared }) {
  let circleMode = false;
  let centre = null;
  let preview = 0;

  function setCircleMode(onOff) {
    circleMode = onOff;
    centre = null;
    circleButton.setAttribute("aria-pressed", String(onOff));
    circleButton.classList.toggle("active", onOff);
    map.getCanvas().style.cursor = onOff ? "crosshair" : "";
    if (onOff) map.doubleClickZoom.disable();
    else setTimeout(() => alive() && map.doubleClickZoom.enable(), 300);
    say("circle", onOff ? tr("circleHelp") : "");
    main.dataset.circle = onOff ? "centre" : "";
  }

  circleButton.addEventListener("click", () => {
    setCircleMode(!circleMode);
    if (circleMode) popups.closeAll();
  });
  clearButton.addEventListener("click", () => {
    setData("circle", collection());
    setData("found", collection());
    clearButton.disabled = true;
    say("circle", "");
    cleared();
  });
  const onKey = (event) => {
    if (event.key === "Escape" && circleMode) {
      setCircleMode(false);
      setData("circle", collection());
    }
  };
  document.addEventListener("keydown", onKey);

  map.on("mousemove", (event) => {
    if (!circleMode || !centre) return;
    cancelAnimationFrame(preview);
    const edge = [event.lngLat.lng, event.lngLat.lat];
    preview = requestAnimationFrame(() => {
      const metres = Math.min(MAX_RADIUS_M, haversine(centre, edge));
      if (metres > 0) setData("circle", circlePolygon(centre, metres));
      say("circle", `${tr("circleEdge")} · ${tr("radius", { r: formatDistance(metres, lang) })}`);
    });
  });

  async function circleClick(lngLat) {
    const point = [lngLat.lng, lngLat.lat];
    if (!centre) {
      centre = point;
      setData("circle", collection());
      say("circle", tr("circleEdge"));
      main.dataset.circle = "edge";
      return;
    }
    cancelAnimationFrame(preview);
    const at = centre;
    let metres = haversine(at, point);
    setCircleMode(false);
    if (metres < 1) {
      setData("circle", collection());
      return;
    }
    const capped = metres > MAX_RADIUS_M;
    metres = Math.min(MAX_RADIUS_M, metres);
    setData("circle", circlePolygon(at, metres));
    clearButton.disabled = false;
    const radiusText = tr("radius", { r: formatDistance(metres, lang) });
    const cappedText = tr("circleCapped", { max: formatDistance(MAX_RADIUS_M, lang) });
    say("circle", capped ? `${radiusText} · ${cappedText}` : radiusText);
    await search(at, metres);
  }

  return {
    active: () => circleMode,
    click: circleClick,
    dispose() {
      cancelAnimationFrame(preview);
      document.removeEventListener("keydown", onKey);
    },
  };
}
