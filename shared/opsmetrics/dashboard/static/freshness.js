// The head of every view: its title, the date shown, when the figures were computed (as_of), and a
// warning when the job behind them missed its latest date (stale).

import { el, utc } from "./dom.js";

export function head(title, { date, asOf, stale, staleText }) {
  return el(
    "header",
    { class: "view-head" },
    el("h1", { tabindex: "-1" }, title),
    el(
      "p",
      { class: "meta" },
      el("span", { "data-field": "date" }, `Date: ${date || "–"}`),
      el("span", { "data-field": "as-of" }, `As of: ${utc(asOf)}`),
    ),
    stale
      ? el("p", { class: "stale", role: "status", "data-field": "stale" }, `Stale: ${staleText}`)
      : el("p", { class: "fresh", "data-field": "fresh" }, "Up to date"),
  );
}

// The head of the two weekly views (hiring triggers, coverage gaps): one job, one Sunday.
export function weeklyHead(title, report) {
  return head(title, {
    date: report.date,
    asOf: report.as_of,
    stale: report.stale,
    staleText: staleText("weekly-hiring-triggers", `the week ending ${report.date}`),
  });
}

// The filters both weekly views start with.
export const WEEK_FILTERS = (regions) => [
  { name: "date", label: "Week ending (Sunday)", type: "date" },
  { name: "region", label: "Region", type: "text", list: regions },
];

export function staleText(job, shown) {
  return `${job} has not computed its latest date yet; these figures are for ${shown}.`;
}
