"""functions-framework source: `functions-framework --source <this file> --target reports`."""

from opsmetrics.reports.server import reports

__all__ = ["reports"]
