// The filter form above a view: its values become the fragment's state when applied.

import { el, on } from "./dom.js";
import { go, link } from "./state.js";

/**
 * fields: [{name, label, type ("date" | "text" | "checkbox" | "number"), list?: [values]}].
 * Applying keeps the view, replaces these fields and drops paging (`cursor`, `page`).
 */
export function filterForm(state, fields, extra) {
  const inputs = fields.map((field) => {
    const id = `f-${field.name}`;
    const input = el("input", {
      id,
      name: field.name,
      type: field.type,
      list: field.list ? `${id}-list` : null,
      min: field.min,
      max: field.max,
    });
    if (field.type === "checkbox") input.checked = state[field.name] === "true";
    else input.value = state[field.name] || "";
    const options = field.list
      ? el("datalist", { id: `${id}-list` }, field.list.map((value) => el("option", { value })))
      : null;
    return el("div", { class: `field field-${field.type}` }, el("label", { for: id }, field.label), input, options);
  });
  const form = el(
    "form",
    { class: "filters", "aria-label": "Filters" },
    inputs,
    el("button", { type: "submit" }, "Apply"),
    el("a", { class: "share", href: link(state), title: "This view with its filters, without the token" }, "Link to this view"),
    extra || null,
  );
  on(form, "submit", (event) => {
    event.preventDefault();
    const next = { ...state, cursor: "", page: "" };
    for (const field of fields) {
      const input = form.elements.namedItem(field.name);
      next[field.name] = field.type === "checkbox" ? (input.checked ? "true" : "") : input.value.trim();
    }
    go(next);
  });
  return form;
}
