import { h, show } from "../shared/dom";
import { api } from "./session";

export async function announcementsScreen(root: HTMLElement, nav: HTMLElement): Promise<void> {
  const { data } = await api.GET("/api/v1/announcements");
  show(root, nav, h("h1", {}, "Announcements"), ...(data?.results ?? []).map((a) => h("article", { class: "card" },
    h("h2", {}, a.title), h("p", {}, a.body), h("p", {}, `${a.posted_by_name}, ${new Date(a.posted_at).toLocaleDateString()}`))),
    data?.results.length ? null : h("p", {}, "Nothing new."));
}
