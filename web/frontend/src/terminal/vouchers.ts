// Voucher desk: scan or type, preview (writes nothing), redeem an amount, void within the window.
import { cents, Intent, money, type Schemas } from "../shared/api";
import { field, formValues, h, oneAtATime, show, submitted } from "../shared/dom";
import { approved, declined } from "./outcome";
import { scannerControls } from "./scanner";
import { api, terminal } from "./session";

type Credential = Schemas["VoucherCredentialInputRequest"];

export function voucherScreen(root: HTMLElement): void {
  const result = h("div", { "aria-live": "assertive" });
  const typed = h("form", {
    onsubmit: submitted(result, async (form) => {
      const values = formValues(form);
      await preview(result, { number: values.number ?? "", date_of_birth: values.date_of_birth ?? "" });
    }),
  },
    field("Voucher number", h("input", { name: "number", required: true, autocomplete: "off" })),
    field("Child's date of birth", h("input", { name: "date_of_birth", type: "date", required: true })),
    h("button", { type: "submit" }, "Check voucher"));
  show(root, h("h1", {}, "Redeem a voucher"),
    h("section", { class: "card" }, h("h2", {}, "Scan"), scannerControls((text) => void oneAtATime(result, result, () => preview(result, { qr: text })))),
    h("section", { class: "card" }, h("h2", {}, "Or type it"), typed),
    result);
}

async function preview(result: HTMLElement, credential: Credential): Promise<void> {
  result.replaceChildren(h("p", { class: "outcome pending" }, "Checking with the server…"));
  const { data, error, response } = await api.POST("/api/v1/terminal/vouchers/preview", { body: credential });
  if (!data) return void result.replaceChildren(declined("Voucher refused", error, response.status));
  if (!data.can_redeem) {
    const problem = { code: data.refusal_code ?? "", detail: data.refusal_detail ?? "", status: 422, title: "", type: "" };
    return void result.replaceChildren(declined(`Voucher ${data.number} cannot be used`, problem, 422));
  }
  const categories = data.categories.filter((c) => terminal.info?.merchant_categories.includes(c));
  const redemption = new Intent();
  const form = h("form", {
    onsubmit: submitted(result, async (submittedForm) => {
      const values = formValues(submittedForm);
      const amount = cents(values.amount ?? "");
      if (amount === null) return void result.append(h("p", { class: "error", role: "alert" }, "Type the amount in dollars, e.g. 25.00"));
      await redeem(result, redemption, credential, amount, values.category ?? "", data);
    }),
  },
    field("Amount to redeem ($)", h("input", { name: "amount", inputmode: "decimal", required: true, autocomplete: "off" })),
    field("Category", h("select", { name: "category" }, ...categories.map((c) => h("option", { value: c }, c.replace("_", " "))))),
    h("button", { type: "submit" }, "Redeem"));
  result.replaceChildren(h("section", { class: "card", "data-preview": data.number },
    h("h2", {}, `${data.program.name}: ${data.beneficiary_first_name}`),
    h("p", {}, `Voucher ${data.number}, ${money(data.remaining_value)} left of ${money(data.face_value)}, expires ${data.expires_on}.`),
    h("p", {}, data.use_rule === "single_use" ? "Single use: anything not spent now is forfeited." : "Partial use: the rest stays on the voucher."),
    form));
}

async function redeem(result: HTMLElement, redemption: Intent, credential: Credential, amount: number, category: string, voucher: Schemas["VoucherPreviewOutput"]) {
  const body: Schemas["VoucherRedeemInputRequest"] = { vouchers: [credential], amount, description: "Terminal redemption" };
  if (category) body.category = category as Schemas["MerchantCategoryEnum"];
  result.replaceChildren(h("p", { class: "outcome pending" }, "Redeeming…"));
  const { data, error, response } = await api.POST("/api/v1/terminal/voucher-redemptions", {
    params: { header: { "Idempotency-Key": redemption.key(body) } },
    body,
  });
  redemption.answered(response, error);
  if (!data) return void result.replaceChildren(declined("Not redeemed", error, response.status));
  const voiding = new Intent();
  const voidButton: HTMLButtonElement = h("button", { type: "button", class: "secondary",
    onclick: () => void oneAtATime(voidButton, result, () => voidIt(result, voiding, data.redemption_id)) }, "Void this redemption");
  result.replaceChildren(
    approved("Redeemed", money(data.amount), `${voucher.program.name}, voucher ${voucher.number}`, `Redemption #${data.redemption_id}`,
      data.void_until ? `Can be voided until ${new Date(data.void_until).toLocaleTimeString()}` : ""),
    voidButton);
}

async function voidIt(result: HTMLElement, voiding: Intent, redemptionId: number) {
  const { data, error, response } = await api.POST("/api/v1/terminal/voucher-redemptions/{redemption_id}/void", {
    params: { path: { redemption_id: redemptionId }, header: { "Idempotency-Key": voiding.key() } },
  });
  voiding.answered(response, error);
  result.replaceChildren(data ? approved("Voided", money(data.amount), `Redemption #${data.redemption_id} is cancelled; the value is back on the voucher.`)
    : declined("Not voided", error, response.status));
}
