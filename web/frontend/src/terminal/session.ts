// The terminal's pairing: the key a merchant administrator created (POST /merchant/terminals).
// It stays on this device only (localStorage); the built app holds no key of its own.
import { makeClient, type Schemas } from "../shared/api";

const STORE = "tuckbox.terminal-key";

export const terminal = {
  key: localStorage.getItem(STORE) ?? "",
  info: null as Schemas["TerminalOutput"] | null,
};

export const api = makeClient((): Record<string, string> => (terminal.key ? { "X-Terminal-Key": terminal.key } : {}));

export function pair(key: string): void {
  terminal.key = key;
  localStorage.setItem(STORE, key);
}

export function unpair(): void {
  terminal.key = "";
  terminal.info = null;
  localStorage.removeItem(STORE);
}
