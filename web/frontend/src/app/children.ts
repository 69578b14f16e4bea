// A child's card: balance, moving money onto it, caps, category bans, freeze. Every number
// shown after a change is the server's answer, re-read, not a local sum.
import { cents, Intent, money, type Schemas } from "../shared/api";
import { field, formValues, h, oneAtATime, show, submitted } from "../shared/dom";
import { api } from "./session";
import { said } from "./ui";

const CATEGORIES: Schemas["MerchantCategoryEnum"][] = ["canteen", "uniform_shop", "sport", "creative", "music", "dining", "entertainment", "other"];
const capCents = (text: string | undefined) => (text?.trim() ? cents(text) : null);

export async function childrenScreen(root: HTMLElement, nav: HTMLElement, open: (s: Schemas["StudentOutput"]) => void): Promise<void> {
  const { data, error, response } = await api.GET("/api/v1/students");
  const result = h("div", {});
  if (!data) said(result, null, error, response.status);
  show(root, nav, h("h1", {}, "Children"), result,
    h("ul", {}, ...(data?.results ?? []).map((s) => h("li", {},
      h("button", { type: "button", class: "secondary", onclick: () => open(s) }, `${s.first_name} ${s.last_name} · ${s.school.name}`)))));
}

export async function cardScreen(root: HTMLElement, nav: HTMLElement, student: Schemas["StudentOutput"], tabs: HTMLElement): Promise<void> {
  const path = { student_id: student.id };
  const { data: card, error, response } = await api.GET("/api/v1/students/{student_id}/card", { params: { path } });
  const result = h("div", { "aria-live": "polite" });
  const again = () => cardScreen(root, nav, student, tabs);
  if (!card) {
    show(root, nav, tabs, h("h1", {}, `${student.first_name}'s card`), result);
    return said(result, null, error, response.status);
  }
  const funding = new Intent();
  const fund = h("form", {
    onsubmit: submitted(result, async (form) => {
      const amount = cents(formValues(form).amount ?? "") ?? 0;
      const moved = await api.POST("/api/v1/students/{student_id}/card/fund", { params: { path, header: { "Idempotency-Key": funding.key({ amount }) } }, body: { amount } });
      funding.answered(moved.response, moved.error);
      if (!moved.data) return said(result, null, moved.error, moved.response.status);
      await again();
    }),
  }, field("Move from wallet to card ($)", h("input", { name: "amount", inputmode: "decimal", required: true })), h("button", { type: "submit" }, "Fund card"));
  const dollars = (value: number | null) => (value === null ? "" : (value / 100).toFixed(2));
  const controls = h("form", {
    onsubmit: submitted(result, async (form) => {
      const values = formValues(form);
      const banned = [...form.querySelectorAll<HTMLInputElement>("input[name=ban]:checked")].map((i) => i.value as Schemas["MerchantCategoryEnum"]);
      const saved = await api.PATCH("/api/v1/students/{student_id}/card/controls", {
        params: { path }, body: { daily_cap: capCents(values.daily_cap), weekly_cap: capCents(values.weekly_cap), banned_categories: banned } });
      if (!saved.data) return said(result, null, saved.error, saved.response.status);
      await again();
    }),
  },
    field("Daily cap ($, empty for none)", h("input", { name: "daily_cap", inputmode: "decimal", value: dollars(card.controls.daily_cap) })),
    field("Weekly cap ($, empty for none)", h("input", { name: "weekly_cap", inputmode: "decimal", value: dollars(card.controls.weekly_cap) })),
    h("fieldset", {}, h("legend", {}, "Banned categories"), ...CATEGORIES.map((c) => h("label", {},
      h("input", { type: "checkbox", name: "ban", value: c, checked: card.controls.banned_categories.includes(c) }), ` ${c.replace("_", " ")}`))),
    h("button", { type: "submit" }, "Save limits"));
  const frozen = card.card?.status === "frozen";
  const toggle: HTMLButtonElement = h("button", { type: "button", class: "secondary", onclick: () => void oneAtATime(toggle, result, async () => {
    const answer = frozen ? await api.POST("/api/v1/students/{student_id}/card/unfreeze", { params: { path } })
      : await api.POST("/api/v1/students/{student_id}/card/freeze", { params: { path } });
    if (!answer.data) return said(result, null, answer.error, answer.response.status);
    await again();
  }) }, frozen ? "Unfreeze card" : "Freeze card");
  show(root, nav, tabs, h("h1", {}, `${student.first_name}'s card`),
    h("section", { class: "card" },
      h("p", { "data-card": "balance" }, `Card balance: ${money(card.available, card.currency)}`),
      h("p", {}, card.card ? `Card …${card.card.last4}: ${card.card.status}` : "No card issued yet"),
      h("p", {}, `Spent today ${money(card.spent_today)}, this week ${money(card.spent_this_week)}`),
      h("p", { "data-card": "caps" }, `Daily cap: ${card.controls.daily_cap === null ? "none" : money(card.controls.daily_cap)} · Weekly cap: ${card.controls.weekly_cap === null ? "none" : money(card.controls.weekly_cap)}`),
      card.card ? toggle : null),
    result,
    h("section", { class: "card" }, h("h2", {}, "Fund"), fund),
    h("section", { class: "card" }, h("h2", {}, "Limits and bans"), controls));
}
