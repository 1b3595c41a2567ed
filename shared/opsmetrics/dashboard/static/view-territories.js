// Territories: the summary as cards, the table with a utilization bar per row, a region filter,
// and pages through the cursor.

import * as api from "./api.js";
import { meter } from "./charts.js";
import { filterForm } from "./controls.js";
import { cards, el, int, note, on, pct, table, yesNo } from "./dom.js";
import { head, staleText } from "./freshness.js";
import { RULES } from "./rules.js";
import { go } from "./state.js";

const PAGE_SIZE = 50;

export async function render(state) {
  const limit = Number(state.limit) > 0 ? Number(state.limit) : PAGE_SIZE;
  const report = await api.get("reports/territories", {
    date: state.date,
    region: state.region,
    limit,
    cursor: state.cursor,
  });
  const s = report.summary;
  const regions = [...new Set(report.rows.map((r) => r.region))].sort();
  const page = Number(state.page) > 0 ? Number(state.page) : 1;
  const first = (page - 1) * limit + 1;
  const paging = el("nav", { class: "pager", "aria-label": "Pages" });
  if (page > 1) {
    paging.append(
      on(el("button", { type: "button" }, "First page"), "click", () =>
        go({ ...state, date: report.date, cursor: "", page: "" }),
      ),
    );
  }
  paging.append(
    el(
      "span",
      { "data-field": "page" },
      report.rows.length
        ? `Page ${page}: territories ${first}–${first + report.rows.length - 1} of ${int(s.total)}`
        : "No territories",
    ),
  );
  if (report.next_cursor) {
    paging.append(
      on(el("button", { type: "button", "data-action": "next-page" }, "Next page"), "click", () =>
        // The cursor belongs to the page's date: pin it, so the next page is of the same day.
        go({ ...state, date: report.date, cursor: report.next_cursor, page: String(page + 1) }),
      ),
    );
  }
  return [
    head("Territories", {
      date: report.date,
      asOf: report.as_of,
      stale: report.stale,
      staleText: staleText("daily-territory-metrics", report.date),
    }),
    filterForm(state, [
      { name: "date", label: "Date", type: "date" },
      { name: "region", label: "Region", type: "text", list: regions },
    ]),
    cards([
      ["Territories", int(s.total), "total"],
      ["With a primary medic", int(s.assigned), "assigned"],
      ["Without", int(s.unassigned), "unassigned"],
      ["Average utilization", pct(s.average_utilization), "average_utilization"],
      ["Bookings (7 days)", int(s.total_bookings), "total_bookings"],
      ["Average rejection rate", pct(s.average_rejection_rate), "average_rejection_rate"],
    ]),
    report.rows.length
      ? table(
          `Territories on ${report.date}${state.region ? ` in ${state.region}` : ""}`,
          [
            ["Sector", (r) => r.postcode_sector, "nowrap"],
            ["Region", (r) => r.region],
            ["Bookings", (r) => int(r.total_bookings), "num"],
            ["Confirmed", (r) => int(r.confirmed_bookings), "num"],
            ["Rejected", (r) => int(r.rejected_bookings), "num"],
            ["Rejection", (r) => pct(r.rejection_rate), "num"],
            ["Fulfillment", (r) => pct(r.fulfillment_rate), "num"],
            [
              "Utilization",
              (r) =>
                el(
                  "span",
                  { class: "bar-cell" },
                  meter(r.primary_medic_utilization, 100, `utilization ${pct(r.primary_medic_utilization)}`, r.primary_medic_utilization > RULES.overloadedAbove ? "high" : ""),
                  el("span", { class: "bar-text" }, pct(r.primary_medic_utilization)),
                ),
              "bar",
            ],
            ["Primary", (r) => yesNo(r.primary_assigned)],
            ["Secondary", (r) => yesNo(r.secondary_assigned)],
            [`Weeks >${RULES.overloadedAbove}%`, (r) => int(r.hiring_trigger_weeks), "num"],
            ["Gap weeks", (r) => int(r.coverage_gap_weeks), "num"],
          ],
          report.rows,
          (r) => ({ "data-sector": r.postcode_sector }),
        )
      : note("No territories match."),
    paging,
  ];
}
