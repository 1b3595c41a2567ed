// Charts drawn as inline SVG through DOM calls: a filled bar, and a bar split into parts. Each
// carries its figures as a text label too (role="img" + aria-label, and visible text beside it).

import { el, svg } from "./dom.js";

export const SEVERITY_COLOURS = { critical: "sev-critical", warning: "sev-warning", info: "sev-info" };
const PALETTE = 10; // classes part-0 .. part-9 in dashboard.css

/** A horizontal bar filled to `value` out of `max` (utilization: out of 100). */
export function meter(value, max, label, cls) {
  const share = max > 0 ? Math.max(0, Math.min(1, Number(value || 0) / max)) : 0;
  return svg(
    "svg",
    { class: `meter ${cls || ""}`.trim(), viewBox: "0 0 100 10", preserveAspectRatio: "none", role: "img", "aria-label": label },
    svg("rect", { class: "meter-track", x: 0, y: 0, width: 100, height: 10 }),
    svg("rect", { class: "meter-fill", x: 0, y: 0, width: (share * 100).toFixed(2), height: 10 }),
  );
}

/**
 * One bar split into parts: [[name, count, className], ...], scaled so that `max` fills the
 * width (rows of a chart share one scale). The label says every part in words.
 */
export function stacked(parts, max, label) {
  const total = parts.reduce((sum, [, n]) => sum + n, 0);
  const scale = max > 0 ? 100 / max : 0;
  let x = 0;
  const rects = [];
  for (const [name, count, cls] of parts) {
    if (count <= 0) continue;
    const width = count * scale;
    rects.push(
      svg(
        "rect",
        { class: cls, x: x.toFixed(3), y: 0, width: width.toFixed(3), height: 10, "data-part": name },
        svg("title", null, `${name}: ${count}`),
      ),
    );
    x += width;
  }
  return svg(
    "svg",
    { class: "stacked", viewBox: "0 0 100 10", preserveAspectRatio: "none", role: "img", "aria-label": label, "data-total": total },
    svg("rect", { class: "meter-track", x: 0, y: 0, width: 100, height: 10 }),
    rects,
  );
}

/** Stable colour classes for the keys of a distribution (most frequent first). */
export function colourClasses(keys) {
  const out = {};
  keys.forEach((key, i) => {
    out[key] = `part-${i % PALETTE}`;
  });
  return out;
}

export function legend(entries) {
  return el(
    "ul",
    { class: "legend" },
    entries.map(([name, cls]) => el("li", null, svg("svg", { class: "swatch", viewBox: "0 0 10 10", "aria-hidden": "true" }, svg("rect", { class: cls, width: 10, height: 10 })), name)),
  );
}

/** A chart of labelled rows: each [label, bar, text], laid out as a description list. */
export function rowsChart(title, rows, attrs) {
  return el(
    "figure",
    { class: "chart", ...(attrs || {}) },
    el("figcaption", null, title),
    el(
      "dl",
      { class: "chart-rows" },
      rows.map(([label, bar, text, rowAttrs]) =>
        el("div", { class: "chart-row", ...(rowAttrs || {}) }, el("dt", null, label), el("dd", null, bar, el("span", { class: "chart-text" }, text))),
      ),
    ),
  );
}
