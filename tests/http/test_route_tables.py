"""The docs' tables of routes against the routing table (opsmetrics/reports/routes.py): each lists
exactly the routes it is about, with the same scope where it has a scope column, so a route added
to the table (or removed from it) fails here until the pages say so."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from opsmetrics.reports.route_model import Route
from opsmetrics.reports.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`]*)`")
PUBLIC = {"—", "-", "none", ""}  # how a scope column says "no token needed"

Key = tuple[str, str]


def tables(page: Path, header: str) -> list[list[str]]:
    """The rows (as cells) of every Markdown table of `page` whose header starts with `header`."""
    lines = page.read_text(encoding="utf-8").splitlines()
    rows: list[list[str]] = []
    for start, line in enumerate(lines):
        if not line.startswith(header):
            continue
        for row in lines[start + 2 :]:
            if not row.startswith("|"):
                break
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]])
    assert rows, f"{page.relative_to(ROOT)} has no table with the header {header!r}"
    return rows


def served_by(method: str, path: str) -> list[Route]:
    """The routes a listed `METHOD /path` stands for: itself, or each report's route when the
    page writes the report as {name} (as API Gateway's one event for them does)."""
    found = [r for r in ROUTES if (r.method, r.path) == (method, path)]
    if not found and "{name}" in path:
        found = [
            r
            for r in ROUTES
            if r.report and r.method == method and r.path == path.replace("{name}", r.report)
        ]
    return found


def listed(page: Path, header: str, scope_column: int | None = None) -> dict[Key, str | None]:
    """(method, path) of the routing table -> the scope the page gives it (None: public), for
    every route the page's tables list; a listed route the table does not serve is kept as
    written, so it shows as extra."""
    found: dict[Key, str | None] = {}
    for cells in tables(page, header):
        for method, path in CODE.findall(cells[0]):
            scope = None
            if scope_column is not None:
                cell = cells[scope_column].strip("`").strip()
                scope = None if cell.lower() in PUBLIC else cell
            keys = [(r.method, r.path) for r in served_by(method, path)] or [(method, path)]
            for key in keys:
                found[key] = scope
    return found


def expected(keep: Callable[[Route], bool]) -> dict[Key, str | None]:
    return {(r.method, r.path): r.scope for r in ROUTES if keep(r)}


def mismatch(
    file: str, what: str, found: dict[Key, str | None], want: dict[Key, str | None]
) -> str:
    missing = sorted(f"{m} {p}" for m, p in want.keys() - found.keys())
    extra = sorted(f"{m} {p}" for m, p in found.keys() - want.keys())
    scopes = sorted(
        f"{m} {p}: {found[(m, p)] or 'public'} there, {want[(m, p)] or 'public'} in the table"
        for m, p in want.keys() & found.keys()
        if found[(m, p)] != want[(m, p)]
    )
    return (
        f"update {file}: its table of {what} differs from the routing table"
        f" (opsmetrics/reports/routes.py). Not listed: {missing}; listed, not served: {extra};"
        f" scopes: {scopes}"
    )


def _all(route: Route) -> bool:
    return True


def _jobs(route: Route) -> bool:
    return route.path.startswith("/jobs/")


def _dashboard(route: Route) -> bool:
    return route.handler.__module__ == "opsmetrics.dashboard.pages"


# file, the table's header, which routes it lists, its scope column (None: it has none), what.
PAGES = [
    ("README.md", "| route | notes |", _all, None, "every route (section HTTP reports)"),
    ("docs/http.md", "| route | scope |", _all, 1, "every route (Routes and Job routes)"),
    ("docs/calendar.md", "| route | scope |", _jobs, 1, "the /jobs routes (Over HTTP)"),
    ("docs/dashboard.md", "| route | what | auth |", _dashboard, 2, "the dashboard's routes"),
]


@pytest.mark.parametrize(
    ("file", "header", "keep", "scope_column", "what"), PAGES, ids=[p[0] for p in PAGES]
)
def test_each_page_lists_the_routes_it_is_about(
    file: str, header: str, keep: Callable[[Route], bool], scope_column: int | None, what: str
) -> None:
    found = listed(ROOT / file, header, scope_column)
    want = expected(keep)
    if scope_column is None:  # a page without a scope column says nothing of scopes
        found = {key: want.get(key) for key in found}
    assert found == want, mismatch(file, what, found, want)
