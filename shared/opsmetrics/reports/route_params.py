"""The query parameters of the report routes, declared once: routes.py builds the table from them,
and the OpenAPI document and the parameter checks read them from the table."""

from __future__ import annotations

from opsmetrics.reports.params import Param
from opsmetrics.territory import rules
from opsmetrics.territory.limits import DEFAULT_WEEKLY_ROWS

FORMAT = Param(
    "format",
    "choice",
    "json or csv; without it the Accept header decides, else json",
    choices=("json", "csv"),
)
DATE = Param(
    "date", "date", "report date (default: the latest date with data for your organization)"
)
WEEK = Param(
    "date",
    "date",
    "week-ending Sunday (default: the latest Sunday with data for your organization)",
)
REGION = Param("region", "string", "only territories of this region (any case), e.g. London")
LIMIT = Param("limit", "integer", "territories per page", minimum=1, maximum=1000, default=100)
CURSOR = Param("cursor", "string", "the next_cursor of the previous page")
# Triggers and gaps are not paginated: the most urgent come first and the summary counts them all.
# The maximum keeps an answer far below Lambda's 6 MB response limit (about 0.7 KB per trigger);
# without a limit the report's own default applies (the command line's too).
MOST = Param(
    "limit",
    "integer",
    f"at most this many rows, most urgent first (default {DEFAULT_WEEKLY_ROWS}; the summary"
    " counts all; truncated says if cut)",
    minimum=1,
    maximum=5000,
)
INCLUDE_LOW_VOLUME = Param(
    "include_low_volume", "boolean", f"also gaps with {rules.LOW_VOLUME}", default=False
)
FROM = Param(
    "from", "date", "first day (alone: 7 days from it; neither: the latest 7 days with data)"
)
TO = Param("to", "date", "last day (alone: the 7 days ending on it)")
TREND_DAY = Param("date", "date", "one day instead of a range")
REFRESH_DATE = Param(
    "date",
    "date",
    "the date to recompute (default: the job's usual target: yesterday, or for the weekly"
    " reports the latest Sunday before today); hiring-triggers and coverage-gaps take a Sunday",
)

REPORT_QUERY: dict[str, tuple[Param, ...]] = {
    "territories": (DATE, REGION, LIMIT, CURSOR),
    "hiring-triggers": (WEEK, REGION, MOST),
    "coverage-gaps": (WEEK, REGION, INCLUDE_LOW_VOLUME, MOST),
    "trends": (FROM, TO, TREND_DAY),
}
# A refresh recomputes one date, then answers as the GET for that date would.
REFRESH_QUERY: dict[str, tuple[Param, ...]] = {
    "territories": (REFRESH_DATE, REGION, LIMIT, CURSOR),
    "hiring-triggers": (REFRESH_DATE, REGION, MOST),
    "coverage-gaps": (REFRESH_DATE, REGION, INCLUDE_LOW_VOLUME, MOST),
    "trends": (REFRESH_DATE,),
}
REPORT_SUMMARIES = {
    "territories": "territory summary and territory rows (paginated)",
    "hiring-triggers": "hiring triggers grouped by region, with counts by severity",
    "coverage-gaps": "coverage gaps, critical first then by rejection rate",
    "trends": "the organization's daily communication trend rows",
}
