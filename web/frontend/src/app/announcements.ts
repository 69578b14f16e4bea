// Announcements reach guardians in their notification feed (GET /announcements is the staff
// view of what was posted), so this screen is the feed: announcements first, then other notices.
import { h, show } from "../shared/dom";
import { api } from "./session";
import { said } from "./ui";

export async function announcementsScreen(root: HTMLElement, nav: HTMLElement): Promise<void> {
  const { data, error, response } = await api.GET("/api/v1/notifications");
  const result = h("div", {});
  if (!data) said(result, null, error, response.status);
  const feed = [...(data?.results ?? [])].sort((a, b) => Number(b.kind === "announcement") - Number(a.kind === "announcement"));
  show(root, nav, h("h1", {}, "Announcements"), result, ...feed.map((n) => h("article", { class: "card", "data-kind": n.kind },
    h("h2", {}, n.title), h("p", {}, n.body), h("p", {}, new Date(n.created_at).toLocaleDateString("en-AU")))),
    data && !feed.length ? h("p", {}, "Nothing new.") : null);
  if (feed.some((n) => !n.read_at)) void api.POST("/api/v1/notifications/read", { body: {} });
}
