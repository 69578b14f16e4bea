// Events: read the consent form, answer its questions, tick the statement, type your name,
// draw a signature, sign up; then pay the fee from the wallet. The form's hash goes back with
// the signature so the server can refuse a form that changed since it was shown.
import { Intent, money, type Schemas } from "../shared/api";
import { field, formValues, h, oneAtATime, show, submitted } from "../shared/dom";
import { api } from "./session";
import { signaturePad } from "./signature";
import { said } from "./ui";

type Event_ = Schemas["EventOutput"];

export async function eventsScreen(root: HTMLElement, nav: HTMLElement, student: Schemas["StudentOutput"], tabs: HTMLElement): Promise<void> {
  const { data, error, response } = await api.GET("/api/v1/events");
  const result = h("div", {});
  if (!data) said(result, null, error, response.status);
  const mine = (data?.results ?? []).filter((e) => e.children?.some((c) => c.student_id === student.id));
  show(root, nav, tabs, h("h1", {}, `Events for ${student.first_name}`), result,
    ...mine.map((event) => eventCard(root, nav, student, tabs, event)),
    mine.length || !data ? null : h("p", {}, "No events for this child."));
}

function eventCard(root: HTMLElement, nav: HTMLElement, student: Schemas["StudentOutput"], tabs: HTMLElement, event: Event_): HTMLElement {
  const child = event.children?.find((c) => c.student_id === student.id);
  const result = h("div", { "aria-live": "polite" });
  const again = () => eventsScreen(root, nav, student, tabs);
  const header = [h("h2", {}, event.title), h("p", {}, `${event.location}, ${new Date(event.starts_at).toLocaleString()} · ${money(event.cost, event.currency)}`)];
  const signup = child?.signup;
  if (signup) {
    const paying = new Intent();
    const pay: HTMLButtonElement | null = signup.status === "awaiting_payment" ? h("button", { type: "button", onclick: () => void oneAtATime(pay as HTMLButtonElement, result, async () => {
      const paid = await api.POST("/api/v1/signups/{signup_id}/pay", { params: { path: { signup_id: signup.id }, header: { "Idempotency-Key": paying.key() } } });
      paying.answered(paid.response, paid.error);
      if (!paid.data) return said(result, null, paid.error, paid.response.status);
      await again();
    }) }, `Pay ${money(signup.amount_due - signup.amount_paid)} from wallet`) : null;
    return h("section", { class: "card", "data-event": event.title }, ...header,
      h("p", { "data-signup": signup.status }, `Signed up: ${signup.status.replaceAll("_", " ")}`), pay, result);
  }
  if (!child?.eligible || !child.can_give_consent) return h("section", { class: "card" }, ...header, h("p", {}, "You cannot sign this child up."));
  const form = event.consent_form;
  const pad = signaturePad();
  const questions = form.questions.map((q) => q.type === "yes_no"
    ? field(q.label, h("select", { name: `q_${q.key}`, required: q.required }, h("option", { value: "" }, "Choose"), h("option", { value: "yes" }, "Yes"), h("option", { value: "no" }, "No")))
    : q.choices.length ? field(q.label, h("select", { name: `q_${q.key}`, required: q.required }, h("option", { value: "" }, "Choose"), ...q.choices.map((c) => h("option", { value: c }, c))))
    : field(q.label, h("input", { name: `q_${q.key}`, required: q.required })));
  const signing = new Intent();
  const sign = h("form", {
    onsubmit: submitted(result, async (signed) => {
      const values = formValues(signed);
      const answers: Record<string, unknown> = {};
      for (const q of form.questions) {
        const value = values[`q_${q.key}`] ?? "";
        answers[q.key] = q.type === "yes_no" ? value === "yes" : value;
      }
      const body = { student_id: student.id, form_hash: form.hash, answers, signature: pad.value(), typed_name: values.typed_name ?? "",
        consent_statement_accepted: values.accept === "on" };
      const created = await api.POST("/api/v1/events/{event_id}/signups", {
        params: { path: { event_id: event.id }, header: { "Idempotency-Key": signing.key(body) } }, body });
      signing.answered(created.response, created.error);
      if (!created.data) return said(result, null, created.error, created.response.status);
      await again();
    }),
  },
    h("p", {}, form.body),
    ...questions,
    h("label", {}, h("input", { type: "checkbox", name: "accept" }), ` ${form.statement}`),
    field("Your full name", h("input", { name: "typed_name", required: true, autocomplete: "name" })),
    h("p", {}, "Sign below with your finger, pen or mouse:"), pad.element,
    h("button", { type: "submit" }, "Sign and sign up"));
  return h("section", { class: "card", "data-event": event.title }, ...header, sign, result);
}
