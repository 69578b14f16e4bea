// The guardian app: sign in, then the wallet, each child (card, canteen, events), vouchers and
// announcements. Screens re-read the server after every change; nothing is decided here.
import "../shared/base.css";
import type { Schemas } from "../shared/api";
import { field, formValues, h, show } from "../shared/dom";
import { plainWords } from "../shared/problems";
import { announcementsScreen } from "./announcements";
import { canteenScreen } from "./canteen";
import { cardScreen, childrenScreen } from "./children";
import { eventsScreen } from "./events";
import { api, signedIn, signIn, signOut } from "./session";
import { vouchersScreen } from "./vouchers";
import { walletScreen } from "./wallet";

const screen = document.getElementById("screen") as HTMLElement;
const who = document.getElementById("who") as HTMLElement;

function signInScreen(message = ""): void {
  const form = h("form", {
    onsubmit: async (event: Event) => {
      event.preventDefault();
      const values = formValues(event.target as HTMLFormElement);
      const { data, error, response } = await signIn(values.email ?? "", values.password ?? "");
      if (!data) return signInScreen(plainWords(error, response.status));
      await home();
    },
  },
    field("Email", h("input", { name: "email", type: "email", required: true, autocomplete: "username" })),
    field("Password", h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" })),
    h("button", { type: "submit" }, "Sign in"));
  show(screen, h("h1", {}, "Sign in"), message ? h("p", { class: "error", role: "alert" }, message) : null, form);
}

function nav(): HTMLElement {
  const go = (label: string, open: () => unknown) => h("button", { type: "button", class: "secondary", onclick: () => void open() }, label);
  return h("nav", { "aria-label": "Main" },
    go("Wallet", () => walletScreen(screen, nav())),
    go("Children", () => childrenScreen(screen, nav(), openChild)),
    go("Vouchers", () => vouchersScreen(screen, nav())),
    go("Announcements", () => announcementsScreen(screen, nav())),
    go("Sign out", () => { signOut(); who.textContent = ""; signInScreen(); }));
}

function openChild(student: Schemas["StudentOutput"]): void {
  const tabs = (): HTMLElement => h("nav", { "aria-label": `${student.first_name}` },
    h("button", { type: "button", class: "secondary", onclick: () => void cardScreen(screen, nav(), student, tabs()) }, "Card"),
    h("button", { type: "button", class: "secondary", onclick: () => void canteenScreen(screen, nav(), student, tabs()) }, "Canteen"),
    h("button", { type: "button", class: "secondary", onclick: () => void eventsScreen(screen, nav(), student, tabs()) }, "Events"));
  void cardScreen(screen, nav(), student, tabs());
}

async function home(): Promise<void> {
  if (!signedIn()) return signInScreen();
  const me = await api.GET("/api/v1/me");
  if (!me.data) {
    signOut();
    return signInScreen();
  }
  who.textContent = me.data.email;
  await walletScreen(screen, nav());
}

void home();
