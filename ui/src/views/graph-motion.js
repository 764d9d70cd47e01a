// Fluid pan and zoom over big graphs. Each time sigma draws the graph at rest, its layers
// are copied into one picture. While the camera moves, that picture is shown instead of
// the layers, moved and scaled by a CSS transform, and nothing is drawn; the graph is
// drawn for real once the camera rests. A moving frame then costs one image transform,
// whatever the number of nodes and whether a GPU or the CPU draws WebGL. Node discs and
// labels grow with the picture during a zoom and take their true size at rest, as a
// map's tiles do.

const REST_MS = 90; // the camera is at rest after this long without a move
const SLOW_MS = 50; // real frames further apart than this while moving are too slow
const SLOW_RUN = 3;

/**
 * Install the preview on a sigma renderer. `big()` says whether the graph is big enough to
 * need it. Smaller graphs are drawn for real on every frame, unless those frames come
 * slower than SLOW_MS apart a few times running (WebGL drawn on the CPU, as on many
 * virtual desktops): the preview then stays on for this renderer.
 * The container gets `data-drawn` (real draws), `data-previewed` (moving frames),
 * `data-moving` ("1" while the picture stands in) and `data-preview` ("on" once used).
 */
export function previewWhileMoving(sigma, container, big) {
  const draw = sigma.render.bind(sigma);
  const canvases = sigma.getCanvases();
  // The mouse layer takes the events: it stays, on top of the picture.
  const layers = Object.entries(canvases)
    .filter(([name]) => name !== "mouse")
    .map(([, canvas]) => canvas);
  const picture = document.createElement("canvas");
  picture.className = "graph-picture";
  picture.setAttribute("aria-hidden", "true");
  Object.assign(picture.style, { position: "absolute", inset: "0", pointerEvents: "none", transformOrigin: "0 0", display: "none" });
  canvases.mouse.before(picture);

  let pictured = null; // the camera state of the picture, or null if there is none
  let showing = false;
  let timer = 0;
  let drawn = 0;
  let previewed = 0;
  let slow = false;
  let slowRun = 0;
  let lastMovingDraw = 0;

  const mouse = sigma.getMouseCaptor();
  const touch = sigma.getTouchCaptor();
  const moving = () =>
    sigma.getCamera().isAnimated() || mouse.isMoving || mouse.draggedEvents > 0 || mouse.currentWheelDirection !== 0 || touch.isMoving;
  const wanted = () => slow || big();

  const show = (on) => {
    if (on === showing) return;
    showing = on;
    picture.style.display = on ? "block" : "none";
    for (const canvas of layers) canvas.style.visibility = on ? "hidden" : "";
  };

  // Copy the layers just drawn into the picture, in the same task as the draw: WebGL
  // buffers are still there until the page is composited.
  const takePicture = () => {
    const first = layers[0];
    if (!first || !first.width || !first.height) return (pictured = null);
    if (picture.width !== first.width || picture.height !== first.height) {
      picture.width = first.width;
      picture.height = first.height;
    }
    const { width, height } = sigma.getDimensions();
    picture.style.width = `${width}px`;
    picture.style.height = `${height}px`;
    const context = picture.getContext("2d");
    context.clearRect(0, 0, picture.width, picture.height);
    for (const canvas of layers) if (canvas.width && canvas.height) context.drawImage(canvas, 0, 0);
    pictured = sigma.getCamera().getState();
  };

  const settle = () => {
    clearTimeout(timer);
    timer = 0;
    draw();
    show(false);
    if (wanted()) takePicture();
    else pictured = null;
    drawn += 1;
    container.dataset.drawn = String(drawn);
    container.dataset.moving = "0";
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => (moving() ? later() : settle()), REST_MS);
  };

  const timeRealFrame = () => {
    const at = performance.now();
    if (moving() && lastMovingDraw && at - lastMovingDraw < 1000) {
      slowRun = at - lastMovingDraw > SLOW_MS ? slowRun + 1 : 0;
      if (slowRun >= SLOW_RUN) slow = true;
    }
    lastMovingDraw = moving() ? at : 0;
  };

  sigma.render = function render() {
    // sigma schedules a frame only when none is pending: this one is no longer pending.
    if (sigma.renderFrame) cancelAnimationFrame(sigma.renderFrame);
    sigma.renderFrame = null;
    const now = sigma.getCamera().getState();
    if (!wanted() || pictured === null || !moving() || now.angle !== pictured.angle) {
      if (!wanted()) timeRealFrame();
      settle();
      return sigma;
    }
    // Where the centre of the picture now falls on screen, and how much it grew.
    const scale = pictured.ratio / now.ratio;
    const centre = sigma.framedGraphToViewport({ x: pictured.x, y: pictured.y }, { cameraState: now });
    const { width, height } = sigma.getDimensions();
    const tx = centre.x - (scale * width) / 2;
    const ty = centre.y - (scale * height) / 2;
    picture.style.transform = `matrix(${scale}, 0, 0, ${scale}, ${tx}, ${ty})`;
    show(true);
    previewed += 1;
    container.dataset.previewed = String(previewed);
    container.dataset.moving = "1";
    container.dataset.preview = "on";
    later();
    return sigma;
  };

  return () => {
    clearTimeout(timer);
    picture.remove();
  };
}
