// Student cards: charge by the card's identifier (typed or from a reader acting as a keyboard),
// refund a charge. The categories offered are the merchant's own registration, from the server.
import { cents, Intent, money, type Schemas } from "../shared/api";
import { field, formValues, h, oneAtATime, show, submitted } from "../shared/dom";
import { approved, declined } from "./outcome";
import { api, terminal } from "./session";

export function chargeScreen(root: HTMLElement): void {
  const result = h("div", { "aria-live": "assertive" });
  const categories = terminal.info?.merchant_categories ?? [];
  const sale = new Intent(); // one per sale: a retry after no answer replays it, the next sale is new
  const form = h("form", {
    onsubmit: submitted(result, async (submittedForm) => {
      const values = formValues(submittedForm);
      const amount = cents(values.amount ?? "");
      if (amount === null) return void result.replaceChildren(h("p", { class: "error", role: "alert" }, "Type the amount in dollars, e.g. 4.50"));
      await charge(result, sale, { card_identifier: (values.card ?? "").trim(), amount, description: values.description ?? "",
        categories: values.category ? [values.category as Schemas["MerchantCategoryEnum"]] : undefined });
    }),
  },
    field("Card", h("input", { name: "card", required: true, autocomplete: "off" })),
    field("Amount ($)", h("input", { name: "amount", inputmode: "decimal", required: true, autocomplete: "off" })),
    categories.length > 1 ? field("Category", h("select", { name: "category" }, ...categories.map((c) => h("option", { value: c }, c)))) : null,
    field("What was bought (optional)", h("input", { name: "description", autocomplete: "off" })),
    h("button", { type: "submit" }, "Charge card"));
  show(root, h("h1", {}, "Charge a student card"), h("section", { class: "card" }, form), result);
}

async function charge(result: HTMLElement, sale: Intent, body: Schemas["CardChargeInputRequest"]) {
  result.replaceChildren(h("p", { class: "outcome pending" }, "Charging…"));
  const { data, error, response } = await api.POST("/api/v1/terminal/charges", {
    params: { header: { "Idempotency-Key": sale.key(body) } },
    body,
  });
  sale.answered(response, error);
  if (!data) return void result.replaceChildren(declined("Declined", error, response.status));
  const refunding = new Intent();
  const refund: HTMLButtonElement = h("button", { type: "button", class: "secondary",
    onclick: () => void oneAtATime(refund, result, () => refundIt(result, refunding, data.charge_id, data.amount)) }, "Refund this charge");
  result.replaceChildren(
    approved("Approved", money(data.amount), `${data.student.first_name} ${data.student.last_initial}. (year ${data.student.year_level})`,
      `${money(data.remaining_balance)} left on the card`, `Charge #${data.charge_id}`),
    refund);
}

async function refundIt(result: HTMLElement, refunding: Intent, chargeId: number, amount: number) {
  const { data, error, response } = await api.POST("/api/v1/terminal/charges/{charge_id}/refunds", {
    params: { path: { charge_id: chargeId }, header: { "Idempotency-Key": refunding.key({ amount }) } },
    body: { amount },
  });
  refunding.answered(response, error);
  result.replaceChildren(data ? approved("Refunded", money(data.amount), `Charge #${data.charge_id} refunded to the card.`)
    : declined("Not refunded", error, response.status));
}
