// Drives the guardian app and the merchant terminal in Chromium with playwright-core, as a person
// would: labels, buttons, a mouse stroke on the signature pad, a QR image fed to the scanner.
// Called by test_journeys.py with one JSON argument; prints one JSON object of what the screens
// showed, each main screen's axe-core violations and any CSP violation or page error. The Python
// side asserts those AND the server's state.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const config = JSON.parse(process.argv[2]);
const require = createRequire(join(config.modules, "noop.js"));
const { chromium } = require("playwright-core");
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// The flags python.md asks for; Playwright adds --headless and a fresh, empty --user-data-dir.
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const out = { screens: {}, axe: {}, problems: [] };
const pages = [];

async function newPage(browser, viewport) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: "en-AU", timezoneId: "Australia/Sydney" });
  const page = await context.newPage();
  pages.push(page);
  page.setDefaultTimeout(15000);
  // A refused request is logged by Chromium as "Failed to load resource": those are the refusals
  // the journeys provoke on purpose. Anything else logged as an error (a CSP refusal included) counts.
  page.on("console", (m) => {
    if ((m.type() === "error" && !m.text().startsWith("Failed to load resource")) || /Content Security Policy/i.test(m.text())) out.problems.push(m.text());
  });
  page.on("pageerror", (e) => out.problems.push(String(e)));
  return page;
}

/** axe-core (injected over CDP, so the page's CSP stays as served) and a screenshot. */
async function check(page, name) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () =>
    (await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] })).violations
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) })));
  out.axe[name] = violations;
  if (config.shots) await page.screenshot({ path: join(config.shots, `${name}.png`), fullPage: true });
}

const text = async (locator) => (await locator.innerText()).replace(/\s+/g, " ").trim();

async function signIn(page) {
  await page.goto(`${config.base_url}/app/`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await check(page, "app-sign-in");
  await page.getByLabel("Email").fill(config.email);
  await page.getByLabel("Password").fill(config.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Wallet" }).waitFor();
}

async function voucherQr(page, file) {
  await page.getByRole("button", { name: "Vouchers" }).click();
  const image = page.locator("img.qr[data-loaded=true]").first();
  await image.waitFor();
  await image.screenshot({ path: file }); // the code as the phone shows it, not the server's bytes
  return text(page.locator("[data-voucher]").first());
}

async function guardian(browser) {
  const page = await newPage(browser, { width: 390, height: 844 });
  await signIn(page);
  await page.getByLabel("Top-up amount ($)").fill("50.00");
  await page.getByRole("button", { name: "Top up (demo card)" }).click();
  await page.locator("[data-wallet=available]", { hasText: "$50.00" }).waitFor();
  out.screens.wallet = await text(page.locator("[data-wallet=available]"));
  await check(page, "app-wallet");

  await page.getByRole("button", { name: "Children" }).click();
  await page.getByRole("button", { name: /Mia Nguyen/ }).click();
  await page.getByRole("heading", { name: "Mia's card" }).waitFor();
  await page.getByLabel("Move from wallet to card ($)").fill("10.00");
  await page.getByRole("button", { name: "Fund card" }).dblclick(); // a double tap moves the money once (asserted on the server)
  await page.locator("[data-card=balance]", { hasText: "$10.00" }).waitFor();
  await page.getByLabel("Weekly cap ($, empty for none)").fill("5.00");
  await page.getByRole("button", { name: "Save limits" }).click();
  await page.locator("[data-card=caps]", { hasText: "Weekly cap: $5.00" }).waitFor();
  out.screens.card = await text(page.locator("section.card").first());
  await check(page, "app-card");

  await page.getByRole("button", { name: "Canteen" }).click();
  await page.locator("[data-menu-day]").waitFor();
  await page.getByLabel("Day").fill(config.order_day);
  await page.locator(`[data-menu-day='${config.order_day}']`).waitFor(); // the chosen day's menus, not the first render's
  const satay = page.locator("[data-item='Satay skewer']");
  await satay.waitFor();
  out.screens.satay_warning = await text(satay);
  await satay.getByRole("checkbox").check();
  await page.getByRole("button", { name: /^Order / }).first().click();
  const refused = page.locator("[data-code=allergen_conflict]");
  await refused.waitFor();
  out.screens.allergen_refusal = await text(refused);
  await satay.getByRole("checkbox").uncheck();
  await page.locator("[data-item='Chicken wrap']").getByRole("checkbox").check();
  await page.getByRole("button", { name: /^Order / }).first().click();
  const ordered = page.locator("p.ok", { hasText: "Ordered" });
  await ordered.waitFor();
  out.screens.order = await text(ordered);
  out.screens.order_shown = await text(page.locator("[data-order=placed]")); // the period now shows the order, not the menu
  await check(page, "app-canteen");

  await page.getByRole("button", { name: "Events" }).click();
  const event = page.locator("[data-event='Museum excursion']");
  await event.waitFor();
  await event.getByLabel("May we publish photos?").selectOption("yes");
  await event.getByRole("checkbox", { name: /I give permission/ }).check();
  await event.getByLabel("Your full name").fill("Olivia Nguyen");
  const canvas = event.locator("canvas.signature");
  await canvas.scrollIntoViewIfNeeded(); // the mouse draws in viewport coordinates
  const pad = await canvas.boundingBox();
  await page.mouse.move(pad.x + 30, pad.y + pad.height * 0.7);
  await page.mouse.down();
  for (const [dx, dy] of [[60, 0.3], [110, 0.75], [170, 0.25], [240, 0.6]]) await page.mouse.move(pad.x + dx, pad.y + pad.height * dy, { steps: 4 });
  await page.mouse.up();
  await check(page, "app-event-consent");
  await event.getByRole("button", { name: "Sign and sign up" }).click();
  await page.locator("[data-signup=awaiting_payment]").waitFor();
  await page.getByRole("button", { name: /^Pay \$25\.00/ }).click();
  await page.locator("[data-signup=confirmed]").waitFor();
  out.screens.signup = await text(page.locator("[data-event='Museum excursion']"));

  out.screens.voucher = await voucherQr(page, join(config.work, "voucher-qr.png"));
  await check(page, "app-vouchers");
  await page.getByRole("button", { name: "Announcements" }).click();
  await page.getByRole("heading", { name: "Sports day on Friday" }).waitFor();
  await check(page, "app-announcements");
  await page.getByRole("button", { name: "Wallet" }).click();
  await page.locator("[data-wallet=available]").waitFor();
  out.screens.wallet_after = await text(page.locator("main"));
}

async function outcome(page) {
  const panel = page.locator("[data-outcome]").last();
  await panel.waitFor();
  return { outcome: await panel.getAttribute("data-outcome"), code: await panel.getAttribute("data-code"), text: await text(panel) };
}

async function terminal(browser) {
  // The guardian's phone shows the live QR code; the terminal is fed a picture of it.
  const phone = await newPage(browser, { width: 390, height: 844 });
  await signIn(phone);
  const qr = join(config.work, "voucher-qr.png");
  await voucherQr(phone, qr);

  const page = await newPage(browser, { width: 820, height: 1180 });
  await page.goto(`${config.base_url}/terminal/`);
  await page.getByRole("heading", { name: "Pair this terminal" }).waitFor();
  await check(page, "terminal-pair");
  await page.getByLabel("Terminal key").fill("tbx_term_not_a_real_key");
  await page.getByRole("button", { name: "Pair this device" }).click();
  out.screens.bad_key = await text(page.locator("p.error"));
  await page.getByLabel("Terminal key").fill(config.terminal_key);
  await page.getByRole("button", { name: "Pair this device" }).click();
  await page.getByRole("heading", { name: "Redeem a voucher" }).waitFor();
  await check(page, "terminal-voucher");

  await page.setInputFiles("#qr-photo", qr);
  await page.locator("[data-preview]").waitFor();
  out.screens.preview = await text(page.locator("[data-preview]"));
  await check(page, "terminal-voucher-preview");
  await page.getByLabel("Amount to redeem ($)").fill("25.00");
  await page.getByRole("button", { name: "Redeem" }).click();
  out.redeemed = await outcome(page);
  await check(page, "terminal-voucher-redeemed");
  await page.getByRole("button", { name: "Void this redemption" }).click();
  await page.locator("[data-outcome]", { hasText: /✔ Voided/ }).waitFor(); // not "Can be voided until"
  out.voided = await outcome(page);

  // A QR code that is not the server's: decoded fine, refused by the server, shown red.
  await page.getByRole("button", { name: "Voucher", exact: true }).click();
  await page.setInputFiles("#qr-photo", config.fake_qr);
  out.fake = await outcome(page);
  await check(page, "terminal-voucher-fake");

  // The other path: the voucher number typed with the child's date of birth.
  await page.getByLabel("Voucher number").fill(config.voucher_number);
  await page.getByLabel("Child's date of birth").fill(config.date_of_birth);
  await page.getByRole("button", { name: "Check voucher" }).click();
  await page.getByLabel("Amount to redeem ($)").fill("30.00");
  await page.getByRole("button", { name: "Redeem" }).click();
  out.typed = await outcome(page);

  await page.getByRole("button", { name: "Card charge" }).click();
  await page.getByLabel("Card", { exact: true }).fill(config.card);
  await page.getByLabel("Amount ($)").fill("4.00");
  await page.getByLabel("Category").selectOption("canteen");
  await page.getByLabel("What was bought (optional)").fill("Banana bread");
  await page.getByRole("button", { name: "Charge card" }).click();
  out.charged = await outcome(page);
  await check(page, "terminal-charge-approved");
  await page.getByLabel("Amount ($)").fill("50.00");
  await page.getByRole("button", { name: "Charge card" }).click();
  await page.locator("[data-outcome=declined]").waitFor();
  out.declined = await outcome(page);
  await check(page, "terminal-charge-declined");

  await page.getByRole("button", { name: "Takings" }).click();
  await page.locator("[data-takings=cards]").waitFor();
  out.takings = { cards: await text(page.locator("[data-takings=cards]")), vouchers: await text(page.locator("[data-takings=vouchers]")) };
  await check(page, "terminal-takings");
}

const browser = await chromium.launch({ executablePath: config.chromium, args: ARGS, headless: true });
try {
  await ({ guardian, terminal })[config.journey](browser);
} catch (error) {
  out.failed = String(error?.stack ?? error);
  out.at_failure = await Promise.all(pages.map((p) => p.locator("body").innerText().catch(() => "")));
} finally {
  await browser.close();
  console.log(JSON.stringify(out));
}
