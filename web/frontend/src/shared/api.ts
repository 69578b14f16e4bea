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

/**
 * The Idempotency-Key of one intended money action, not of one tap. While a request has had no
 * answer (no connection, a 5xx, or 409 idempotency_request_in_progress), sending the same request
 * again reuses its key, so the server replays its first outcome instead of moving money twice. A
 * definitive answer, or a different request (another amount), starts a new key: the next $4 sale
 * on the same card is a new sale, not a replay of the last one.
 */
export class Intent {
  private pending?: { request: string; key: string };

  key(request: unknown = null): string {
    const text = JSON.stringify(request);
    if (this.pending?.request !== text) this.pending = { request: text, key: crypto.randomUUID() };
    return this.pending.key;
  }

  /** Call with the server's answer: only an answer that may not be final keeps the key. */
  answered(response: Response, problem?: { code?: string }): void {
    if (response.status < 500 && problem?.code !== "idempotency_request_in_progress") this.pending = undefined;
  }
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
