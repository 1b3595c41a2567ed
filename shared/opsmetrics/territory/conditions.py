"""The vocabulary the staffing rules (rules.py) are written in: a condition on a territory's
figures, held as data so that one definition gives both spellings. `holds` evaluates it on a row
in Python; `sql` writes it as a SQL boolean over the row's columns. Comparisons with a threshold,
and AND/OR of them, are all the rules need; a severity ladder takes the first step that holds.

NULL: a comparison with a missing figure (no bookings: no rate) does not hold in Python and is
NULL in SQL, which WHERE, FILTER and CASE WHEN read as false. Coalesce it before applying NOT.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Literal

Number = Decimal | int
Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")  # most urgent first
Op = Literal[">", ">=", "<"]
_OPS: dict[Op, Callable[[Number, Number], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Figure:
    """One figure of a territory on a date: its TerritoryFigures field (also its name among
    figures.FIGURE_COLUMNS) and the territory_metrics column that stores it."""

    field: str
    column: str

    def of(self, row: object) -> Number | None:
        value: Number | None = getattr(row, self.field)
        return value

    def above(self, threshold: Number) -> Compare:
        return Compare(self, ">", threshold)

    def at_least(self, threshold: Number) -> Compare:
        return Compare(self, ">=", threshold)

    def below(self, threshold: Number) -> Compare:
        return Compare(self, "<", threshold)

    def is_set(self) -> IsSet:
        return IsSet(self)


# How a SQL expression names a figure.
Naming = Callable[[Figure], str]


def in_metrics(figure: Figure) -> str:
    """territory_metrics aliased `m` (or a row with its column names, aliased `m`)."""
    return f"m.{figure.column}"


def in_figures(figure: Figure) -> str:
    """A row with figures.FIGURE_COLUMNS' names, unqualified."""
    return figure.field


class Condition(ABC):
    @abstractmethod
    def holds(self, row: object) -> bool:
        """Whether the condition holds for a row with the figures as attributes."""

    @abstractmethod
    def sql(self, name: Naming = in_metrics) -> str:
        """The condition as a SQL boolean (NULL where a figure it compares is NULL)."""

    def __and__(self, other: Condition) -> Condition:
        return AllOf((self, other))

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, other))


@dataclass(frozen=True)
class Compare(Condition):
    """figure `op` threshold."""

    figure: Figure
    op: Op
    threshold: Number

    def accepts(self, value: Number | None) -> bool:
        return value is not None and _OPS[self.op](value, self.threshold)

    def holds(self, row: object) -> bool:
        return self.accepts(self.figure.of(row))

    def sql(self, name: Naming = in_metrics) -> str:
        return f"{name(self.figure)} {self.op} {self.threshold}"


@dataclass(frozen=True)
class IsSet(Condition):
    """The figure is not missing (a rate needs bookings)."""

    figure: Figure

    def holds(self, row: object) -> bool:
        return self.figure.of(row) is not None

    def sql(self, name: Naming = in_metrics) -> str:
        return f"{name(self.figure)} IS NOT NULL"


@dataclass(frozen=True)
class _Junction(Condition):
    """Parts joined by AND (AllOf) or OR (AnyOf); (a AND b) AND c is kept as a AND b AND c, so
    the SQL has one level of parentheses."""

    parts: tuple[Condition, ...]
    WORD: ClassVar[str]
    JOIN: ClassVar[Callable[[Iterable[bool]], bool]]

    def __post_init__(self) -> None:
        flat: list[Condition] = []
        for part in self.parts:
            flat.extend(part.parts if isinstance(part, type(self)) else (part,))
        object.__setattr__(self, "parts", tuple(flat))

    def holds(self, row: object) -> bool:
        return type(self).JOIN(part.holds(row) for part in self.parts)

    def sql(self, name: Naming = in_metrics) -> str:
        return "(" + f" {self.WORD} ".join(part.sql(name) for part in self.parts) + ")"


class AllOf(_Junction):
    WORD = "AND"
    JOIN = all


class AnyOf(_Junction):
    WORD = "OR"
    JOIN = any


@dataclass(frozen=True)
class Step:
    """One severity of a ladder: it applies when the figure passes `test` (its threshold is the
    one reported) and `also` holds."""

    severity: Severity
    test: Compare
    also: Condition | None = None

    @property
    def condition(self) -> Condition:
        return self.test if self.also is None else self.test & self.also


@dataclass(frozen=True)
class Ladder:
    """The severities of one figure, most severe first: the first step that holds gives the
    severity and the threshold; when none holds there is no finding."""

    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        tests = {(s.test.figure, s.test.op == "<") for s in self.steps}
        if not self.steps or len(tests) != 1:
            raise ValueError("a ladder compares one figure, in one direction, in every step")
        if len({s.severity for s in self.steps}) != len(self.steps):
            raise ValueError("a ladder names each severity once")

    @property
    def figure(self) -> Figure:
        return self.steps[0].test.figure

    @property
    def falling(self) -> bool:
        """Whether the finding is a figure under its threshold (else over it)."""
        return self.steps[0].test.op == "<"

    @property
    def raised(self) -> Condition:
        """Some step holds: the loosest step when the steps differ only in their threshold (one
        comparison in SQL instead of one per step), else any of them."""
        if len({s.also for s in self.steps}) == 1:
            # at one threshold ">=" is the looser of the two rising comparisons
            if self.falling:
                return max(self.steps, key=lambda s: s.test.threshold).condition
            return min(self.steps, key=lambda s: (s.test.threshold, s.test.op == ">")).condition
        return AnyOf(tuple(s.condition for s in self.steps))

    def step(self, row: object) -> Step | None:
        return next((s for s in self.steps if s.condition.holds(row)), None)

    def requiring(self, condition: Condition) -> Ladder:
        """The same ladder where every step also needs `condition`."""
        return Ladder(
            tuple(
                Step(s.severity, s.test, condition if s.also is None else s.also & condition)
                for s in self.steps
            )
        )

    def excess(self, value: Decimal, threshold: Decimal) -> Decimal:
        """How far past its threshold a finding is (under it, for a falling figure)."""
        return threshold - value if self.falling else value - threshold

    def severity_sql(self, name: Naming = in_metrics) -> str:
        """The severity as SQL text ('critical', 'warning', ...), NULL when no step holds."""
        whens = " ".join(f"WHEN {s.condition.sql(name)} THEN '{s.severity}'" for s in self.steps)
        return f"CASE {whens} END"

    def excess_sql(self, severity: str, name: Naming = in_metrics) -> str:
        """`excess` in SQL, given the SQL of the finding's severity."""
        value = name(self.figure)
        whens = " ".join(
            f"WHEN '{s.severity}' THEN "
            + (f"{s.test.threshold} - {value}" if self.falling else f"{value} - {s.test.threshold}")
            for s in self.steps
        )
        return f"CASE {severity} {whens} END"


def severity_rank_sql(severity: str) -> str:
    """SEVERITIES.index(severity) in SQL: 0 for the most urgent."""
    named = SEVERITIES[:-1]
    whens = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(named))
    return f"CASE {severity} {whens} ELSE {len(named)} END"
