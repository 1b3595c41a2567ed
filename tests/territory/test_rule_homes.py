"""Each staffing rule has one home (rules.py): no other module of the package (the products, the
reports, the command line, the demo; not seed/, whose synthetic data is shaped on purpose) names
a threshold or compares a figure with a number, so a new spelling of a rule fails here before it
can drift from rules.py."""

from __future__ import annotations

import re
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

from opsmetrics.territory import rules
from opsmetrics.territory.conditions import Figure
from opsmetrics.territory.figures import FIGURE_COLUMNS
from opsmetrics.territory.summary import TOTALS_SQL_PARTS, TerritoryTotals

PACKAGE = Path(rules.__file__).parents[1]
# seed/ shapes synthetic data around the thresholds on purpose (seed/profiles.py says how).
NOT_SCANNED = ("seed/",)
# rules_sql.py holds the SQL twins of rules.rate and rules.utilization, built from the constants.
MAY_NAME_THRESHOLDS = {"territory/rules.py", "territory/rules_sql.py"}
THRESHOLDS = [
    name
    for name, value in vars(rules).items()
    if name.isupper()
    and not name.startswith("_")
    and isinstance(value, int | Decimal)
    and not isinstance(value, bool)
]
# A figure of territory_metrics (or its TerritoryFigures name) compared with a number other than 0,
# in Python or SQL, either way round: `m.rejection_rate > 10`, `row["utilization"] >= 80`,
# `85 < utilization`, `utilization BETWEEN 70 AND 85`, `GREATEST(utilization, 0) > 80`.
_FIGURE = (
    r"\b(?:primary_medic_utilization|utilization|rejection_rate|fulfillment_rate|total_bookings"
    r"|hiring_trigger_weeks|coverage_gap_weeks)\b"
)
_NUMBER = r"(?:Decimal\()?[\"']?(?:[1-9]|0\.\d*[1-9])"
COMPARED = re.compile(
    rf"{_FIGURE}[\"'\])]*\s*(?:>=|<=|>|<|=)\s*{_NUMBER}"
    rf"|{_NUMBER}[\d.]*[\"')]*\s*(?:>=|<=|>|<)\s*[\w.\[\"']*{_FIGURE}"
    rf"|{_FIGURE}[\"'\])]*\s+BETWEEN\s+\d"
    rf"|{_FIGURE}[^;\n]{{0,40}}?\)\s*(?:>=|<=|>|<)\s*{_NUMBER}",
    re.IGNORECASE,
)
# A line that compares a figure with a number on purpose, not as a rule, says why at its end.
NOT_A_RULE = "# not a rule:"


def _modules() -> dict[str, str]:
    """Every Python module but seed/'s, and the dashboard's scripts (the page takes its
    thresholds from /assets/rules.js, generated from rules.py)."""
    sources = [*sorted(PACKAGE.rglob("*.py")), *sorted(PACKAGE.glob("dashboard/static/*.js"))]
    return {
        path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8")
        for path in sources
        if not path.relative_to(PACKAGE).as_posix().startswith(NOT_SCANNED)
    }


def test_the_thresholds_and_modules_are_found() -> None:
    assert {"MINIMUM_VOLUME", "HIRING_UTILIZATION", "GAP_CRITICAL_REJECTION"} <= set(THRESHOLDS)
    scanned = set(_modules())
    assert {"territory/streaks.py", "trends/sql.py", "reports/routes.py", "demo.py"} <= scanned
    assert "dashboard/static/view-territories.js" in scanned


def test_no_module_but_rules_names_a_threshold() -> None:
    named = {
        (module, name)
        for module, source in _modules().items()
        if module not in MAY_NAME_THRESHOLDS
        for name in THRESHOLDS
        if re.search(rf"\b{name}\b", source)
    }
    assert named == set(), (
        "use the conditions of rules.py (or rules_sql.py), not the thresholds: docs/house.md,"
        " Change a threshold or a rule"
    )


def test_no_module_but_rules_compares_a_figure_with_a_number() -> None:
    found = [
        f"{module}:{number}: {line.strip()}"
        for module, source in _modules().items()
        if module != "territory/rules.py"
        for number, line in enumerate(source.splitlines(), 1)
        if COMPARED.search(line) and NOT_A_RULE not in line
    ]
    assert found == [], (
        "a rule written outside rules.py: use its conditions (rules.OVERLOADED.sql(), ...), see"
        " docs/house.md, Change a threshold or a rule"
    )


def test_the_pattern_catches_a_rule_written_again() -> None:
    assert COMPARED.search("m.rejection_rate > 10")
    assert COMPARED.search("if t.utilization >= Decimal(80):")
    assert COMPARED.search("total_bookings>=10")
    assert COMPARED.search('if row["primary_medic_utilization"] > 85:')
    assert COMPARED.search("WHERE 85 < m.primary_medic_utilization")
    assert COMPARED.search("m.primary_medic_utilization BETWEEN 70 AND 85")
    assert COMPARED.search("GREATEST(m.utilization, 0) > 80")
    assert COMPARED.search("r.primary_medic_utilization > 80 ? 'high' : ''")  # the page's JS
    assert not COMPARED.search("count(*) FILTER (WHERE hiring_trigger_weeks > 0)")
    assert not COMPARED.search("r.primary_medic_utilization > RULES.overloadedAbove")


def test_every_figure_names_a_field_and_a_column() -> None:
    figures = [v for v in vars(rules).values() if isinstance(v, Figure)]
    assert len(figures) >= 6
    names = {f.name for f in fields(rules.TerritoryFigures)}
    for figure in figures:
        assert figure.field in names, figure
        assert re.search(rf"\bm\.{figure.column}\b", FIGURE_COLUMNS), figure


def test_the_totals_sql_gives_every_total() -> None:
    assert list(TOTALS_SQL_PARTS) == [f.name for f in fields(TerritoryTotals)]
