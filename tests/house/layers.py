"""The package's layers, lowest first. A module may import its own layer and the layers below it,
never one above: each arrow then reads as one sentence, "a <layer> module uses <lower layer>".

A new module must be placed here (test_import_layers fails until it is): put it in the lowest
layer whose modules it needs, and if that means an arrow upwards, move the shared piece down
instead (as job_context.py and reports/route_model.py were).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

# (layer, what it holds, module patterns). First match wins.
LAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "foundation",
        "errors, dates, settings, logging: no I/O, nothing of ours below",
        (
            "opsmetrics",
            "opsmetrics.errors",
            "opsmetrics.dates",
            "opsmetrics.config",
            "opsmetrics.config_fields",
            "opsmetrics.plugins",
            "opsmetrics.observability",
            "opsmetrics.terminal",
            "opsmetrics.cli_errors",
            "opsmetrics.serve_check",
        ),
    ),
    (
        "storage",
        "engines, the embedded server, the schema and the synthetic data",
        (
            "opsmetrics.db",
            "opsmetrics.db_*",
            "opsmetrics.embedded",
            "opsmetrics.migrations",
            "opsmetrics.migrations.*",
            "opsmetrics.seed",
            "opsmetrics.seed.*",
        ),
    ),
    (
        "job model",
        "what jobs exist and what a job function receives and returns",
        ("opsmetrics.jobs", "opsmetrics.job_context"),
    ),
    (
        "ledger",
        "the job_runs ledger and what is read from it",
        (
            "opsmetrics.ledger",
            "opsmetrics.ledger_queries",
            "opsmetrics.orgs",
            "opsmetrics.run_results",
            "opsmetrics.history",
            "opsmetrics.freshness",
        ),
    ),
    (
        "report model",
        "a report's shape, rendering and lookup, shared by the command line and HTTP",
        (
            "opsmetrics.reports.model",
            "opsmetrics.reports.render",
            "opsmetrics.reports.formats",
            "opsmetrics.reports.registry",
            "opsmetrics.reports.computed",
            "opsmetrics.ledger_views",
        ),
    ),
    (
        "products",
        "the medic-staffing and Slack jobs and their read queries",
        (
            "opsmetrics.territory",
            "opsmetrics.territory.*",
            "opsmetrics.trends",
            "opsmetrics.trends.*",
        ),
    ),
    (
        "run loop",
        "locks, ledger rows and transactions around the products' job functions",
        ("opsmetrics.run_session", "opsmetrics.one_date", "opsmetrics.batch", "opsmetrics.runs"),
    ),
    (
        "doors",
        "Lambda, HTTP, the dashboard and the command line: parse, call one function, answer",
        (
            "opsmetrics.events",
            "opsmetrics.lambda_jobs",
            "opsmetrics.reports",
            "opsmetrics.reports.*",
            "opsmetrics.dashboard",
            "opsmetrics.dashboard.*",
            "opsmetrics.cli",
            "opsmetrics.cli_*",
            "opsmetrics.*_cli",
            "opsmetrics.local_invoke",
            "opsmetrics.run_report",
            "opsmetrics.demo",
        ),
    ),
)


def layer_of(module: str) -> int | None:
    for rank, (_, _, patterns) in enumerate(LAYERS):
        if any(fnmatchcase(module, p) for p in patterns):
            return rank
    return None


def breaks(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a module to one in a higher layer."""
    out = []
    for module, targets in sorted(edges.items()):
        rank = layer_of(module)
        for target in sorted(targets):
            target_rank = layer_of(target)
            if rank is not None and target_rank is not None and target_rank > rank:
                out.append((module, target))
    return out
