// A dozen lines instead of a framework: both apps are a few forms and lists.
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | boolean | ((event: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, "").toLowerCase(), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false) element.setAttribute(name, value);
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

export function show(root: HTMLElement, ...children: Child[]): void {
  root.replaceChildren(...children.filter((child): child is Node | string => Boolean(child)));
  const heading = root.querySelector("h1, h2");
  if (heading instanceof HTMLElement) {
    heading.tabIndex = -1;
    heading.focus(); // a screen change moves focus to its title, for keyboard and screen-reader users
  }
}

export function field(label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLLabelElement {
  return h("label", {}, h("span", {}, label), input);
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  return Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v)]));
}

/** Said when a request got no answer at all: the server may or may not have acted on it. */
export const NO_ANSWER = "No answer from the server (is the device offline?). Nothing is shown as done until the server says so; trying again is safe.";

/**
 * Runs an action of a form or button one at a time: its buttons are disabled while the request
 * is out, so a double tap sends nothing twice, and a request that never got an answer (offline,
 * a dropped connection) is said in `result` instead of failing silently.
 */
export async function oneAtATime(scope: HTMLElement, result: HTMLElement, action: () => Promise<unknown>): Promise<void> {
  if (scope.getAttribute("aria-busy") === "true") return;
  const buttons = [...(scope instanceof HTMLButtonElement ? [scope] : scope.querySelectorAll<HTMLButtonElement>("button"))];
  const wereDisabled = buttons.map((button) => button.disabled);
  scope.setAttribute("aria-busy", "true");
  buttons.forEach((button) => (button.disabled = true));
  try {
    await action();
  } catch {
    result.replaceChildren(h("p", { class: "error", role: "alert", "data-code": "no_answer" }, NO_ANSWER));
  } finally {
    scope.removeAttribute("aria-busy");
    buttons.forEach((button, i) => (button.disabled = wereDisabled[i] ?? false));
  }
}

/** A form's submit handler, through oneAtATime. */
export function submitted(result: HTMLElement, action: (form: HTMLFormElement) => Promise<unknown>): (event: Event) => void {
  return (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    void oneAtATime(form, result, () => action(form));
  };
}
