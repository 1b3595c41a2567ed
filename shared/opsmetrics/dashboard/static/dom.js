// Building the page with DOM calls only: text goes in as text nodes, never as markup, so a
// region or channel name from the data cannot inject anything.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setAttributes(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) throw new Error("use addEventListener, not " + name);
    node.setAttribute(name, value === true ? "" : String(value));
  }
}

/** An HTML element: el("td", {class: "num"}, "12"). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  return append(node, children);
}

/** An SVG element, same calling convention. */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  return append(node, children);
}

export function on(node, event, handler) {
  node.addEventListener(event, handler);
  return node;
}

// --- formatting: fixed rules, no locale guessing, so every reader (and test) sees the same text

export function int(value) {
  return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-GB");
}

export function pct(value) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(2)}%`;
}

export function yesNo(value) {
  return value ? "yes" : "no";
}

/** 2026-11-23T03:00:12Z -> 2026-11-23 03:00:12 UTC (ISO from the API, shown in UTC as stored). */
export function utc(iso) {
  if (!iso) return "–";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  return moment.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A table; `columns` are [heading, (row) => cell content, className?]. */
export function table(caption, columns, rows, rowAttrs) {
  const head = el("tr", null, columns.map(([heading, , cls]) => el("th", { scope: "col", class: cls }, heading)));
  const body = rows.map((row) =>
    el(
      "tr",
      rowAttrs ? rowAttrs(row) : null,
      // data-label: the heading, shown beside each value where a phone stacks the cells
      columns.map(([heading, cell, cls]) => el("td", { class: cls, "data-label": heading }, cell(row))),
    ),
  );
  return el(
    "div",
    { class: "table-wrap" },
    el("table", { class: "report-table" }, el("caption", null, caption), el("thead", null, head), el("tbody", null, body)),
  );
}

/** Headline figures as cards: [[label, value, name], ...] (name: data-card, for tests and CSS). */
export function cards(items) {
  return el(
    "dl",
    { class: "cards" },
    items.map(([label, value, name, cls]) =>
      el("div", { class: `card ${cls || ""}`.trim(), "data-card": name }, el("dt", null, label), el("dd", null, value)),
    ),
  );
}

export function note(text, cls) {
  return el("p", { class: `note ${cls || ""}`.trim() }, text);
}
