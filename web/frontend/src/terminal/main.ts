// The merchant terminal: pair once with a terminal key, then vouchers, card charges and takings.
import "../shared/base.css";
import { field, formValues, h, show } from "../shared/dom";
import { plainWords } from "../shared/problems";
import { chargeScreen } from "./cards";
import { api, pair, terminal, unpair } from "./session";
import { takingsScreen } from "./takings";
import { voucherScreen } from "./vouchers";

const screen = document.getElementById("screen") as HTMLElement;
const merchant = document.getElementById("merchant") as HTMLElement;

function pairScreen(message = ""): void {
  const form = h("form", {
    onsubmit: async (event: Event) => {
      event.preventDefault();
      pair((formValues(event.target as HTMLFormElement).key ?? "").trim());
      await start();
    },
  },
    field("Terminal key", h("input", { name: "key", required: true, autocomplete: "off", spellcheck: "false" })),
    h("button", { type: "submit" }, "Pair this device"));
  show(screen, h("h1", {}, "Pair this terminal"),
    h("p", {}, "Paste the key your merchant administrator created for this device."),
    message ? h("p", { class: "error", role: "alert" }, message) : null, form);
}

function menu(): HTMLElement {
  const go = (label: string, open: () => void) => h("button", { type: "button", class: "secondary", onclick: open }, label);
  return h("nav", { "aria-label": "Terminal" },
    go("Voucher", () => { voucherScreen(screen); screen.prepend(menu()); }),
    go("Card charge", () => { chargeScreen(screen); screen.prepend(menu()); }),
    go("Takings", async () => { await takingsScreen(screen); screen.prepend(menu()); }),
    go("Unpair", () => { unpair(); merchant.textContent = ""; pairScreen(); }));
}

async function start(): Promise<void> {
  if (!terminal.key) return pairScreen();
  const { data, error, response } = await api.GET("/api/v1/terminal");
  if (!data) {
    unpair();
    return pairScreen(plainWords(error, response.status));
  }
  terminal.info = data;
  merchant.textContent = `${data.merchant_name} · ${data.label}`;
  voucherScreen(screen);
  screen.prepend(menu());
}

void start();
