// Trends over a chosen range: topics and sentiment per day as stacked bars, escalations by
// severity, and the hotspot channels.

import * as api from "./api.js";
import { colourClasses, legend, rowsChart, stacked } from "./charts.js";
import { filterForm } from "./controls.js";
import { cards, el, int, note, pct, table } from "./dom.js";
import { head, staleText } from "./freshness.js";

/** The keys of a {key: count} distribution, most frequent first, ties by name. */
function ranked(distribution) {
  return Object.entries(distribution || {})
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([key]) => key);
}

function words(distribution, keys) {
  return keys.filter((k) => distribution[k]).map((k) => `${k} ${int(distribution[k])}`).join(", ") || "none";
}

function byDay(title, rows, field, keys, name) {
  const colours = colourClasses(keys);
  const widest = Math.max(0, ...rows.map((r) => Object.values(r[field] || {}).reduce((a, b) => a + b, 0)));
  return [
    rowsChart(
      title,
      rows.map((r) => {
        const dist = r[field] || {};
        const total = Object.values(dist).reduce((a, b) => a + b, 0);
        return [
          r.trend_date,
          stacked(keys.map((k) => [k, dist[k] || 0, colours[k]]), widest, `${r.trend_date}: ${words(dist, keys)}`),
          `${int(total)}: ${words(dist, keys)}`,
          { "data-date": r.trend_date },
        ];
      }),
      { "data-chart": name },
    ),
    legend(keys.map((k) => [k, colours[k]])),
  ];
}

export async function render(state) {
  const report = await api.get("reports/trends", { from: state.from, to: state.to });
  const s = report.summary;
  const rows = report.rows;
  const escalations = ranked(s.escalation_counts);
  const widestEscalation = Math.max(0, ...Object.values(s.escalation_counts || {}));
  const hotspots = rows.flatMap((r) => (r.channel_hotspots || []).map((h) => ({ date: r.trend_date, ...h })));
  hotspots.sort((a, b) => b.riskScore - a.riskScore || b.messageCount - a.messageCount || (a.date < b.date ? 1 : -1));
  const range = `${report.date_from} to ${report.date_to}`;
  return [
    head("Trends", {
      date: range,
      asOf: report.as_of,
      stale: report.stale,
      staleText: staleText("daily-trend-aggregation", `the range up to ${report.date_to}`),
    }),
    filterForm(state, [
      { name: "from", label: "From", type: "date" },
      { name: "to", label: "To", type: "date" },
    ]),
    cards([
      ["Classifications", int(s.total_classifications), "total_classifications"],
      ["Escalations", int(s.escalations), "escalations"],
      ["Hotspots", int(s.hotspots), "hotspots"],
      ["Top topic", s.top_topic || "–", "top_topic"],
      ["Negative share", pct(s.negative_share_pct), "negative_share_pct"],
      ["Days with data", `${int(s.days_with_data)} of ${int(s.days)}`, "days_with_data"],
    ]),
    (report.dates_not_computed || []).length
      ? note(`Not computed: ${report.dates_not_computed.join(", ")}.`, "muted")
      : null,
    rows.length
      ? [
          byDay("Topics by day", rows, "topic_distribution", ranked(s.topic_distribution), "topics"),
          byDay("Sentiment by day", rows, "sentiment_distribution", ranked(s.sentiment_distribution), "sentiment"),
        ]
      : note("No trend rows in this range."),
    escalations.length
      ? rowsChart(
          "Escalations by severity",
          escalations.map((sev) => [
            sev,
            stacked([[sev, s.escalation_counts[sev], "part-esc"]], widestEscalation, `${sev}: ${s.escalation_counts[sev]}`),
            int(s.escalation_counts[sev]),
            { "data-severity": sev },
          ]),
          { "data-chart": "escalations" },
        )
      : note("No escalations in this range."),
    hotspots.length
      ? table(
          "Hotspot channels (complaints and escalations over 30% of at least 10 messages)",
          [
            ["Date", (h) => h.date],
            ["Channel", (h) => h.channelId],
            ["Risk score", (h) => int(h.riskScore), "num"],
            ["Messages", (h) => int(h.messageCount), "num"],
          ],
          hotspots,
          (h) => ({ "data-channel": h.channelId }),
        )
      : note("No hotspot channels in this range."),
  ];
}
