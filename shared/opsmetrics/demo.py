"""`opsmetrics demo`: the whole product on a throwaway embedded database, nothing to install.

It always uses its own database (`opsmetrics_demo`) on the embedded server, rebuilt each time,
so it never touches DATABASE_URL or the data of `opsmetrics seed`. Steps: schema, demo data,
the weekly job over the last four Sundays (a backfill, so consecutive-week counters build up),
the daily jobs for yesterday, then the reports an operations admin reads in the morning.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, text

from opsmetrics import embedded, migrations, runs
from opsmetrics.config import Settings
from opsmetrics.dates import day_before, latest_sunday_before
from opsmetrics.db import build_engine
from opsmetrics.errors import ConfigError
from opsmetrics.reports.model import ReportParams
from opsmetrics.reports.registry import build
from opsmetrics.reports.render import render
from opsmetrics.run_report import duration
from opsmetrics.run_results import RunSummary
from opsmetrics.territory import rules

DEMO_DB = "opsmetrics_demo"
WEEKS = 4  # enough consecutive Sundays for a territory to reach "3+ weeks overloaded"
TREND_DAYS = 7  # the trends report's default range: a week of bars on the dashboard
# The seed's first staffing organization is also a Slack customer: every view has its data.
DASHBOARD_ORG = "Capital Event Medics"
DASHBOARD_TOKEN_TTL_S = 8 * 3600  # a working day
TABLE_ROWS = 12  # keep the printed reports to a screenful each


# How to read the numbers above (the rules: docs/specification.md §3-4, docs/territory.md).
READING = (
    "How to read these numbers (every threshold from territory/rules.py):",
    *rules.IN_WORDS,
    "  On the demo's data most territories sit at 40-80 %.",
    "  Operating it: docs/runbook.md; every table and rule: docs/specification.md.",
)


# Where seed/profiles.py puts most of the demo's territories: a description of the data.
SPREAD = "primary_medic_utilization BETWEEN 30 AND 90"  # not a rule: the data's spread


def utilization_line(engine: Engine, day: date) -> str:
    """How the day's territories spread over utilization, in one line."""
    with engine.connect() as conn:
        n, average, between, above = conn.execute(
            text(
                "SELECT count(*), coalesce(avg(primary_medic_utilization), 0),"
                f" count(*) FILTER (WHERE {SPREAD}),"
                f" count(*) FILTER (WHERE {rules.OVERLOADED.sql()})"
                " FROM territory_metrics m WHERE m.metric_date = :day"
            ),
            {"day": day},
        ).one()

    def share(k: int) -> str:
        return f"{100 * k / n:.0f} %" if n else "-"

    return (
        f"Territories on {day}: {n:,}, average utilization {average:.1f} %;"
        f" {share(between)} between 30 and 90 %, {share(above)} {rules.OVERLOADED_WORDS}."
    )


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def need_embedded() -> None:
    import importlib.util

    if importlib.util.find_spec("pgserver") is None:
        # The demo never uses DATABASE_URL, so "set DATABASE_URL" would not help here.
        raise ConfigError(
            "the demo runs on its own embedded PostgreSQL, which is not installed:"
            " pip install 'opsmetrics[local]' (or run `python3 dev.py demo`, which does)"
        )


def demo_engine(settings: Settings) -> Engine:
    need_embedded()
    pgdata = settings.data_dir / "pgdata"
    embedded.start(pgdata)
    embedded.drop_database(pgdata, DEMO_DB)
    return build_engine(embedded.url(pgdata, DEMO_DB), settings)


def _run(engine: Engine, settings: Settings, job: str, dates: list[date]) -> RunSummary:
    started = time.perf_counter()
    trigger = "backfill" if len(dates) > 1 else "manual"
    summary = runs.run(job, dates, trigger=trigger, engine=engine, settings=settings)
    took = duration(time.perf_counter() - started)
    span = f"{dates[0]}" if len(dates) == 1 else f"{dates[0]}..{dates[-1]} ({len(dates)} runs)"
    bad = sum(int(r.stats.get("bad_rows", 0)) for r in summary.runs)
    note = f", {bad:,} bad rows left out and counted" if bad else ""
    _say(f"  {job:<24} {span:<32} {summary.status} in {took}{note}")
    for r in summary.runs:
        if r.error:
            _say(f"    {r.target_date}: {r.error}")
    return summary


def _report(engine: Engine, name: str, params: ReportParams) -> None:
    with engine.connect() as conn:
        report = build(conn, name, params)
    if len(report.rows) > TABLE_ROWS:
        report.rows = report.rows[:TABLE_ROWS]
        report.extra["truncated"] = True
    _say(f"== opsmetrics report {name}")
    sys.stdout.write(render(report, "table"))
    _say()


def _dashboard_org(engine: Engine) -> str | None:
    from sqlalchemy import text

    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT id FROM organizations WHERE name = :name ORDER BY id LIMIT 1"),
            {"name": DASHBOARD_ORG},
        ).scalar()
    return str(found) if found is not None else None


def _serve_dashboard(engine: Engine, settings: Settings, port: int) -> None:
    """Serve the demo's database and print (and where possible open) the signed-in link."""
    import os

    from opsmetrics.dashboard.link import DASHBOARD_SCOPES, dashboard_url, open_in_browser
    from opsmetrics.reports.auth import local_keys, mint_token
    from opsmetrics.reports.server import serve

    org = _dashboard_org(engine)
    # The server's workers inherit the environment: point them at the demo's database, which
    # this process keeps running (the embedded server stops with its last process).
    os.environ["DATABASE_URL"] = embedded.url(settings.data_dir / "pgdata", DEMO_DB)
    token = mint_token(
        org_id=org,
        scopes=DASHBOARD_SCOPES,
        ttl_s=DASHBOARD_TOKEN_TTL_S,
        config=local_keys(settings.auth, "opsmetrics token"),
    )
    url = dashboard_url(token, port=port)
    _say(f"== the dashboard of {DASHBOARD_ORG}, signed in for 8 hours (Ctrl-C stops the server):")
    _say(f"  {url}")
    if open_in_browser(url):
        _say("  (opened in your browser)")
    serve("127.0.0.1", port)


def main(settings: Settings, serve_port: int | None = None) -> int:
    from opsmetrics import seed

    need_embedded()
    # Bad rows are logged as JSON warnings for operators; here the run lines already count them.
    from opsmetrics.observability import logger

    logger().setLevel("ERROR")
    yesterday = day_before(datetime.now(UTC).date())
    last_sunday = latest_sunday_before(yesterday + timedelta(days=1))
    sundays = [last_sunday - timedelta(weeks=w) for w in reversed(range(WEEKS))]
    _say(f"== embedded PostgreSQL under {settings.data_dir / 'pgdata'} (database {DEMO_DB})")
    engine = demo_engine(settings)
    try:
        _say("== opsmetrics db upgrade")
        _say("  applied: " + ", ".join(migrations.upgrade(engine)))
        _say(f"== opsmetrics seed --scale demo (data up to {yesterday})")
        counts = seed.load(engine, scale="demo", seed=7, anchor=yesterday, reset=True)
        for table, n in counts.items():
            _say(f"  {table:<24} {n:>8,}")
        _say("== opsmetrics run (weekly backfill, then yesterday's daily jobs)")
        results = [
            _run(engine, settings, "weekly-hiring-triggers", sundays),
            _run(engine, settings, "daily-territory-metrics", [yesterday]),
            _run(
                engine,
                settings,
                "daily-trend-aggregation",
                [yesterday - timedelta(days=n) for n in reversed(range(TREND_DAYS))],
            ),
        ]
        _say()
        _report(engine, "hiring-triggers", ReportParams(date=last_sunday))
        _report(engine, "coverage-gaps", ReportParams(date=last_sunday))
        _report(engine, "trends", ReportParams(date=yesterday))
        _say(utilization_line(engine, yesterday))
        for line in READING:
            _say(line)
        _say()
        _say("Next, on a database of your own (DATABASE_URL, or the embedded one by default):")
        _say("  opsmetrics db upgrade && opsmetrics seed && opsmetrics run daily-territory-metrics")
        _say("  opsmetrics report territories --format csv | head")
        ok = all(r.ok for r in results)
        if serve_port is not None and ok:
            _say()
            _serve_dashboard(engine, settings, serve_port)
        elif serve_port is None:
            _say()
            _say("See these figures in the dashboard, in a browser:")
            _say("  python3 dev.py demo --serve    (or: opsmetrics demo --serve [--port 8080])")
            _say("  It reruns this demo, serves it on http://127.0.0.1:8080 and prints the link")
            _say("  that signs you in. On your own data: opsmetrics serve, then in another shell")
            _say("  opsmetrics token --org ORG_ID --open")
        return 0 if ok else 1
    finally:
        engine.dispose()
