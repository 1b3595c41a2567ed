// Coverage gaps: critical first, then by rejection rate (the API's order), with the recommended
// action and the low-volume note.

import * as api from "./api.js";
import { meter, SEVERITY_COLOURS } from "./charts.js";
import { filterForm } from "./controls.js";
import { cards, el, int, note, pct, table } from "./dom.js";
import { WEEK_FILTERS, weeklyHead } from "./freshness.js";
import { RULES } from "./rules.js";

export async function render(state) {
  const report = await api.get("reports/coverage-gaps", {
    date: state.date,
    region: state.region,
    include_low_volume: state.low_volume === "true" ? "true" : "",
    limit: state.limit,
  });
  const s = report.summary;
  const regions = [...new Set(report.rows.map((r) => r.region))].sort();
  return [
    weeklyHead("Coverage gaps", report),
    filterForm(state, [
      ...WEEK_FILTERS(regions),
      { name: "low_volume", label: `Include ${RULES.lowVolume}`, type: "checkbox" },
    ]),
    cards([
      ["Critical", int(s.critical), "critical", "sev-critical-card"],
      ["Warning", int(s.warning), "warning", "sev-warning-card"],
      ["Gaps", int(s.total), "total"],
      [s.low_volume_included ? "Of which low volume" : "Low volume, not shown", int(s.low_volume), "low_volume"],
    ]),
    report.rows.length
      ? table(
          "Coverage gaps, critical first, then by rejection rate",
          [
            ["Severity", (g) => el("span", { class: `badge ${SEVERITY_COLOURS[g.severity] || ""}` }, g.severity)],
            ["Sector", (g) => g.postcode_sector, "nowrap"],
            ["Region", (g) => g.region],
            [
              "Rejection",
              (g) =>
                el(
                  "span",
                  { class: "bar-cell" },
                  meter(g.rejection_rate, 100, `rejection ${pct(g.rejection_rate)}`, "reject"),
                  el("span", { class: "bar-text" }, pct(g.rejection_rate)),
                ),
              "bar",
            ],
            ["Bookings", (g) => int(g.total_bookings), "num"],
            ["Rejected", (g) => int(g.rejected_bookings), "num"],
            ["Weeks", (g) => int(g.weeks_persisting), "num"],
            ["Recommended action", (g) => g.recommended_action],
            ["Note", (g) => g.note || ""],
          ],
          report.rows,
          (g) => ({ "data-sector": g.postcode_sector }),
        )
      : note("No coverage gaps this week."),
    report.truncated ? note(`Showing the ${report.rows.length} most urgent of ${int(s.total)}.`) : null,
  ];
}
