// The result panel: green only for an answer the server confirmed (a 2xx with its record id),
// red for a refusal in plain words. Nothing the device decodes or computes can paint it green.
import { plainWords } from "../shared/problems";
import type { Problem } from "../shared/api";
import { h } from "../shared/dom";

export function approved(title: string, big: string, ...lines: string[]): HTMLElement {
  return h("div", { class: "outcome approved", role: "alert", "data-outcome": "approved" },
    h("span", {}, `✔ ${title}`), h("span", { class: "big" }, big), ...lines.map((line) => h("p", {}, line)));
}

export function declined(title: string, problem: Problem | undefined, status: number): HTMLElement {
  return h("div", { class: "outcome declined", role: "alert", "data-outcome": "declined", "data-code": problem?.code ?? String(status) },
    h("span", {}, `✖ ${title}`), h("p", {}, plainWords(problem, status)));
}
