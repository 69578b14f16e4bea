// A guardian signs in and reads the wallet; a canteen terminal charges the child's card, then is
// declined. Types come from openapi/openapi.yaml (`npm run generate`); openapi-fetch checks every
// path, parameter, body and answer against them at compile time.
//
//   npm ci && npm run build
//   TUCKBOX_URL=http://127.0.0.1:8000 TUCKBOX_EMAIL=... TUCKBOX_PASSWORD=... \
//   TUCKBOX_TERMINAL_KEY=tbx_term_... TUCKBOX_CARD=04A1B2C3D4E5F6 TUCKBOX_AMOUNT=350 npm start
//
// It prints one JSON line: the wallet, the approved charge, and the decline's problem code.
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./tuckbox.js";

type Problem = components["schemas"]["Problem"];
type CardCharge = components["schemas"]["CardChargeOutput"];

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

function refused(what: string, problem: Problem | undefined, status: number): never {
  throw new Error(`${what}: ${status} ${problem?.code ?? "(no problem body)"}`);
}

const api = createClient<paths>({ baseUrl: setting("TUCKBOX_URL") });

async function signIn(email: string, password: string): Promise<string> {
  const { data, error, response } = await api.POST("/api/v1/auth/token", { body: { email, password } });
  if (!data) refused("sign-in", error, response.status);
  return data.access; // 15 minutes; POST /api/v1/auth/token/refresh for the next one
}

async function wallet(accessToken: string): Promise<components["schemas"]["WalletBalanceOutput"]> {
  const { data, error, response } = await api.GET("/api/v1/wallet", { headers: { Authorization: `Bearer ${accessToken}` } });
  if (!data) refused("wallet", error, response.status);
  return data;
}

// The same Idempotency-Key when retrying the same sale: the retry answers with the first charge.
async function charge(terminalKey: string, card: string, amount: number): Promise<{ approved?: CardCharge; declined?: Problem }> {
  const { data, error } = await api.POST("/api/v1/terminal/charges", {
    params: { header: { "Idempotency-Key": randomUUID() } },
    headers: { "X-Terminal-Key": terminalKey },
    body: { card_identifier: card, amount, categories: ["canteen"], description: "Banana bread" },
  });
  return data ? { approved: data } : { declined: error };
}

const access = await signIn(setting("TUCKBOX_EMAIL"), setting("TUCKBOX_PASSWORD"));
const balance = await wallet(access);
const terminalKey = setting("TUCKBOX_TERMINAL_KEY");
const card = setting("TUCKBOX_CARD");
const sale = await charge(terminalKey, card, Number(setting("TUCKBOX_AMOUNT")));
if (!sale.approved) throw new Error(`the sale was declined: ${sale.declined?.code}`);
const tooMuch = await charge(terminalKey, card, sale.approved.remaining_balance + 1);

console.log(
  JSON.stringify({
    wallet: balance,
    charge: { id: sale.approved.charge_id, amount: sale.approved.amount, remaining: sale.approved.remaining_balance },
    declined: tooMuch.declined ? { status: tooMuch.declined.status, code: tooMuch.declined.code } : null,
  }),
);
