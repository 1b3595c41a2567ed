"""The `opsmetrics` command line's options: every command, its arguments and their help."""

from __future__ import annotations

import argparse

from opsmetrics import ledger_cli, local_cli, orgs_cli
from opsmetrics.cli_args import Parser, date_arg, job_name, positive_int
from opsmetrics.territory import rules

DESCRIPTION = (
    "The `opsmetrics` command line: schema, seed data, jobs, reports, local serving, the demo."
)


def build_parser() -> argparse.ArgumentParser:
    from opsmetrics.jobs import JOBS
    from opsmetrics.reports.registry import REPORTS
    from opsmetrics.reports.render import FORMATS

    parser = Parser(prog="opsmetrics", description=DESCRIPTION)
    parser.set_defaults(verbose=False, log_format=None)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(
        dest="db_command", required=True, metavar="ACTION", parser_class=Parser
    )
    up = db_sub.add_parser("upgrade", help="bring the schema up to date (safe to repeat)")
    up.add_argument(
        "--outputs-only",
        action="store_true",
        help="create only the project's own tables (for a product database with the sources)",
    )
    db_sub.add_parser("status", help="show the applied schema revisions")

    seed = sub.add_parser("seed", help="load realistic synthetic data")
    seed.add_argument(
        "--scale", default="demo", help="small (tests), demo (seconds) or uk (11,000 territories)"
    )
    seed.add_argument("--seed", type=int, default=7, help="random seed: same seed, same data")
    seed.add_argument(
        "--anchor-date", type=date_arg, help="last day with data (default: yesterday, UTC)"
    )
    seed.add_argument(
        "--reset", action="store_true", help="empty the source and output tables first"
    )

    run = sub.add_parser(
        "run", help="run a job now, backfill a range in date order, or catch up what is due"
    )
    run.add_argument(
        "job",
        type=job_name,
        choices=list(JOBS),
        metavar="JOB",
        help=" | ".join(JOBS) + " (underscores work too)",
    )
    run.add_argument("--date", type=date_arg, help="target date (default: the job's usual target)")
    run.add_argument("--from", dest="date_from", type=date_arg, help="first date of a backfill")
    run.add_argument("--to", dest="date_to", type=date_arg, help="last date of a backfill")
    run.add_argument(
        "--catch-up",
        action="store_true",
        help="run the due dates (missed or failed, within OPSMETRICS_CATCHUP_DAYS) oldest first,"
        " then the usual target",
    )
    run.add_argument("--org", help="limit to one organization id")
    run.add_argument("--json", action="store_true", help="print the run summary as JSON")

    report = sub.add_parser("report", help="print a report")
    report.add_argument("name", choices=list(REPORTS), metavar="NAME", help=" | ".join(REPORTS))
    report.add_argument("--date", type=date_arg, help="report date (default: latest with data)")
    report.add_argument("--from", dest="date_from", type=date_arg, help="first day (trends)")
    report.add_argument("--to", dest="date_to", type=date_arg, help="last day (trends)")
    report.add_argument("--org", help="one organization id (default: all)")
    report.add_argument(
        "--region",
        help="only this region, any case, e.g. London, 'South East', Scotland (territories,"
        " hiring-triggers, coverage-gaps); the territories report lists the regions",
    )
    report.add_argument("--limit", type=positive_int, help="at most this many rows")
    report.add_argument("--cursor", help="continue a paginated report (territories)")
    report.add_argument(
        "--include-low-volume",
        action="store_true",
        help=f"coverage gaps with {rules.LOW_VOLUME} too",
    )
    report.add_argument("--format", choices=FORMATS, default="table")

    ledger_cli.add_commands(sub)
    orgs_cli.add_command(sub)

    demo = sub.add_parser(
        "demo", help="everything above on an embedded PostgreSQL, nothing to install"
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="then serve the dashboard on the demo's data and print the link that signs you in",
    )
    demo.add_argument("--port", type=positive_int, default=8080, help="with --serve")

    local_cli.add_commands(sub)

    token = sub.add_parser("token", help="mint a local bearer token for the HTTP API")
    token.add_argument(
        "--org",
        help="organization id the token speaks for (without it: an operator token, every"
        " organization, for the job routes)",
    )
    token.add_argument(
        "--scope",
        action="append",
        help="a scope (repeat it, or give several separated by spaces); default: reports:read"
        " reports:refresh with --org, jobs:read jobs:run without",
    )
    token.add_argument("--ttl", type=positive_int, default=3600, help="seconds until it expires")
    token.add_argument(
        "--open",
        action="store_true",
        help="print the dashboard link that signs in with the token (opened when a browser is at"
        " hand); default scopes add jobs:read and jobs:run",
    )
    token.add_argument("--port", type=positive_int, default=8080, help="of `serve`, for --open")
    return parser
