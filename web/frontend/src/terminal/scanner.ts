// QR decoding with jsQR, from the camera or from a photo (the file input also opens the camera
// on phones). Decoding only reads text: whether it is a voucher is the server's answer alone.
import jsQR from "jsqr";
import { h } from "../shared/dom";

function decode(source: CanvasImageSource, width: number, height: number): string | null {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) return null;
  context.drawImage(source, 0, 0, width, height);
  const pixels = context.getImageData(0, 0, width, height);
  return jsQR(pixels.data, width, height)?.data ?? null;
}

async function decodeFile(file: File): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  try {
    return decode(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** A camera button, a photo input and a status line; `found` gets the first decoded text. */
export function scannerControls(found: (text: string) => void): HTMLElement {
  const status = h("p", { role: "status" });
  const video = h("video", { playsinline: true, muted: true, hidden: true, "aria-label": "Camera preview" });
  let stream: MediaStream | null = null;
  const stop = () => {
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
  };
  const tick = () => {
    if (!stream) return;
    if (video.readyState >= 2) {
      const text = decode(video, video.videoWidth, video.videoHeight);
      if (text) {
        stop();
        found(text);
        return;
      }
    }
    requestAnimationFrame(tick);
  };
  const camera = h("button", {
    type: "button",
    onclick: async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        video.srcObject = stream;
        video.hidden = false;
        await video.play();
        status.textContent = "Point the camera at the voucher's QR code.";
        tick();
      } catch {
        status.textContent = "The camera is not available: take a photo or type the number.";
      }
    },
  }, "Scan with camera");
  const photo = h("input", { type: "file", accept: "image/*", capture: "environment", id: "qr-photo" });
  photo.addEventListener("change", async () => {
    const file = photo.files?.[0];
    if (!file) return;
    const text = await decodeFile(file).catch(() => null);
    if (text) found(text);
    else status.textContent = "No QR code found in that photo. Try again or type the number.";
  });
  return h("div", {}, camera, h("label", { for: "qr-photo" }, h("span", {}, "Or a photo of the QR code")), photo, video, status);
}
