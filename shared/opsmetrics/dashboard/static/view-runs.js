// Runs: the calendar as a grid of dates × jobs coloured by each date's latest run, with the due
// dates and each job's expected (target) date marked; with the jobs:run scope, buttons to run a
// date or catch a job up (POST /jobs/{job}/runs).

import * as api from "./api.js";
import { legend } from "./charts.js";
import { filterForm } from "./controls.js";
import { el, int, note, on } from "./dom.js";
import { head } from "./freshness.js";
import * as session from "./session.js";
import { go } from "./state.js";

const DAYS_SHOWN = 21;
const STATES = ["succeeded", "partial", "failed", "running"];
let lastOutcome = null; // what the last button did, shown once on the next render

function addDays(iso, days) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function isSunday(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() === 0;
}

/** The dates from `to` back to `from`, newest first (at most a year, to keep the grid sane). */
function datesBetween(from, to) {
  const out = [];
  for (let day = to; day >= from && out.length < 366; day = addDays(day, -1)) out.push(day);
  return out;
}

function latestRuns(runs) {
  // The ledger answers newest first: the first run seen for a job and date is its latest.
  const out = new Map();
  for (const run of runs) {
    const key = `${run.job} ${run.target_date}`;
    if (!out.has(key)) out.set(key, run);
  }
  return out;
}

async function runJob(state, job, params, what) {
  try {
    const summary = await api.post(`jobs/${encodeURIComponent(job)}/runs`, params);
    const dates = summary.runs.map((r) => `${r.target_date} ${r.status}`).join(", ");
    lastOutcome = { ok: summary.status === "succeeded", text: `${what}: ${summary.status}${dates ? ` (${dates})` : " (nothing was due)"}` };
  } catch (error) {
    if (error instanceof api.SignInNeeded) {
      // A click, not a render: hand the sign-in over to the page (main.js listens).
      window.dispatchEvent(new CustomEvent(api.SIGN_IN_EVENT, { detail: error.message }));
      return;
    }
    lastOutcome = { ok: false, text: `${what}: ${error.message}` };
  }
  go(state);
}

function cell(state, job, day, run, canRun) {
  const weeklyOff = job.cadence === "weekly" && !isSunday(day);
  const due = (job.due || []).includes(day);
  const target = day === job.target_date;
  let kind;
  if (weeklyOff) kind = "none";
  else if (run) kind = run.status;
  else if (due) kind = "due";
  else if (target && job.stale) kind = "missing";
  else if (day > job.target_date) kind = "later";
  else kind = "no-run";
  const words = {
    none: "",
    due: "due",
    missing: "not run",
    later: "",
    "no-run": "no run",
  };
  const parts = [el("span", { class: "cell-state" }, words[kind] ?? kind)];
  if (target) parts.push(el("span", { class: "marker" }, job.stale ? "expected · stale" : "expected"));
  else if (due && run) parts.push(el("span", { class: "marker" }, "due"));
  // What needs doing: a due or missed date, a failed or partial one. Older history is for the
  // command line's backfill.
  const runnable = canRun && ["due", "missing", "failed", "partial"].includes(kind);
  if (runnable) {
    parts.push(
      on(
        el("button", { type: "button", class: "run", "aria-label": `Run ${job.job} for ${day}`, "data-action": "run" }, "Run"),
        "click",
        (event) => {
          event.currentTarget.disabled = true;
          return runJob(state, job.job, { date: day }, `${job.job} for ${day}`);
        },
      ),
    );
  }
  const title = run ? `${job.job} ${day}: ${run.status} (${run.trigger})${run.error ? ` — ${run.error}` : ""}` : `${job.job} ${day}`;
  return el(
    "td",
    {
      class: `cell state-${kind}${due ? " is-due" : ""}${target ? " is-target" : ""}${target && job.stale ? " is-stale" : ""}`,
      "data-job": job.job,
      "data-date": day,
      "data-state": kind,
      title,
    },
    parts,
  );
}

export async function render(state) {
  const status = await api.get("jobs/status");
  const today = status.today;
  const to = state.to || today;
  const from = state.from || addDays(to, -(DAYS_SHOWN - 1));
  const page = await api.get("jobs/runs", { from, to, limit: 1000 });
  const latest = latestRuns(page.runs);
  const canRun = session.scopes().has("jobs:run");
  const jobs = status.jobs;
  const finished = jobs.map((j) => j.latest_finished_at).filter(Boolean).sort();
  const stale = jobs.filter((j) => j.stale);
  const outcome = lastOutcome;
  lastOutcome = null;
  const headRow = el(
    "tr",
    null,
    el("th", { scope: "col" }, "Date"),
    jobs.map((job) =>
      el(
        "th",
        { scope: "col", "data-job": job.job },
        el("span", { class: "job-name" }, job.job),
        canRun
          ? on(
              el("button", { type: "button", class: "catch-up", "aria-label": `Catch up ${job.job}`, "data-action": "catch-up" }, "Catch up"),
              "click",
              (event) => {
                event.currentTarget.disabled = true;
                return runJob(state, job.job, { catch_up: "true" }, `${job.job} catch-up`);
              },
            )
          : null,
      ),
    ),
  );
  const body = datesBetween(from, to).map((day) =>
    el(
      "tr",
      { "data-date": day },
      el("th", { scope: "row" }, day, isSunday(day) ? el("span", { class: "weekday" }, " Sun") : null),
      jobs.map((job) => cell(state, job, day, latest.get(`${job.job} ${day}`), canRun)),
    ),
  );
  return [
    head("Runs", {
      date: `${from} to ${to} (today ${today}, UTC)`,
      asOf: finished.length ? finished[finished.length - 1] : null,
      stale: stale.length > 0,
      staleText: stale.map((j) => `${j.job} has not computed ${j.target_date}`).join("; ") + ".",
    }),
    outcome ? el("p", { class: outcome.ok ? "outcome ok" : "outcome bad", role: "status", "data-field": "outcome" }, outcome.text) : null,
    filterForm(state, [
      { name: "from", label: "From", type: "date" },
      { name: "to", label: "To", type: "date" },
    ]),
    el(
      "dl",
      { class: "cards" },
      jobs.map((job) =>
        el(
          "div",
          { class: `card${job.stale ? " stale-card" : ""}`, "data-card": job.job },
          el("dt", null, job.job),
          el(
            "dd",
            null,
            el("span", null, `latest: ${job.latest_succeeded || "never"}`),
            el("span", null, `due: ${int((job.due || []).length)}${job.due_beyond_horizon && job.due_beyond_horizon.count ? ` (+${int(job.due_beyond_horizon.count)} older)` : ""}`),
            el("span", null, `running: ${int((job.running || []).length)}`),
          ),
        ),
      ),
    ),
    el(
      "div",
      { class: "table-wrap" },
      el("table", { class: "calendar" }, el("caption", null, "Each date's latest run per job"), el("thead", null, headRow), el("tbody", null, body)),
    ),
    legend([...STATES.map((s) => [s, `state-${s}`]), ["due (missing, will be caught up)", "state-due"], ["expected date not run (stale)", "state-missing"]]),
    canRun ? null : note("Running a date needs a token with the jobs:run scope.", "muted"),
    page.truncated ? note("Only the newest 1,000 runs of this range are shown.", "muted") : null,
  ];
}
