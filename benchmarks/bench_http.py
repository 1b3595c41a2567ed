"""Latency of the reports HTTP API on the uk-scale data, through both front doors.

For each GET route: p50 and p95 of a bounded loop of sequential requests
  - builder: the report builder + renderer called directly (the floor: no HTTP at all);
  - lambda:  API Gateway v2 events into functions/reports/app.py:lambda_handler, in process;
  - server:  real HTTP on loopback to `opsmetrics serve` (functions-framework under gunicorn),
             one keep-alive connection, bearer token verified on every request;
and the ratios against the builder measured in the same run. Target: p95 <= 50 ms for
hiring-triggers, coverage-gaps and one page of 500 territories.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/opsmetrics_bench
    flock /tmp/opsmetrics-bench.lock .venv/bin/python benchmarks/bench_http.py [--requests 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0
TARGETED = {"hiring-triggers", "coverage-gaps", "territories (500)"}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def timed(fn: Callable[[], Any], warmup: int, count: int) -> tuple[list[float], Any]:
    last = None
    for _ in range(warmup):
        last = fn()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        last = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, last


def lambda_event(path: str, query: str, org: uuid.UUID) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "bench.local", "accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "authorizer": {
                "jwt": {
                    "claims": {"org_id": str(org), "scope": "reports:read"},
                    "scopes": ["reports:read"],
                }
            },
            "domainName": "bench.local",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
            },
            "requestId": "bench",
            "routeKey": f"GET {path}",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


class Context:
    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-2:123456789012:function:bench"
    aws_request_id = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "opsmetrics.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return process, port
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("the server did not come up within 60 s")


class Server:
    """`opsmetrics serve` plus one keep-alive client connection, reopened per route."""

    def __init__(self, env: dict[str, str], token: str) -> None:
        self.process, self.port = start_server(env)
        self.token = token
        self.client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def fresh_connection(self) -> None:
        # gunicorn closes a keep-alive connection idle for 2 s; each route starts a new one.
        self.client.close()
        self.client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, target: str) -> bytes:
        self.client.request("GET", target, headers={"Authorization": f"Bearer {self.token}"})
        response = self.client.getresponse()
        body = response.read()
        assert response.status == 200, body[:200]
        return body

    def stop(self) -> None:
        self.client.close()
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per route")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to the benchmark database")
    secret = secrets.token_urlsafe(32)
    os.environ["OPSMETRICS_JWT_SECRET"] = secret
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    from opsmetrics.config import Settings
    from opsmetrics.db import get_engine
    from opsmetrics.reports.auth import AuthConfig, mint_token
    from opsmetrics.reports.handlers import answers, report_params
    from opsmetrics.reports.messages import parse_query
    from opsmetrics.reports.params import parse_params
    from opsmetrics.reports.registry import build
    from opsmetrics.reports.render import render_json
    from opsmetrics.reports.routes import ROUTES

    sys.path.insert(0, str(ROOT))  # for functions/reports/app.py, the real Lambda entry
    from functions.reports.app import lambda_handler

    engine = get_engine(Settings.from_env())
    with engine.connect() as conn:
        org, territories = conn.execute(
            text(
                "SELECT org_id, count(*) FROM territories GROUP BY org_id"
                " ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
        latest = conn.execute(
            text("SELECT max(metric_date) FROM territory_metrics WHERE org_id = :o"), {"o": org}
        ).scalar()
    if latest is None:
        raise SystemExit(
            "no territory_metrics for the largest organization: run the territory jobs first"
            " (opsmetrics run weekly-hiring-triggers --date SUNDAY)"
        )
    routes = {(r.method, r.path): r for r in ROUTES}
    cases = [
        ("health", "/health", ""),
        ("territories (500)", "/reports/territories", "limit=500"),
        ("hiring-triggers", "/reports/hiring-triggers", ""),
        ("coverage-gaps", "/reports/coverage-gaps", ""),
        ("trends", "/reports/trends", ""),
    ]
    page1 = lambda_handler(lambda_event("/reports/territories", "limit=500", org), Context())
    deep_cursor = json.loads(page1["body"])["next_cursor"]
    if deep_cursor:
        cases.insert(
            2, ("territories p2 (500)", "/reports/territories", f"limit=500&cursor={deep_cursor}")
        )

    token = mint_token(
        org_id=org, scopes=["reports:read"], ttl_s=3600, config=AuthConfig(secret=secret)
    )
    warm_server = Server({"OPSMETRICS_JWT_SECRET": secret}, token)
    cold_server = Server(
        {"OPSMETRICS_JWT_SECRET": secret, "OPSMETRICS_REPORT_CACHE_MB": "0"}, token
    )
    results = []
    try:
        for label, path, query in cases:
            row: dict[str, Any] = {"route": label}
            route = routes[("GET", path)]
            if route.report is not None:
                # The same parameters the HTTP layer derives from this query string.
                params = report_params(
                    route.report, parse_params(parse_query(query), route.params), org
                )

                def direct(name: str = route.report, p: Any = params) -> str:
                    with engine.connect() as conn:
                        return render_json(build(conn, name, p), compact=True)

                row["builder"], _ = timed(direct, args.warmup, args.requests)

            def via_lambda(p: str = path, q: str = query, cold: bool = False) -> dict[str, Any]:
                if cold:
                    answers.cache_clear()
                out: dict[str, Any] = lambda_handler(lambda_event(p, q, org), Context())
                assert out["statusCode"] == 200, out
                return out

            row["lambda cold"], out = timed(
                lambda: via_lambda(cold=True), args.warmup, args.requests
            )
            row["lambda"], out = timed(via_lambda, args.warmup, args.requests)
            row["bytes"] = len(out["body"].encode())
            target = path + (f"?{query}" if query else "")
            for name, server in (("server cold", cold_server), ("server", warm_server)):
                server.fresh_connection()
                row[name], _ = timed(
                    lambda s=server, t=target: s.get(t),  # type: ignore[misc]
                    args.warmup,
                    args.requests,
                )
            results.append(row)
    finally:
        warm_server.stop()
        cold_server.stop()

    print(
        f"org {org}: {territories:,} territories, latest metric date {latest};"
        f" {args.requests} timed sequential requests per route and door after"
        f" {args.warmup} warm-up; times in ms"
    )
    columns = ("builder", "lambda cold", "server cold", "lambda", "server")
    head = f"{'route':<22}{'KiB':>7}" + "".join(f"{c + ' p50/p95':>22}" for c in columns)
    head += f"{'cold/builder':>14}  target (p95, warm)"
    print(head)
    print("-" * len(head))
    ok = True
    for row in results:
        cells = []
        for c in columns:
            samples = row.get(c)
            cells.append(
                f"{percentile(samples, 50):>11.1f} /{percentile(samples, 95):>8.1f}"
                if samples
                else f"{'-':>20}"
            )
        builder = row.get("builder")
        ratio = "-"
        if builder:
            ratio = f"{percentile(row['lambda cold'], 50) / percentile(builder, 50):.2f}x"
        verdict = ""
        if row["route"] in TARGETED:
            worst_warm = max(percentile(row["lambda"], 95), percentile(row["server"], 95))
            worst_cold = max(percentile(row["lambda cold"], 95), percentile(row["server cold"], 95))
            met = worst_warm <= TARGET_MS
            ok &= met
            verdict = "met" if met else f"MISSED ({worst_warm:.0f} ms)"
            verdict += "; cold " + ("met" if worst_cold <= TARGET_MS else f"{worst_cold:.0f} ms")
        print(
            f"{row['route']:<22}{row['bytes'] / 1024:>7.1f}"
            + "".join(f"{c:>22}" for c in cells)
            + f"{ratio:>14}  {verdict}"
        )
    print(
        "builder = the report built and rendered in process (no HTTP); cold = every request"
        " builds the report (answer cache off/cleared); warm = the answer cache serves"
        " repeated requests after checking the outputs' version (one query)"
    )
    print(
        f"p95 target {TARGET_MS:.0f} ms (warm) on {', '.join(sorted(TARGETED))}: "
        + ("all met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
