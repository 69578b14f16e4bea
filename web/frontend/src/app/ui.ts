// Small shared pieces of the guardian screens: a result line that shows the server's answer.
import type { Problem } from "../shared/api";
import { h } from "../shared/dom";
import { plainWords } from "../shared/problems";

export function said(target: HTMLElement, ok: string | null, problem?: Problem, status = 0): void {
  target.replaceChildren(ok !== null ? h("p", { class: "ok", role: "status" }, ok)
    : h("p", { class: "error", role: "alert", "data-code": problem?.code ?? String(status) }, plainWords(problem, status)));
}
