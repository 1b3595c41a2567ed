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
from typing import Any

from opsmetrics import cli_args, ledger_cli, local_cli, orgs_cli
from opsmetrics.cli_errors import EXIT_BAD_REQUEST, EXIT_BUSY, EXIT_FAILED
from opsmetrics.cli_parser import build_parser
from opsmetrics.errors import BadRequest, ConfigError, Terminated

__all__ = ["EXIT_BAD_REQUEST", "EXIT_BUSY", "EXIT_FAILED", "main"]


def cmd_db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import ProgrammingError

    from opsmetrics import migrations

    engine = cli_args.engine(args)
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
        cli_args.engine(args),
        scale=args.scale,
        seed=args.seed,
        anchor=args.anchor_date or day_before(cli_args.today()),
        reset=args.reset,
    )
    print("seeded: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import json

    from opsmetrics import jobs, run_report, runs

    if args.catch_up and (args.date or args.date_from or args.date_to):
        raise BadRequest("--catch-up runs the due dates and the usual target: give no dates")
    today = cli_args.today()
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
            engine=cli_args.engine(args),
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
    from opsmetrics.orgs import check_org_exists, parse_org_id
    from opsmetrics.reports.model import ReportParams
    from opsmetrics.reports.registry import build
    from opsmetrics.reports.render import render

    _refuse_unused_options(args)
    engine = cli_args.engine(args)
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
        today=cli_args.today(),
    )
    with engine.connect() as conn:
        report = build(conn, args.name, params)
    sys.stdout.write(render(report, args.format))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from opsmetrics.demo import main as demo_main

    code: int = demo_main(args.settings, serve_port=args.port if args.serve else None)
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
