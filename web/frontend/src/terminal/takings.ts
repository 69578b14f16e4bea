// Today's takings: the server's charges and redemptions for this terminal's merchant, summed for
// the device's local day (every page of it), beside what the platform owes the merchant (its payable balance).
import { money, type Problem } from "../shared/api";
import { h, show } from "../shared/dom";
import { plainWords } from "../shared/problems";
import { api } from "./session";

const today = (iso: string) => new Date(iso).toDateString() === new Date().toDateString();

type Listing<T> = { data?: { results: T[]; next?: string | null }; error?: Problem; response: Response };

/** Every record of today, newest first, page after page until a page reaches an earlier day. */
async function todays<T extends { created_at: string }>(page: (cursor?: string) => Promise<Listing<T>>): Promise<Listing<T>> {
  const found: T[] = [];
  for (let cursor: string | undefined; ;) {
    const answer = await page(cursor);
    if (!answer.data) return answer;
    found.push(...answer.data.results.filter((r) => today(r.created_at)));
    const next = answer.data.next ? new URL(answer.data.next).searchParams.get("cursor") ?? undefined : undefined;
    if (!next || answer.data.results.some((r) => !today(r.created_at))) return { ...answer, data: { results: found } };
    cursor = next;
  }
}

export async function takingsScreen(root: HTMLElement): Promise<void> {
  show(root, h("h1", {}, "Today's takings"), h("p", { role: "status" }, "Loading…"));
  const [balance, charges, redemptions] = await Promise.all([
    api.GET("/api/v1/terminal/balance"),
    todays((cursor) => api.GET("/api/v1/terminal/charges", { params: { query: { page_size: 100, cursor } } })),
    todays((cursor) => api.GET("/api/v1/terminal/voucher-redemptions", { params: { query: { page_size: 100, cursor } } })),
  ]);
  if (!balance.data || !charges.data || !redemptions.data) {
    const failed = [balance, charges, redemptions].find((r) => !r.data);
    return show(root, h("h1", {}, "Today's takings"), h("p", { class: "error", role: "alert" }, plainWords(failed?.error, failed?.response.status ?? 0)));
  }
  const sales = charges.data.results;
  const used = redemptions.data.results.filter((r) => !r.voided_at);
  const net = sales.reduce((sum, c) => sum + c.amount - c.refunded_amount, 0);
  show(root, h("h1", {}, "Today's takings"),
    h("section", { class: "card" },
      h("p", { "data-takings": "cards" }, `Cards: ${sales.length} sales, ${money(net)} after refunds`),
      h("p", { "data-takings": "vouchers" }, `Vouchers: ${used.length} redemptions, ${money(used.reduce((s, r) => s + r.amount, 0))}`),
      h("p", {}, `Owed to ${balance.data.merchant_name} at the next settlement: ${money(balance.data.payable_balance)}`)),
    h("table", {}, h("caption", {}, "Card sales today"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Card"), h("th", { scope: "col" }, "Amount"), h("th", { scope: "col" }, "Refunded"))),
      h("tbody", {}, ...sales.map((c) => h("tr", {}, h("td", {}, new Date(c.created_at).toLocaleTimeString()), h("td", {}, `…${c.card_last4}`),
        h("td", {}, money(c.amount)), h("td", {}, money(c.refunded_amount)))))));
}
