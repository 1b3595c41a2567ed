"""`opsmetrics runs` and `opsmetrics status`: the run ledger and job freshness on the command line
(spec §6). The work is in `history`, `freshness` and `ledger_views`; this is the argparse
side, kept apart so that cli.py stays one screen per command.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from opsmetrics.cli_errors import EXIT_FAILED


def add_commands(sub: Any) -> None:
    from opsmetrics.cli_args import date_arg, positive_int
    from opsmetrics.history import DEFAULT_LIMIT, STATUSES
    from opsmetrics.jobs import JOBS
    from opsmetrics.ledger_views import RUN_FORMATS, STATUS_FORMATS

    runs = sub.add_parser("runs", help="the run ledger (job_runs), newest first")
    runs.add_argument(
        "--job",
        type=lambda name: name.strip().replace("_", "-"),  # both spellings, as `run` takes
        choices=list(JOBS),
        metavar="JOB",
        help=" | ".join(JOBS),
    )
    runs.add_argument("--status", choices=STATUSES, help=" | ".join(STATUSES))
    runs.add_argument("--from", dest="date_from", type=date_arg, help="target dates from D")
    runs.add_argument("--to", dest="date_to", type=date_arg, help="target dates up to D")
    runs.add_argument(
        "--org", help="what one organization sees: its own runs and the all-organization ones"
    )
    runs.add_argument("--request", help="the runs of one request (a backfill, a catch-up)")
    runs.add_argument(
        "--limit", type=positive_int, default=DEFAULT_LIMIT, help="at most this many runs"
    )
    runs.add_argument("--format", choices=RUN_FORMATS, default="table")

    status = sub.add_parser(
        "status",
        help="per job: latest succeeded date, due dates, runs in progress, stale;"
        " exit 1 unless all fresh and nothing due",
    )
    status.add_argument("--org", help="one organization's view (default: every organization)")
    status.add_argument("--format", choices=STATUS_FORMATS, default="table")


def cmd_runs(args: argparse.Namespace) -> int:
    from opsmetrics import cli_args, history
    from opsmetrics.ledger_views import render_runs
    from opsmetrics.orgs import check_org_exists

    # Checked before connecting: a bad filter is exit 2 even without a database.
    wanted = history.run_filter(
        job=args.job,
        status=args.status,
        start=args.date_from,
        end=args.date_to,
        org_id=args.org,
        request_id=args.request,
        limit=args.limit,
    )
    engine = cli_args.engine(args)
    if wanted.org_id is not None:
        check_org_exists(engine, wanted.org_id)
    with engine.connect() as conn:
        page = history.list_runs(conn, wanted)
    sys.stdout.write(render_runs(page, args.format))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from opsmetrics import cli_args, freshness
    from opsmetrics.ledger_views import render_status
    from opsmetrics.orgs import check_org_exists, parse_org_id

    org = parse_org_id(args.org)
    engine = cli_args.engine(args)
    if org is not None:
        check_org_exists(engine, org)
    found = freshness.status(
        engine, today=cli_args.today(), horizon_days=args.settings.catchup_days, org_id=org
    )
    sys.stdout.write(render_status(found, args.format))
    # A health check: 0 only when every job is fresh and nothing is due (spec §6).
    return 0 if found.healthy else EXIT_FAILED
