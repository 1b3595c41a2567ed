"""The `opsmetrics` command line: schema, seed data, jobs, reports, local serving, the demo.

Every failure a user can cause ends in one line on stderr and a non-zero exit, never a
traceback: 2 for a bad request, 3 when the same job and date is already running, 1 when a job
ran and failed (or was partial).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NoReturn

from opsmetrics import ledger_cli, local_cli, orgs_cli
from opsmetrics.cli_errors import EXIT_BAD_REQUEST, EXIT_BUSY, EXIT_FAILED
from opsmetrics.errors import BadRequest, ConfigError, Terminated

__all__ = ["EXIT_BAD_REQUEST", "EXIT_BUSY", "EXIT_FAILED", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (not usage + error) so it reads well at 3 AM, and
    every command takes the logging options, before or after its name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from opsmetrics.terminal import LOG_FORMATS

        # SUPPRESS: a subcommand's parser sets them only when given, so `opsmetrics -v run`
        # and `opsmetrics run ... -v` both work.
        self.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="log job details (INFO) to stderr, as JSON unless --log-format human",
        )
        self.add_argument(
            "--log-format",
            choices=LOG_FORMATS,
            default=argparse.SUPPRESS,
            help="log lines on stderr: human (default) or json (as in Lambda)",
        )

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_REQUEST, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _job_name(value: str) -> str:
    """A job name as the jobs spell it or as the Lambda folders do (underscores)."""
    return value.strip().replace("_", "-")


def _date_arg(value: str) -> date:
    from opsmetrics.dates import parse_date

    try:
        return parse_date(value)
    except BadRequest as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    from opsmetrics.jobs import JOBS
    from opsmetrics.reports.registry import REPORTS
    from opsmetrics.reports.render import FORMATS

    parser = _Parser(prog="opsmetrics", description=__doc__.splitlines()[0])
    parser.set_defaults(verbose=False, log_format=None)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(
        dest="db_command", required=True, metavar="ACTION", parser_class=_Parser
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
        "--anchor-date", type=_date_arg, help="last day with data (default: yesterday, UTC)"
    )
    seed.add_argument(
        "--reset", action="store_true", help="empty the source and output tables first"
    )

    run = sub.add_parser(
        "run", help="run a job now, backfill a range in date order, or catch up what is due"
    )
    run.add_argument(
        "job",
        type=_job_name,
        choices=list(JOBS),
        metavar="JOB",
        help=" | ".join(JOBS) + " (underscores work too)",
    )
    run.add_argument("--date", type=_date_arg, help="target date (default: the job's usual target)")
    run.add_argument("--from", dest="date_from", type=_date_arg, help="first date of a backfill")
    run.add_argument("--to", dest="date_to", type=_date_arg, help="last date of a backfill")
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
    report.add_argument("--date", type=_date_arg, help="report date (default: latest with data)")
    report.add_argument("--from", dest="date_from", type=_date_arg, help="first day (trends)")
    report.add_argument("--to", dest="date_to", type=_date_arg, help="last day (trends)")
    report.add_argument("--org", help="one organization id (default: all)")
    report.add_argument(
        "--region",
        help="only this region, any case, e.g. London, 'South East', Scotland (territories,"
        " hiring-triggers, coverage-gaps); the territories report lists the regions",
    )
    report.add_argument("--limit", type=_positive_int, help="at most this many rows")
    report.add_argument("--cursor", help="continue a paginated report (territories)")
    report.add_argument(
        "--include-low-volume", action="store_true", help="coverage gaps under 10 bookings too"
    )
    report.add_argument("--format", choices=FORMATS, default="table")

    ledger_cli.add_commands(sub, _date_arg, _positive_int)
    orgs_cli.add_command(sub)

    demo = sub.add_parser(
        "demo", help="everything above on an embedded PostgreSQL, nothing to install"
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="then serve the dashboard on the demo's data and print the link that signs you in",
    )
    demo.add_argument("--port", type=_positive_int, default=8080, help="with --serve")

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
    token.add_argument("--ttl", type=_positive_int, default=3600, help="seconds until it expires")
    token.add_argument(
        "--open",
        action="store_true",
        help="print the dashboard link that signs in with the token (opened when a browser is at"
        " hand); default scopes add jobs:read and jobs:run",
    )
    token.add_argument("--port", type=_positive_int, default=8080, help="of `serve`, for --open")
    return parser


def _engine(args: argparse.Namespace) -> Any:
    from opsmetrics.db import get_engine

    return get_engine(args.settings, allow_embedded=True)


def _today() -> date:
    return datetime.now(UTC).date()


def cmd_db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import ProgrammingError

    from opsmetrics import migrations

    engine = _engine(args)
    if args.db_command == "status":
        applied = migrations.current(engine)
        print(
            "applied: "
            + (", ".join(applied) if applied else "nothing (run: opsmetrics db upgrade)")
        )
        return 0
    try:
        applied = migrations.upgrade(engine, outputs_only=args.outputs_only)
    except ProgrammingError as exc:
        if "already exists" in str(exc) and not args.outputs_only:
            raise ConfigError(
                "source tables already exist here (a product database?): "
                "use `opsmetrics db upgrade --outputs-only`"
            ) from None
        if "does not exist" in str(exc) and args.outputs_only:
            raise ConfigError(
                "--outputs-only needs the source tables (organizations, territories) to exist"
            ) from None
        raise
    print("schema up to date: " + ", ".join(applied))
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from opsmetrics import seed
    from opsmetrics.dates import day_before

    counts = seed.load(
        _engine(args),
        scale=args.scale,
        seed=args.seed,
        anchor=args.anchor_date or day_before(_today()),
        reset=args.reset,
    )
    print("seeded: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import json

    from opsmetrics import jobs, run_report, runs

    if args.catch_up and (args.date or args.date_from or args.date_to):
        raise BadRequest("--catch-up runs the due dates and the usual target: give no dates")
    today = _today()
    dates = jobs.requested_dates(
        args.job, today=today, on=args.date, start=args.date_from, end=args.date_to
    )
    trigger = "backfill" if args.date_from else "manual"
    watch = run_report.RunWatch()
    try:
        summary = runs.run(
            args.job,
            dates,
            trigger=trigger,
            engine=_engine(args),
            settings=args.settings,
            org_id=args.org,
            on_progress=watch.on_progress,
            catch_up=args.catch_up,
            today=today,
        )
    except KeyboardInterrupt:
        print(f"opsmetrics run: {run_report.after_interrupt(args, watch, dates)}", file=sys.stderr)
        raise
    if args.json:
        print(json.dumps(summary.to_dict(), default=str, indent=2))
    else:
        for r in summary.runs:
            detail = r.error or ", ".join(
                f"{k} {v}"
                for k, v in r.stats.items()
                if isinstance(v, int) and not isinstance(v, bool)
            )
            print(f"{args.job} {r.target_date} {r.status}" + (f": {detail}" if detail else ""))
        if len(summary.runs) > 1:
            print(run_report.summary_line(summary.runs, watch.elapsed()))
    stopped = run_report.after_failure(args, summary.runs)
    if stopped:
        print(f"opsmetrics run: {stopped}", file=sys.stderr)
    return 0 if summary.ok else EXIT_FAILED


# Options each report understands; any other is refused rather than silently ignored.
REPORT_OPTIONS: dict[str, set[str]] = {
    "territories": {"date", "region", "limit", "cursor"},
    "hiring-triggers": {"date", "region", "limit"},
    "coverage-gaps": {"date", "region", "limit", "include_low_volume"},
    "trends": {"date", "date_from", "date_to", "limit"},
}
_OPTION_FLAGS = {
    "date": "--date",
    "date_from": "--from",
    "date_to": "--to",
    "region": "--region",
    "limit": "--limit",
    "cursor": "--cursor",
    "include_low_volume": "--include-low-volume",
}


def _refuse_unused_options(args: argparse.Namespace) -> None:
    allowed = REPORT_OPTIONS.get(args.name, set())
    for dest, flag in _OPTION_FLAGS.items():
        if getattr(args, dest) not in (None, False) and dest not in allowed:
            raise BadRequest(f"{flag} does not apply to the {args.name} report")


def cmd_report(args: argparse.Namespace) -> int:
    from opsmetrics.dates import check_range
    from opsmetrics.reports.model import ReportParams
    from opsmetrics.reports.registry import build
    from opsmetrics.reports.render import render
    from opsmetrics.runs import check_org_exists, parse_org_id

    _refuse_unused_options(args)
    engine = _engine(args)
    org = parse_org_id(args.org)
    if org is not None:
        check_org_exists(engine, org)
    if args.date_from and args.date_to:
        check_range(args.date_from, args.date_to, ("--from", "--to"))
    params = ReportParams(
        org_id=org,
        date=args.date,
        date_from=args.date_from,
        date_to=args.date_to,
        region=args.region,
        limit=args.limit,
        cursor=args.cursor,
        include_low_volume=args.include_low_volume,
        today=_today(),
    )
    with engine.connect() as conn:
        report = build(conn, args.name, params)
    sys.stdout.write(render(report, args.format))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from opsmetrics.demo import main as demo_main

    code: int = demo_main(serve_port=args.port if args.serve else None)
    return code


def cmd_token(args: argparse.Namespace) -> int:
    from opsmetrics.orgs_cli import check_token_org
    from opsmetrics.reports.auth import (
        OPERATOR_DEFAULT_SCOPES,
        ORG_DEFAULT_SCOPES,
        local_keys,
        mint_token,
    )

    check_token_org(args)

    if args.scope:  # each --scope may itself hold several, space-separated
        scopes = [s for given in args.scope for s in given.split()]
    elif args.open and args.org:
        from opsmetrics.dashboard.link import DASHBOARD_SCOPES

        scopes = list(DASHBOARD_SCOPES)
    else:
        scopes = list(ORG_DEFAULT_SCOPES if args.org else OPERATOR_DEFAULT_SCOPES)
    keys = local_keys(args.settings.auth, "opsmetrics token")
    token = mint_token(org_id=args.org, scopes=scopes, ttl_s=args.ttl, config=keys)
    if not args.open:
        print(token)
        return 0
    from opsmetrics.dashboard.link import dashboard_url, open_in_browser

    url = dashboard_url(token, port=args.port)
    print(url)
    if open_in_browser(url):
        sys.stderr.write("opened the dashboard in your browser (is `opsmetrics serve` running?)\n")
    return 0


COMMANDS = {
    "db": cmd_db,
    "seed": cmd_seed,
    "run": cmd_run,
    "report": cmd_report,
    "runs": ledger_cli.cmd_runs,
    "status": ledger_cli.cmd_status,
    "serve": local_cli.cmd_serve,
    "demo": cmd_demo,
    "invoke": local_cli.cmd_invoke,
    "token": cmd_token,
    "orgs": orgs_cli.cmd_orgs,
}


def main(argv: Sequence[str] | None = None) -> int:
    from opsmetrics.cli_errors import explain
    from opsmetrics.config import Settings
    from opsmetrics.terminal import cli_logging

    args = build_parser().parse_args(argv)
    previous = _terminate_like_ctrl_c()
    try:
        with cli_logging(verbose=args.verbose, log_format=args.log_format):
            # The front door: the environment is read once, here; commands use args.settings.
            args.settings = Settings.from_env()
            return COMMANDS[args.command](args)
    except Terminated:
        print(f"opsmetrics {args.command}: terminated (SIGTERM)", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"opsmetrics {args.command}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except Exception as exc:  # the last line of defence: one line, never a traceback
        found = explain(exc)
        prefix = f"opsmetrics {args.command}: "
        print(prefix + found.line, file=sys.stderr)
        if found.unexpected and args.verbose:
            raise
        return found.code
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate_like_ctrl_c() -> Any:
    """SIGTERM (`kill`, a stopped container) unwinds like Ctrl-C: a run in progress records itself
    as failed, rolls back and releases its lock before the process ends. Returns the handler it
    replaced (None off the main thread, where signals cannot be handled)."""

    def _raise(signum: int, frame: object) -> None:
        raise Terminated()

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise)


if __name__ == "__main__":
    sys.exit(main())
