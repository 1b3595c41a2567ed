"""Sizes the territory reports share with the HTTP API's help text. Imports nothing, so that the
routing table can name them without loading the reports' SQL."""

from __future__ import annotations

# When no limit is asked for, the weekly reports (hiring-triggers, coverage-gaps) list this many
# rows, most urgent first; their counts always cover every row. (A national organization can
# have 10,000+ triggers.)
DEFAULT_WEEKLY_ROWS = 100
