// The one way both apps reach the server: openapi-fetch over types generated from
// openapi/openapi.yaml (src/api/tuckbox.ts), so a path, a body or an answer that the schema no
// longer has is a compile error. Same origin: the apps are served by the API's own Django.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "../api/tuckbox";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

export function makeClient(headers: () => Record<string, string>) {
  const client = createClient<paths>({ baseUrl: window.location.origin });
  const auth: Middleware = {
    onRequest({ request }) {
      for (const [name, value] of Object.entries(headers())) request.headers.set(name, value);
      return request;
    },
  };
  client.use(auth);
  return client;
}

/** A fresh key per money POST; a retry of the same action would reuse it. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

export function money(cents: number, currency = "AUD"): string {
  return new Intl.NumberFormat("en-AU", { style: "currency", currency }).format(cents / 100);
}

/** Dollars typed by a person to integer cents; the server re-checks every amount. */
export function cents(text: string): number | null {
  const match = /^\s*\$?(\d{1,6})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "0").padEnd(2, "0"));
}
