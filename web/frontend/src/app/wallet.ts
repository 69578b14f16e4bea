// The wallet: balance and a top-up. The demo's fake gateway stands in for Stripe: the server
// quotes the fee, creates the top-up, and only its signed webhook credits the wallet.
import { cents, Intent, money } from "../shared/api";
import { field, formValues, h, show, submitted } from "../shared/dom";
import { api } from "./session";
import { said } from "./ui";

export async function walletScreen(root: HTMLElement, nav: HTMLElement): Promise<void> {
  const { data, error, response } = await api.GET("/api/v1/wallet");
  const result = h("div", { "aria-live": "polite" });
  if (!data) said(result, null, error, response.status);
  const topUp = new Intent();
  const form = h("form", {
    onsubmit: submitted(result, async (submittedForm) => {
      const amount = cents(formValues(submittedForm).amount ?? "");
      if (amount === null) return said(result, null, { code: "amount_out_of_range", detail: "Type dollars, e.g. 20.00", status: 422, title: "", type: "" });
      const created = await api.POST("/api/v1/wallet/topups", { params: { header: { "Idempotency-Key": topUp.key({ amount }) } }, body: { amount } });
      topUp.answered(created.response, created.error);
      if (!created.data) return said(result, null, created.error, created.response.status);
      // The demo gateway's "pay" button: in production Stripe.js confirms the payment here instead.
      const paid = await api.POST("/api/v1/wallet/topups/{topup_id}/simulate", {
        params: { path: { topup_id: created.data.id } }, body: { outcome: "succeeded" } });
      if (!paid.data) return said(result, null, paid.error, paid.response.status);
      await walletScreen(root, nav);
    }),
  },
    field("Top-up amount ($)", h("input", { name: "amount", inputmode: "decimal", required: true })),
    h("button", { type: "submit" }, "Top up (demo card)"));
  show(root, nav, h("h1", {}, "Wallet"),
    h("section", { class: "card" },
      h("p", { "data-wallet": "available" }, `Available: ${data ? money(data.available, data.currency) : "unknown"}`),
      data && data.held ? h("p", {}, `Held for pre-orders: ${money(data.held, data.currency)}`) : null),
    h("section", { class: "card" }, h("h2", {}, "Top up"), form, result));
}
