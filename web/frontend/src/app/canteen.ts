// Canteen pre-orders by day and service period. Prices, what is offered, the cut-off and the
// allergen refusals are the server's; the screen only explains them. Guardians cannot list a
// school's periods (that operation is staff-only), so the other periods are found from the
// default menu's items (`period_ids`) and named by asking for their own menus.
import { idempotencyKey, money, type Schemas } from "../shared/api";
import { field, h, show } from "../shared/dom";
import { api } from "./session";
import { said } from "./ui";

type Menu = Schemas["StudentMenuOutput"];

async function menus(studentId: number, date: string): Promise<Menu[]> {
  const first = await api.GET("/api/v1/students/{student_id}/menu", { params: { path: { student_id: studentId }, query: { date } } });
  if (!first.data) return [];
  const others = [...new Set(first.data.items.flatMap((i) => i.period_ids))].filter((id) => id !== first.data.period_id);
  const more = await Promise.all(others.map((period_id) =>
    api.GET("/api/v1/students/{student_id}/menu", { params: { path: { student_id: studentId }, query: { date, period_id } } })));
  return [first.data, ...more.flatMap((r) => (r.data ? [r.data] : []))];
}

export async function canteenScreen(root: HTMLElement, nav: HTMLElement, student: Schemas["StudentOutput"], tabs: HTMLElement, date?: string): Promise<void> {
  // Tomorrow in the school's own time zone (the day its cut-offs are counted in), not the phone's.
  const zone = student.school.time_zone ?? "Australia/Sydney";
  const day = date ?? new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(Date.now() + 86_400_000);
  const picker = h("input", { type: "date", name: "date", value: day });
  picker.addEventListener("change", () => { if (picker.value && picker.value !== day) void canteenScreen(root, nav, student, tabs, picker.value); });
  const result = h("div", { "aria-live": "polite" });
  const list = await menus(student.id, day);
  show(root, nav, tabs, h("h1", { "data-menu-day": day }, `Canteen for ${student.first_name}`), field("Day", picker), result,
    ...list.map((menu) => periodSection(student, menu, result)),
    list.length ? null : h("p", {}, "No canteen service that day."));
}

function periodSection(student: Schemas["StudentOutput"], menu: Menu, result: HTMLElement): HTMLElement {
  const rows = menu.items.map((item) => h("li", { "data-item": item.name },
    h("label", {}, h("input", { type: "checkbox", name: "item", value: String(item.id) }), ` ${item.name} · ${money(item.price)}`),
    item.allergen_conflicts.length ? h("p", { class: "error" }, `Contains ${item.allergen_conflicts.join(", ")}: ${student.first_name} is allergic. The canteen will refuse this order.`) : null,
    item.banned ? h("p", { class: "error" }, "You banned this item.") : null));
  const form = h("form", {
    onsubmit: async (event: Event) => {
      event.preventDefault();
      const chosen = [...(event.target as HTMLFormElement).querySelectorAll<HTMLInputElement>("input[name=item]:checked")];
      const placed = await api.POST("/api/v1/students/{student_id}/orders", {
        params: { path: { student_id: student.id }, header: { "Idempotency-Key": idempotencyKey() } },
        body: { service_date: menu.service_date, period_id: menu.period_id, note: "", items: chosen.map((c) => ({ item_id: Number(c.value), quantity: 1 })) },
      });
      if (!placed.data) return said(result, null, placed.error, placed.response.status);
      said(result, `Ordered: ${placed.data.period} on ${placed.data.service_date}, ${money(placed.data.total)} (receipt ${placed.data.receipt_number}, ${placed.data.status}).`);
    },
  }, h("ul", {}, ...rows), h("button", { type: "submit", disabled: !menu.ordering_open }, `Order ${menu.period}`));
  return h("section", { class: "card", "data-period": menu.period },
    h("h2", {}, `${menu.period} (order by ${new Date(menu.cutoff_at).toLocaleString()})`),
    menu.ordering_open ? null : h("p", {}, "Ordering for this service is closed."), form);
}
