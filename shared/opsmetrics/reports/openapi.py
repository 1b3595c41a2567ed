"""The OpenAPI 3.1 document of the reports API, generated from the routing table (never by hand)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from opsmetrics.reports.auth import ORG_CLAIM

_ERROR = {"$ref": "#/components/schemas/Error"}
_ERROR_CONTENT = {"application/json": {"schema": _ERROR}}
_ERRORS = {
    "400": "a bad parameter; the message names it",
    "401": "missing or invalid bearer token",
    "403": "the token lacks the scope this route needs",
    "500": "internal error (details are logged, not returned)",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("opsmetrics")
    except PackageNotFoundError:
        return "0"


def document() -> dict[str, Any]:
    from opsmetrics.reports.routes import ROUTES

    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        op: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "parameters": [
                *_path_parameters(route.path),
                *(
                    {
                        "name": p.name,
                        "in": "query",
                        "required": False,
                        "description": p.description,
                        "schema": p.schema(),
                    }
                    for p in route.params
                ),
            ],
            "security": [{"bearer": [route.scope]}] if route.scope else [],
        }
        if route.report is not None:
            op["tags"] = ["reports"]
            responses: dict[str, Any] = {
                "200": {
                    "description": f"the {route.report} report (X-Report-Date says its date)",
                    "headers": _report_headers(),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
            }
            if route.method == "GET":
                responses["304"] = {"description": "not modified (If-None-Match matched the ETag)"}
            else:
                responses["409"] = {
                    "description": "the same job and date is already running; try again",
                    "content": _ERROR_CONTENT,
                }
            for status, text in _ERRORS.items():
                responses[status] = {"description": text, "content": _ERROR_CONTENT}
        elif route.path.startswith("/jobs/"):
            op["tags"] = ["jobs"]
            responses = _job_responses(route.method)
        elif route.operation_id.startswith("dashboard"):
            op["tags"] = ["dashboard"]
            responses = _dashboard_responses(route.path)
        elif route.operation_id == "health":
            responses = {
                "200": {"description": "serving, database reachable", "content": _HEALTH},
                "503": {"description": "database unreachable", "content": _HEALTH},
            }
        else:
            responses = {
                "200": {
                    "description": "this document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            }
        op["responses"] = responses
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "opsmetrics reports",
            "version": _version(),
            "description": (
                "On-demand reports of one organization: the one named by the bearer token's"
                f" `{ORG_CLAIM}` claim. JSON by default; CSV with `Accept: text/csv` or"
                " `?format=csv`. Without `date`, a report uses the latest date with data and"
                " says which in `date` (JSON) and the `X-Report-Date` header. The /jobs routes"
                " show and run the scheduled jobs: a token with an"
                f" `{ORG_CLAIM}` claim for its own organization, an operator token (no"
                f" `{ORG_CLAIM}` claim) for every organization."
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": (
                        f"claims: `{ORG_CLAIM}` (UUID), `scope` with reports:read and/or"
                        " reports:refresh, jobs:read, jobs:run; without"
                        f" `{ORG_CLAIM}` (an operator token) only the /jobs routes answer"
                    ),
                }
            },
            "schemas": {
                "Report": _REPORT_SCHEMA,
                "Error": _ERROR_SCHEMA,
                "RunSummary": _RUN_SUMMARY_SCHEMA,
            },
        },
    }


def _path_parameters(path: str) -> list[dict[str, Any]]:
    """The {name} segments of a path (the job routes' {job}, the dashboard's {file})."""
    from opsmetrics.dashboard.pages import asset_names
    from opsmetrics.jobs import JOBS

    known = {
        "job": ("the job's name", list(JOBS)),
        "file": ("a script, style sheet or icon of the dashboard", list(asset_names())),
    }
    out = []
    for segment in path.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            description, values = known[name]
            out.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "description": description,
                    "schema": {"type": "string", "enum": values},
                }
            )
    return out


def _dashboard_responses(path: str) -> dict[str, Any]:
    """The dashboard's files: public, revalidated with the ETag."""
    if path == "/":
        content = {"text/html": {"schema": {"type": "string"}}}
        ok = "the dashboard page (Content-Security-Policy: its own scripts and origin only)"
    else:
        content = {
            "text/javascript": {"schema": {"type": "string"}},
            "text/css": {"schema": {"type": "string"}},
            "image/svg+xml": {"schema": {"type": "string"}},
        }
        ok = "the file"
    out: dict[str, Any] = {
        "200": {"description": ok, "content": content},
        "304": {"description": "not modified (If-None-Match matched the ETag)"},
    }
    if path != "/":
        out["404"] = {"description": "no such file", "content": _ERROR_CONTENT}
    return out


def _job_responses(method: str) -> dict[str, Any]:
    """Job routes: never cached; a POST answers with the run summary."""
    if method == "GET":
        ok = {
            "description": "the answer (Cache-Control: no-store); /jobs/runs also as text/csv",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
        out: dict[str, Any] = {"200": ok}
    else:
        summary = {"application/json": {"schema": {"$ref": "#/components/schemas/RunSummary"}}}
        out = {
            "200": {
                "description": "the run summary (X-Job-Status says its status)",
                "content": summary,
            },
            "404": {"description": "unknown job", "content": _ERROR_CONTENT},
            "409": {
                "description": "the same job and date is already running; try again",
                "content": _ERROR_CONTENT,
            },
        }
    for status, text in _ERRORS.items():
        out[status] = {"description": text, "content": _ERROR_CONTENT}
    if method == "POST":
        out["500"] = {
            "description": "a date ended failed or partial; the error carries the summary too",
            "content": _ERROR_CONTENT,
        }
    return out


def _report_headers() -> dict[str, Any]:
    string = {"schema": {"type": "string"}}
    return {
        "ETag": {"description": "strong validator of this body", **string},
        "Cache-Control": {
            "description": "private, max-age=300 (no-store after a refresh)",
            **string,
        },
        "X-Report-Date": {"description": "the date the report is for", **string},
        "X-Next-Cursor": {"description": "cursor of the next page (territories)", **string},
        "Link": {"description": 'rel="next": the next page (territories)', **string},
    }


_HEALTH = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"status": {"type": "string"}, "database": {"type": "string"}},
        }
    }
}
_REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["report", "date", "summary", "rows"],
    "properties": {
        "report": {"type": "string"},
        "date": {"type": ["string", "null"], "format": "date"},
        "summary": {"type": "object"},
        "rows": {"type": "array", "items": {"type": "object"}},
        "next_cursor": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}
_RUN_SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["job", "trigger", "org_id", "request_id", "request_kind", "status", "runs"],
    "properties": {
        "job": {"type": "string"},
        "trigger": {"type": "string"},
        "org_id": {"type": ["string", "null"]},
        "request_id": {"type": "string"},
        "request_kind": {"type": "string"},
        "status": {"type": "string", "enum": ["succeeded", "partial", "failed"]},
        "runs": {"type": "array", "items": {"type": "object"}},
    },
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}


@cache
def document_json() -> str:
    return json.dumps(document(), indent=2)


if __name__ == "__main__":
    # The committed copy: python3 -m opsmetrics.reports.openapi > docs/openapi.json
    print(document_json())
