// A touch (or mouse) signature pad. The API wants the drawing itself, not a picture of it:
// strokes of [x, y] points in a width × height box (SignatureInputRequest); the server renders
// and keeps it with the consent record. Pointer events cover fingers, pens and mice alike.
import type { Schemas } from "../shared/api";
import { h } from "../shared/dom";

const WIDTH = 600;
const HEIGHT = 200;

export function signaturePad(): { element: HTMLElement; value: () => Schemas["SignatureInputRequest"] } {
  const canvas = h("canvas", { class: "signature", width: String(WIDTH), height: String(HEIGHT), "aria-label": "Signature pad: draw your signature", role: "img" });
  const context = canvas.getContext("2d");
  const strokes: number[][][] = [];
  let current: number[][] | null = null;
  const point = (event: PointerEvent): number[] => {
    const box = canvas.getBoundingClientRect();
    return [Math.round(((event.clientX - box.left) / box.width) * WIDTH), Math.round(((event.clientY - box.top) / box.height) * HEIGHT)];
  };
  const redraw = () => {
    if (!context) return;
    context.clearRect(0, 0, WIDTH, HEIGHT);
    context.lineWidth = 3;
    context.lineCap = "round";
    context.strokeStyle = "#1a1a1a";
    for (const stroke of strokes) {
      context.beginPath();
      stroke.forEach(([x = 0, y = 0], i) => (i ? context.lineTo(x, y) : context.moveTo(x, y)));
      context.stroke();
    }
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    current.push(point(event));
    redraw();
  });
  const end = () => (current = null);
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  const clear = h("button", { type: "button", class: "secondary", onclick: () => { strokes.length = 0; redraw(); } }, "Clear signature");
  return {
    element: h("div", {}, canvas, clear),
    value: () => ({ width: WIDTH, height: HEIGHT, strokes: strokes.filter((s) => s.length > 1) }),
  };
}
