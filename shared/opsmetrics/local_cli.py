"""`opsmetrics serve` and `opsmetrics invoke`: the HTTP API and the Lambda handlers, run on this
machine. Kept apart from cli.py so that each command's options sit next to its code."""

from __future__ import annotations

import argparse
from typing import Any

from opsmetrics.serve_check import port_number


def add_commands(sub: Any) -> None:
    from opsmetrics.local_invoke import REPORTS_FUNCTION, job_folders

    serve = sub.add_parser(
        "serve",
        help="serve the HTTP reports API locally (needs the http extra)",
        description="Serve the reports and job routes over HTTP with functions-framework"
        " (gunicorn), on the database of DATABASE_URL or the embedded one. Requests need a"
        " bearer token: `opsmetrics token --org ORG_ID` (ids: `opsmetrics orgs`). On a"
        " loopback host without OPSMETRICS_JWT_SECRET or JWKS settings it trusts the public"
        " development key, so keep it on this machine. Routes: docs/http.md.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    serve.add_argument(
        "--port", type=port_number, default=8080, help="TCP port, 1-65535 (default %(default)s)"
    )

    invoke = sub.add_parser(
        "invoke",
        help="run a Lambda handler here with an event file, as Lambda would (no Docker)",
        description="Load functions/FUNCTION/app.py, call its lambda_handler with the event"
        " and a stand-in context, and print its answer as JSON. Sample events:"
        " infra/events/FUNCTION/*.json (job functions: scheduler, scheduled-rule, manual-date,"
        " backfill-range; reports: API Gateway HTTP events). The handler's own logs show"
        " with -v.",
    )
    invoke.add_argument(
        "function",
        help=f"{' | '.join([*job_folders(), REPORTS_FUNCTION])} (dashes work too)",
    )
    invoke.add_argument(
        "--event", required=True, help="path of an event JSON file, e.g. infra/events/..."
    )


def cmd_serve(args: argparse.Namespace) -> int:
    # The http extra first, then the address: a mistake is one line, before "serving on ...".
    import functions_framework  # noqa: F401

    from opsmetrics.reports.server import serve
    from opsmetrics.serve_check import check_bindable

    check_bindable(args.host, args.port)
    serve(host=args.host, port=args.port, settings=args.settings)
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from opsmetrics.local_invoke import invoke

    return invoke(args.function, args.event)
