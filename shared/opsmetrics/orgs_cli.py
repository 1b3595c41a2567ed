"""`opsmetrics orgs`: the organizations, their ids (for --org and `token --org`) and what data
each has; and the check that `token --org` names one of them."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import Any

from sqlalchemy import Connection, text

from opsmetrics.errors import BadRequest

ORG_FORMATS = ("table", "json", "csv")
ORG_COLUMNS = ["id", "name", "territories", "slack_classifications"]

# One row per organization: its territories (staffing data) and whether it has Slack data.
_ORGS_SQL = """
SELECT o.id, o.name,
       (SELECT count(*) FROM territories t WHERE t.org_id = o.id) AS territories,
       EXISTS (SELECT 1 FROM topic_classifications c WHERE c.organization_id = o.id)
           AS slack_classifications
FROM organizations o
ORDER BY o.name COLLATE "C", o.id
"""


def add_command(sub: Any) -> None:
    orgs = sub.add_parser(
        "orgs",
        help="list the organizations: the ids --org and `token --org` take",
    )
    orgs.add_argument("--format", choices=ORG_FORMATS, default="table")


def list_orgs(conn: Connection) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.id),
            "name": r.name,
            "territories": int(r.territories),
            "slack_classifications": bool(r.slack_classifications),
        }
        for r in conn.execute(text(_ORGS_SQL))
    ]


def render_orgs(orgs: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"organizations": orgs}, indent=2) + "\n"
    if fmt == "csv":
        from opsmetrics.reports.model import Report
        from opsmetrics.reports.render import render_csv

        return render_csv(Report("organizations", None, ORG_COLUMNS, orgs))
    from opsmetrics.ledger_views import text_table

    if not orgs:
        return "organizations: none (load some with `opsmetrics seed`)\n"
    rows = [
        [
            o["id"],
            o["name"],
            f"{o['territories']:,}",
            "yes" if o["slack_classifications"] else "no",
        ]
        for o in orgs
    ]
    header = ["id", "name", "territories", "slack data"]
    return "\n".join([f"organizations: {len(orgs)}", *text_table(header, rows)]) + "\n"


def cmd_orgs(args: argparse.Namespace) -> int:
    from opsmetrics import cli_args

    with cli_args.engine(args).connect() as conn:
        found = list_orgs(conn)
    sys.stdout.write(render_orgs(found, args.format))
    return 0


def check_token_org(args: argparse.Namespace) -> None:
    """`token --org X`: refuse an organization the database does not have (its reports would
    be empty, not an error); when the database cannot be asked, say so and go on."""
    import jwt  # noqa: F401 - the http extra, named before anything else is tried

    if not args.org:
        return
    try:
        org = uuid.UUID(str(args.org).strip())
    except ValueError:
        raise BadRequest(f"organization id must be a UUID, got {args.org!r}") from None
    from opsmetrics import cli_args
    from opsmetrics.orgs import org_exists

    try:
        known = org_exists(cli_args.engine(args), org)
    except Exception as exc:  # no database to ask here: a token is still useful
        from opsmetrics.cli_errors import explain

        reason = explain(exc).line
        sys.stderr.write(
            f"warning: could not check that organization {org} exists ({reason});"
            " minting the token anyway\n"
        )
        return
    if not known:
        raise BadRequest(
            f"unknown organization {org}: its token would see no data;"
            " list the organizations with `opsmetrics orgs`"
        )
