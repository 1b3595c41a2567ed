"""No answer, JSON, CSV or table, can carry NaN or Infinity (spec §8): the JSON encoder and the
cell formatter refuse them loudly, so a bad number that slipped past the jobs fails a test
instead of reaching a client as invalid JSON or a "nan" figure."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest

from opsmetrics.reports import render
from opsmetrics.reports.render import dumps


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, Decimal("NaN")])
@pytest.mark.parametrize("compact", [True, False])
def test_the_encoder_refuses_non_finite_numbers(bad: object, compact: bool) -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        dumps({"rows": [{"avg_confidence": bad}]}, compact=compact)


def test_finite_numbers_pass_unchanged() -> None:
    value = {"a": 0.5, "b": Decimal("12.34"), "c": 1e308, "d": -0.0}
    assert json.loads(dumps(value, compact=True)) == {"a": 0.5, "b": 12.34, "c": 1e308, "d": -0.0}


@pytest.mark.parametrize(
    "bad", [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("-Infinity")]
)
def test_a_table_or_csv_cell_refuses_non_finite_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="cell would hold"):
        render._cell(bad)
    with pytest.raises(ValueError, match="cell would hold"):
        render._table_cell(bad)


def test_finite_cells_read_as_before() -> None:
    assert [render._cell(v) for v in (0.5, Decimal("12.3"), 1e3, None)] == [
        "0.50",
        "12.30",
        "1000.00",
        "",
    ]
