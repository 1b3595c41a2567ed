"""AWS Lambda entry point for the on-demand reports HTTP API (API Gateway HTTP API, payload v2).

The routes live in opsmetrics.reports.routes; this file only exposes the Powertools front door.
"""

from opsmetrics.reports.lambda_app import lambda_handler

__all__ = ["lambda_handler"]
