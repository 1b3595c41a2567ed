// Hiring triggers: counts by severity, a bar per region split by severity, and the list with the
// most urgent first (the API's order).

import * as api from "./api.js";
import { legend, rowsChart, SEVERITY_COLOURS, stacked } from "./charts.js";
import { filterForm } from "./controls.js";
import { cards, el, int, note, pct, table } from "./dom.js";
import { WEEK_FILTERS, weeklyHead } from "./freshness.js";

const SEVERITIES = ["critical", "warning", "info"];

function counts(group) {
  return SEVERITIES.map((sev) => `${group[sev]} ${sev}`).join(", ");
}

export async function render(state) {
  const report = await api.get("reports/hiring-triggers", {
    date: state.date,
    region: state.region,
    limit: state.limit,
  });
  const s = report.summary;
  const widest = Math.max(0, ...report.by_region.map((g) => g.total));
  const regions = report.by_region.map((g) => g.region);
  return [
    weeklyHead("Hiring triggers", report),
    filterForm(state, WEEK_FILTERS(regions)),
    cards([
      ["Critical", int(s.critical), "critical", "sev-critical-card"],
      ["Warning", int(s.warning), "warning", "sev-warning-card"],
      ["Info", int(s.info), "info", "sev-info-card"],
      ["All triggers", int(s.total), "total"],
    ]),
    report.by_region.length
      ? [
          rowsChart(
            "Triggers by region and severity",
            report.by_region.map((g) => [
              g.region,
              stacked(
                SEVERITIES.map((sev) => [sev, g[sev], SEVERITY_COLOURS[sev]]),
                widest,
                `${g.region}: ${counts(g)}`,
              ),
              `${int(g.total)}: ${counts(g)}`,
              { "data-region": g.region },
            ]),
            { "data-chart": "by-region" },
          ),
          legend(SEVERITIES.map((sev) => [sev, SEVERITY_COLOURS[sev]])),
          table(
            "Triggers, most urgent first",
            [
              ["Severity", (t) => el("span", { class: `badge ${SEVERITY_COLOURS[t.severity] || ""}` }, t.severity)],
              ["Trigger", (t) => t.trigger_type.replace(/_/g, " ")],
              ["Sector", (t) => t.postcode_sector, "nowrap"],
              ["Region", (t) => t.region],
              ["Message", (t) => t.message],
              ["Value", (t) => pct(t.metric_value), "num"],
              ["Threshold", (t) => pct(t.threshold), "num"],
              ["Weeks", (t) => int(t.weeks_active), "num"],
            ],
            report.rows,
            (t) => ({ "data-sector": t.postcode_sector, "data-trigger": t.trigger_type }),
          ),
          report.truncated ? note(`Showing the ${report.rows.length} most urgent of ${int(s.total)}.`) : null,
        ]
      : note("No hiring triggers this week."),
  ];
}
