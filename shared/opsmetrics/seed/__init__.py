"""Realistic synthetic data for both products: `opsmetrics seed`.

    from opsmetrics import seed
    counts = seed.load(engine, scale="demo", seed=7, anchor=date(2026, 11, 22), reset=True)

Scales are listed in `SCALES` (small, demo, uk); the same scale, seed and anchor always give
byte-identical rows, ids included. See docs/seed.md for the data design.
"""

from __future__ import annotations

from opsmetrics.seed.loader import OUTPUT_TABLES, SOURCE_TABLES, load
from opsmetrics.seed.scales import SCALES, Scale, StaffingOrg

__all__ = ["OUTPUT_TABLES", "SCALES", "SOURCE_TABLES", "Scale", "StaffingOrg", "load"]
