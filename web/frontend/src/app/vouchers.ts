// Vouchers with their live QR. The image is the server's (qr.png), fetched with the bearer
// token and shown from a blob: URL; it is fetched again at `refresh_at`, so a screenshot goes
// stale within the code's window (the terminal then gets voucher_code_expired).
import { money } from "../shared/api";
import { h, show } from "../shared/dom";
import { api } from "./session";

let timer: number | undefined;

export async function vouchersScreen(root: HTMLElement, nav: HTMLElement): Promise<void> {
  window.clearTimeout(timer);
  const { data } = await api.GET("/api/v1/vouchers");
  const list = (data?.results ?? []).filter((v) => v.remaining_value > 0);
  show(root, nav, h("h1", {}, "Vouchers"), ...list.map((v) => {
    const image = h("img", { class: "qr", alt: `QR code of voucher ${v.number}` });
    const section = h("section", { class: "card", "data-voucher": v.number },
      h("h2", {}, `${v.program.name}`), h("p", {}, `Voucher ${v.number}: ${money(v.remaining_value)} left, expires ${v.expires_on}`), image);
    void showCode(v.id, image);
    return section;
  }), list.length ? null : h("p", {}, "No vouchers to spend."));
}

async function showCode(voucherId: number, image: HTMLImageElement): Promise<void> {
  const code = await api.GET("/api/v1/vouchers/{voucher_id}/code", { params: { path: { voucher_id: voucherId } } });
  const png = await api.GET("/api/v1/vouchers/{voucher_id}/qr.png", { params: { path: { voucher_id: voucherId } }, parseAs: "blob" });
  if (!png.data || !image.isConnected) return;
  if (image.src) URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(png.data);
  image.dataset.loaded = "true";
  const refreshAt = code.data?.refresh_at ? Date.parse(code.data.refresh_at) : NaN;
  if (Number.isFinite(refreshAt)) timer = window.setTimeout(() => void showCode(voucherId, image), Math.max(refreshAt - Date.now(), 1000));
}
