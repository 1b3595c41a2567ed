"""How the run ledger and job freshness read: table, JSON and CSV, for the command line and HTTP.

JSON is the `to_dict()` of `history.RunPage` and `freshness.Freshness` (the same over HTTP);
CSV goes through the reports' renderer (a `Report`); tables are written for a terminal: one run
per line, times in UTC to the second, durations short, errors cut to one line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opsmetrics.errors import BadRequest
from opsmetrics.freshness import Freshness, JobFreshness
from opsmetrics.history import RunPage
from opsmetrics.reports.model import Report
from opsmetrics.reports.render import dumps, render_csv

RUN_FORMATS = ("table", "json", "csv")
STATUS_FORMATS = ("table", "json")
CSV_COLUMNS = [
    "run_id",
    "job",
    "target_date",
    "status",
    "trigger",
    "request_kind",
    "request_id",
    "org_id",
    "started_at",
    "finished_at",
    "duration_s",
    "error",
    "stats",
]
TABLE_COLUMNS = ["started (UTC)", "job", "target", "status", "trigger", "request", "org", "took"]
# Stats already shown elsewhere on the line, or too long for it.
_NOT_SHORT = {"duration_ms", "lock_wait_ms"}
_FIRST_STATS = ("rows_written", "bad_rows")
SHORT_STATS = 4
DETAIL_WIDTH = 80


def to_json(value: RunPage | Freshness, *, compact: bool = False) -> str:
    return dumps(value.to_dict(), compact=compact)


def runs_csv(page: RunPage) -> str:
    return render_csv(Report("job-runs", None, CSV_COLUMNS, page.runs))


def render_runs(page: RunPage, fmt: str) -> str:
    if fmt == "json":
        return to_json(page) + "\n"
    if fmt == "csv":
        return runs_csv(page)
    if fmt == "table":
        return runs_table(page)
    raise BadRequest(f"format must be one of {', '.join(RUN_FORMATS)}, got {fmt!r}")


def render_status(found: Freshness, fmt: str) -> str:
    if fmt == "json":
        return to_json(found) + "\n"
    if fmt == "table":
        return status_table(found)
    raise BadRequest(f"format must be one of {', '.join(STATUS_FORMATS)}, got {fmt!r}")


# --- tables --------------------------------------------------------------------------------------


def text_table(columns: list[str], rows: list[list[str]], indent: str = "") -> list[str]:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]

    def line(cells: list[str]) -> str:
        return indent + "  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True)).rstrip()

    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def runs_table(page: RunPage) -> str:
    shown = [f"{k}={v}" for k, v in page.filter.to_dict().items() if v is not None]
    lines = [f"job runs, newest first ({', '.join(shown)})"]
    if not page.runs:
        return "\n".join([*lines, "  (no runs)"]) + "\n"
    rows = [
        [
            _when(r["started_at"]),
            r["job"],
            r["target_date"].isoformat(),
            r["status"],
            r["trigger"],
            r["request_kind"] or "-",
            str(r["org_id"]) if r["org_id"] else "all",
            took(r["duration_s"]) + ("…" if r["status"] == "running" else ""),
            _cut(r["error"] or short_stats(r["stats"])),
        ]
        for r in page.runs
    ]
    lines.extend(text_table([*TABLE_COLUMNS, "error / stats"], rows, "  "))
    if page.truncated:
        lines.append(f"  showing the newest {len(page.runs)} (--limit for more, or filter)")
    return "\n".join(lines) + "\n"


def status_table(found: Freshness) -> str:
    scope = f"organization {found.org_id}" if found.org_id else "every organization"
    verdict = (
        "all fresh, nothing due"
        if found.healthy
        else f"{sum(not j.healthy for j in found.jobs)} job(s) need attention"
    )
    lines = [
        f"job status — {found.today} (UTC), {scope}, catch-up horizon"
        f" {found.horizon_days} days: {verdict}"
    ]
    if found.abandoned_closed:
        lines.append(f"  closed {found.abandoned_closed} abandoned running run(s) as failed")
    for job in found.jobs:
        lines.append("")
        lines.extend(_job_lines(job, found.horizon_days))
    return "\n".join(lines) + "\n"


def _job_lines(job: JobFreshness, horizon_days: int) -> list[str]:
    latest = (
        f"{job.latest.target_date} (finished {_when(job.latest.finished_at)})"
        if job.latest
        else "never"
    )
    problems = [p for p, found in (("STALE", job.stale), ("DUE", bool(job.due))) if found]
    if job.beyond.count:
        problems.append("GAPS")
    verdict = "ok" if job.healthy else "NEEDS ATTENTION: " + ", ".join(problems or ["see below"])
    lines = [
        f"{job.job} — {verdict}; expected {job.target}, latest succeeded {latest}",
        f"  due within {horizon_days} days: "
        + (", ".join(d.isoformat() for d in job.due) if job.due else "none"),
    ]
    if job.stale or job.due:
        # What the next scheduled run would do anyway, now (failures: opsmetrics runs --status)
        lines.append(
            f"    catch up now: opsmetrics run {job.job} --catch-up"
            f"  (why it failed: opsmetrics runs --job {job.job} --status failed)"
        )
    beyond = job.beyond
    if beyond.count:
        listed = ", ".join(d.isoformat() for d in beyond.dates)
        more = (
            f", … ({beyond.count - len(beyond.dates)} more)"
            if beyond.count > len(beyond.dates)
            else ""
        )
        span = (
            f"{beyond.oldest}"
            if beyond.oldest == beyond.newest
            else f"{beyond.oldest} to {beyond.newest}"
        )
        lines.append(f"  due beyond the horizon: {beyond.count} ({span}): {listed}{more}")
        lines.append(
            f"    backfill: opsmetrics run {job.job} --from {beyond.oldest} --to {beyond.newest}"
        )
    for run in job.running:
        who = f"organization {run.org_id}" if run.org_id else "all organizations"
        lines.append(
            f"  running: {run.target_date} for {took(run.running_for_s)}"
            f" (trigger {run.trigger}, {who}, run {run.run_id})"
        )
    return lines


# --- cells ---------------------------------------------------------------------------------------


def took(seconds: float | None) -> str:
    """0.42s, 12.3s, 3m04s, 2h05m."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def short_stats(stats: dict[str, Any]) -> str:
    """A few whole-number stats for one line: rows written and bad rows first (every job has
    them), then the job's own in stored order (jsonb keeps keys shortest first)."""
    numbers = {
        k: v
        for k, v in stats.items()
        if isinstance(v, int) and not isinstance(v, bool) and k not in _NOT_SHORT
    }
    first = [k for k in _FIRST_STATS if k in numbers]
    keys = [*first, *(k for k in numbers if k not in first)]
    return ", ".join(f"{k} {numbers[k]}" for k in keys[:SHORT_STATS])


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _cut(value: str) -> str:
    return value if len(value) <= DETAIL_WIDTH else value[: DETAIL_WIDTH - 1] + "…"
