// Vouchers with their live QR. The image is the server's (qr.png), fetched with the bearer
// token and shown from a blob: URL; it is fetched again at `refresh_at`, so a screenshot goes
// stale within the code's window (the terminal then gets voucher_code_expired).
import { money } from "../shared/api";
import { h, show } from "../shared/dom";
import { api } from "./session";
import { said } from "./ui";

let timers: number[] = [];

export async function vouchersScreen(root: HTMLElement, nav: HTMLElement): Promise<void> {
  timers.forEach((timer) => window.clearTimeout(timer));
  timers = [];
  const { data, error, response } = await api.GET("/api/v1/vouchers");
  const result = h("div", {});
  if (!data) said(result, null, error, response.status);
  const list = (data?.results ?? []).filter((v) => v.remaining_value > 0);
  show(root, nav, h("h1", {}, "Vouchers"), result, ...list.map((v) => {
    const image = h("img", { class: "qr", alt: `QR code of voucher ${v.number}` });
    const status = h("p", { role: "status" });
    const section = h("section", { class: "card", "data-voucher": v.number },
      h("h2", {}, `${v.program.name}`), h("p", {}, `Voucher ${v.number}: ${money(v.remaining_value)} left, expires ${v.expires_on}`), image, status);
    void showCode(v.id, image, status);
    return section;
  }), list.length || !data ? null : h("p", {}, "No vouchers to spend."));
}

async function showCode(voucherId: number, image: HTMLImageElement, status: HTMLElement): Promise<void> {
  const path = { voucher_id: voucherId };
  let refreshAt = NaN;
  let loaded = false;
  try {
    const code = await api.GET("/api/v1/vouchers/{voucher_id}/code", { params: { path } });
    const png = await api.GET("/api/v1/vouchers/{voucher_id}/qr.png", { params: { path }, parseAs: "blob" });
    if (!image.isConnected) return;
    if (png.data && code.data) {
      if (image.src) URL.revokeObjectURL(image.src);
      image.src = URL.createObjectURL(png.data);
      image.hidden = false;
      image.dataset.loaded = "true";
      status.textContent = "";
      loaded = true;
      if (code.data.refresh_at) refreshAt = Date.parse(code.data.refresh_at);
    }
  } catch {
    if (!image.isConnected) return; // no answer (offline): said below, then tried again
  }
  if (!loaded) {
    // A code that could not be refreshed goes stale at the counter: hide it rather than show an old one.
    image.hidden = true;
    status.textContent = "The live code could not be loaded (is the phone offline?). Trying again…";
  }
  if (loaded && !Number.isFinite(refreshAt)) return; // a code that does not rotate
  timers.push(window.setTimeout(() => void showCode(voucherId, image, status), loaded ? Math.max(refreshAt - Date.now(), 1000) : 5000));
}
