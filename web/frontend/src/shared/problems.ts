// Plain words for every stable API error code: error-words.json is docs/api.md's generated
// table (`python -m web.error_words`; a test keeps them equal). A few counter-side codes get a
// shorter sentence a cashier can read at a glance. The server's own `detail` follows when it adds
// something (which item had the allergen, which cap), since it knows the case and we do not.
import type { Problem } from "./api";
import table from "./error-words.json";

const TABLE: Record<string, string> = table;

const AT_THE_COUNTER: Record<string, string> = {
  voucher_token_invalid: "NOT A VALID VOUCHER. Do not accept it.",
  voucher_code_expired: "This code is old (a screenshot?). Ask for the live code in the app.",
};

export function plainWords(problem: Problem | undefined, status: number): string {
  if (!problem?.code) return status >= 500 ? "The server had a problem. Nothing was done." : `Refused (HTTP ${status}).`;
  const sentence = AT_THE_COUNTER[problem.code] ?? TABLE[problem.code] ?? "Refused.";
  const detail = problem.detail && problem.detail !== sentence && !sentence.includes(problem.detail) ? problem.detail : "";
  return [sentence, detail].filter(Boolean).join(" ");
}
