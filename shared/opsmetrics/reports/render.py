"""Render a Report as JSON, CSV or a plain-text table. One renderer for the CLI and HTTP."""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from opsmetrics.errors import BadRequest
from opsmetrics.reports.model import Report, utc_iso

FORMATS = ("table", "json", "csv")


def to_jsonable(value: Any) -> Any:
    """json.dumps default: numbers stay numbers, ids and dates become strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any, *, compact: bool = False) -> str:
    """JSON text for every answer. NaN or Infinity anywhere raises ValueError: JSON has no such
    numbers, and spec §8 says no output holds them, so a bad value that got this far fails
    loudly instead of reaching a client as invalid JSON."""
    # compact (HTTP): no indent lets json use its C encoder, several times faster on big reports
    if compact:
        return json.dumps(value, default=to_jsonable, separators=(",", ":"), allow_nan=False)
    return json.dumps(value, default=to_jsonable, indent=2, allow_nan=False)


def render_json(report: Report, *, compact: bool = False) -> str:
    return dumps(report.to_dict(), compact=compact)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return dumps(value, compact=True)
    if isinstance(value, Decimal | float):
        if not math.isfinite(value):
            # As dumps: no output holds NaN or Infinity; a value this far is a bug, said loudly.
            raise ValueError(f"a table or CSV cell would hold {value}")
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _table_cell(value: Any) -> str:
    """A cell for a person: yes/no rather than True/False (CSV keeps _cell's spelling)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _cell(value)


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow([_cell(row.get(c)) for c in report.columns])
    return out.getvalue()


def table_columns(report: Report) -> list[str]:
    """The columns a person reads in a terminal: ids and nested JSON are left to CSV and JSON."""
    nested = {c for row in report.rows for c, v in row.items() if isinstance(v, dict | list)}
    return [c for c in report.columns if not c.endswith("_id") and c not in nested]


def _footer(report: Report) -> list[str]:
    shown = len(report.rows)
    total = report.extra.get("rows_total")
    if report.extra.get("next_cursor"):
        return [f"  more rows: --cursor {report.extra['next_cursor']}"]
    if total is not None and total > shown:
        return [f"  showing {shown} of {total} rows (--limit for more)"]
    if report.extra.get("truncated"):
        return [f"  showing the first {shown} rows (--limit for more)"]
    return []


def _header(report: Report) -> list[str]:
    """The report, its date, and (spec §7) when its data was computed and whether it is
    stale."""
    first, last = report.extra.get("date_from"), report.extra.get("date_to")
    if first and last and first != last:  # a range (trends): both ends, not just the last
        title = f"{report.name} — {first} to {last}"
    else:
        title = f"{report.name} — {report.date.isoformat() if report.date else 'no data'}"
    fresh = report.freshness
    if fresh is None:
        return [title]
    stale = f"yes: {fresh.job} has not computed {fresh.expected}" if fresh.stale else "no"
    return [f"{title} (as of {utc_iso(fresh.as_of)})", f"  stale: {stale}"]


def render_table(report: Report) -> str:
    lines = _header(report)
    for key, value in report.summary.items():
        shown = _table_cell(value) if value is not None else "-"
        lines.append(f"  {key.replace('_', ' ')}: {shown}")
    if not report.rows:
        lines.append("  (no rows)")
        return "\n".join(lines) + "\n"
    columns = table_columns(report)
    cells = [[_table_cell(row.get(c)) for c in columns] for row in report.rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines.append("")
    lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    lines.extend(_footer(report))
    return "\n".join(lines) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report) + "\n"
    if fmt == "csv":
        return render_csv(report)
    if fmt == "table":
        return render_table(report)
    raise BadRequest(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
