// Canteen pre-orders by day and service period. Prices, what is offered, the cut-off and the
// allergen refusals are the server's; the screen only explains them. Each period shows the
// child's live order for that day (with any allergen alert the kitchen raised, and a cancel button
// while ordering is open) or the menu to order from.
import { Intent, money, type Schemas } from "../shared/api";
import { field, h, oneAtATime, show, submitted } from "../shared/dom";
import { api } from "./session";
import { said } from "./ui";

type Menu = Schemas["StudentMenuOutput"];
type Order = Schemas["OrderOutput"];
type Student = Schemas["StudentOutput"];

async function menus(studentId: number, date: string, result: HTMLElement): Promise<Menu[]> {
  const path = { student_id: studentId };
  const first = await api.GET("/api/v1/students/{student_id}/menu", { params: { path, query: { date } } });
  if (!first.data) {
    if (first.error?.code !== "canteen_not_configured") said(result, null, first.error, first.response.status);
    return [];
  }
  const others = first.data.periods.filter((p) => p.id !== first.data.period_id);
  const more = await Promise.all(others.map((p) => api.GET("/api/v1/students/{student_id}/menu", { params: { path, query: { date, period_id: p.id } } })));
  const byId = new Map([first.data, ...more.flatMap((r) => (r.data ? [r.data] : []))].map((m) => [m.period_id, m]));
  return first.data.periods.flatMap((p) => byId.get(p.id) ?? []); // in the day's order
}

async function liveOrders(studentId: number, date: string): Promise<Map<number, Order>> {
  const { data } = await api.GET("/api/v1/students/{student_id}/orders", { params: { path: { student_id: studentId } } });
  const live = (data?.results ?? []).filter((o) => o.service_date === date && o.status !== "cancelled" && o.status !== "refunded");
  return new Map(live.map((o) => [o.period_id, o]));
}

export async function canteenScreen(root: HTMLElement, nav: HTMLElement, student: Student, tabs: HTMLElement, date?: string, done?: string): Promise<void> {
  // Tomorrow in the school's own time zone (the day its cut-offs are counted in), not the phone's.
  const zone = student.school.time_zone ?? "Australia/Sydney";
  const day = date ?? new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(Date.now() + 86_400_000);
  const again = (message: string) => canteenScreen(root, nav, student, tabs, day, message);
  const picker = h("input", { type: "date", name: "date", value: day });
  picker.addEventListener("change", () => { if (picker.value && picker.value !== day) void canteenScreen(root, nav, student, tabs, picker.value); });
  const result = h("div", { "aria-live": "polite" });
  if (done) said(result, done);
  const [list, orders] = await Promise.all([menus(student.id, day, result), liveOrders(student.id, day)]);
  show(root, nav, tabs, h("h1", { "data-menu-day": day }, `Canteen for ${student.first_name}`), field("Day", picker), result,
    ...list.map((menu) => {
      const order = orders.get(menu.period_id);
      return order ? orderSection(menu, order, result, again) : periodSection(student, menu, result, again);
    }),
    list.length || result.querySelector(".error") ? null : h("p", {}, "No canteen service that day."));
}

function heading(menu: Menu): HTMLElement {
  return h("h2", {}, `${menu.period} (order by ${new Date(menu.cutoff_at).toLocaleString()})`);
}

type Again = (message: string) => Promise<void>;

function orderSection(menu: Menu, order: Order, result: HTMLElement, again: Again): HTMLElement {
  const cancel: HTMLButtonElement = h("button", { type: "button", class: "secondary", onclick: () => void oneAtATime(cancel, result, async () => {
    const cancelled = await api.POST("/api/v1/canteen/orders/{order_id}/cancel", { params: { path: { order_id: order.id } } });
    if (!cancelled.data) return said(result, null, cancelled.error, cancelled.response.status);
    await again(`Cancelled: ${cancelled.data.period} on ${cancelled.data.service_date}; ${money(cancelled.data.total)} released to your wallet.`);
  }) }, "Cancel this order");
  return h("section", { class: "card", "data-period": menu.period, "data-order": order.status }, heading(menu),
    h("p", {}, `Ordered (receipt ${order.receipt_number}, ${order.status}): ${money(order.total)}`),
    h("ul", {}, ...order.lines.map((line) => h("li", {}, `${line.quantity} × ${line.name} · ${money(line.line_total)}`))),
    // An allergen declared after the order was placed: the kitchen will not serve those lines.
    ...order.allergen_alerts.map((alert) => h("p", { class: "error", role: "alert" },
      `${alert.name} contains ${alert.allergens.join(", ")}, now declared for this child: the canteen will not serve it. Cancel or change the order.`)),
    menu.ordering_open && order.status === "placed" ? cancel : null);
}

function periodSection(student: Student, menu: Menu, result: HTMLElement, again: Again): HTMLElement {
  const rows = menu.items.map((item) => h("li", { "data-item": item.name },
    h("label", {}, h("input", { type: "checkbox", name: "item", value: String(item.id) }), ` ${item.name} · ${money(item.price)}`),
    item.allergen_conflicts.length ? h("p", { class: "error" }, `Contains ${item.allergen_conflicts.join(", ")}: ${student.first_name} is allergic. The canteen will refuse this order.`) : null,
    item.banned ? h("p", { class: "error" }, "You banned this item.") : null));
  const placing = new Intent();
  const form = h("form", {
    onsubmit: submitted(result, async (submittedForm) => {
      const chosen = [...submittedForm.querySelectorAll<HTMLInputElement>("input[name=item]:checked")];
      const body = { service_date: menu.service_date, period_id: menu.period_id, note: "", items: chosen.map((c) => ({ item_id: Number(c.value), quantity: 1 })) };
      const placed = await api.POST("/api/v1/students/{student_id}/orders", {
        params: { path: { student_id: student.id }, header: { "Idempotency-Key": placing.key(body) } }, body });
      placing.answered(placed.response, placed.error);
      if (!placed.data) return said(result, null, placed.error, placed.response.status);
      await again(`Ordered: ${placed.data.period} on ${placed.data.service_date}, ${money(placed.data.total)} (receipt ${placed.data.receipt_number}, ${placed.data.status}).`);
    }),
  }, h("ul", {}, ...rows), h("button", { type: "submit", disabled: !menu.ordering_open }, `Order ${menu.period}`));
  return h("section", { class: "card", "data-period": menu.period }, heading(menu),
    menu.ordering_open ? null : h("p", {}, "Ordering for this service is closed."), form);
}
