// The guardian's tokens live in this tab only (sessionStorage): the 15-minute access token, and
// the single-use refresh token that buys the next one when the server answers 401.
import createClient from "openapi-fetch";
import type { paths } from "../api/tuckbox";
import { makeClient } from "../shared/api";

const STORE = "tuckbox.session";
type Tokens = { access: string; refresh: string };

let tokens: Tokens | null = JSON.parse(sessionStorage.getItem(STORE) ?? "null");
const anonymous = createClient<paths>({ baseUrl: window.location.origin });

export const api = makeClient((): Record<string, string> => (tokens ? { Authorization: `Bearer ${tokens.access}` } : {}));

api.use({
  async onResponse({ request, response }) {
    if (response.status !== 401 || !tokens || request.url.includes("/auth/")) return response;
    const refreshed = await anonymous.POST("/api/v1/auth/token/refresh", { body: { refresh: tokens.refresh } });
    if (!refreshed.data) {
      signOut();
      return response;
    }
    remember({ access: refreshed.data.access, refresh: refreshed.data.refresh });
    const retry = new Request(request, { headers: new Headers(request.headers) });
    retry.headers.set("Authorization", `Bearer ${refreshed.data.access}`);
    return fetch(retry);
  },
});

function remember(next: Tokens | null): void {
  tokens = next;
  if (next) sessionStorage.setItem(STORE, JSON.stringify(next));
  else sessionStorage.removeItem(STORE);
}

export const signedIn = () => tokens !== null;

export async function signIn(email: string, password: string) {
  const result = await anonymous.POST("/api/v1/auth/token", { body: { email, password } });
  if (result.data) remember({ access: result.data.access, refresh: result.data.refresh });
  return result;
}

export function signOut(): void {
  remember(null);
}
