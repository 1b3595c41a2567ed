"""No answer, JSON or CSV cell, can carry NaN or Infinity (CONTRACT §8): the one JSON encoder
refuses them loudly, so a bad number that slipped past the jobs fails a test instead of
reaching a client as invalid JSON."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest

from opsmetrics.reports.render import dumps


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, Decimal("NaN")])
@pytest.mark.parametrize("compact", [True, False])
def test_the_encoder_refuses_non_finite_numbers(bad: object, compact: bool) -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        dumps({"rows": [{"avg_confidence": bad}]}, compact=compact)


def test_finite_numbers_pass_unchanged() -> None:
    value = {"a": 0.5, "b": Decimal("12.34"), "c": 1e308, "d": -0.0}
    assert json.loads(dumps(value, compact=True)) == {"a": 0.5, "b": 12.34, "c": 1e308, "d": -0.0}
