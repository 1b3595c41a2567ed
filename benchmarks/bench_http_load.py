"""The reports server under concurrent load with refreshes, beside the plain-GET baseline.

Phases, each for --seconds with --clients keep-alive clients against `opsmetrics serve`:
  - get:     GET /reports/territories and /reports/hiring-triggers, organizations in turn (the
             baseline);
  - mix:     the same with --refresh-share of the requests a refresh (POST
             /reports/territories/refresh) of a random organization;
  - burst:   the GET clients, while 8 refreshes of one job, date and organization are sent at
             once every second (the case that used to stall the worker).
For each: GET throughput, GET p50/p95, refresh p50/p95, answers by status, and the GET figures
as ratios of the baseline's. With --before PATH (the `shared` folder of an older checkout),
the same phases run first against that code, on the same database, in the same run.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/opsmetrics_bench_load
    .venv/bin/python benchmarks/bench_http_load.py --setup      # migrate, seed demo, one run
    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/bench_http_load.py --before /tmp/before/shared
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_http import free_port, percentile  # noqa: E402

SECRET = "bench-only-hs256-secret-of-32-bytes-or-more"
GETS = ("/reports/territories?limit=100", "/reports/hiring-triggers")
BURST = 8


@dataclass
class Tally:
    get_ms: list[float] = field(default_factory=list)
    refresh_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, status: str) -> None:
        with self.lock:
            (self.get_ms if kind == "GET" else self.refresh_ms).append(ms)
            self.statuses[f"{kind} {status}"] += 1


def token(org: uuid.UUID) -> str:
    from opsmetrics.reports.auth import AuthConfig, mint_token

    scopes = ["reports:read", "reports:refresh"]
    return mint_token(org_id=org, scopes=scopes, ttl_s=3600, config=AuthConfig(secret=SECRET))


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, method: str, target: str, bearer: str) -> str:
        try:
            self.conn.request(method, target, headers={"Authorization": f"Bearer {bearer}"})
            response = self.conn.getresponse()
            response.read()
            return str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return type(exc).__name__


def timed(tally: Tally, client: Client, method: str, target: str, bearer: str) -> None:
    started = time.perf_counter()
    status = client.send(method, target, bearer)
    tally.add("GET" if method == "GET" else "POST", (time.perf_counter() - started) * 1000, status)


def load(
    port: int,
    tokens: dict[uuid.UUID, str],
    day: date,
    *,
    seconds: float,
    clients: int,
    refresh_share: float,
    burst: bool,
) -> Tally:
    tally = Tally()
    stop = time.monotonic() + seconds
    orgs = list(tokens)
    refresh = f"/reports/territories/refresh?date={day}"

    def worker(n: int) -> None:
        rng = random.Random(n)
        client = Client(port)
        i = n
        while time.monotonic() < stop:
            org = orgs[i % len(orgs)]
            if rng.random() < refresh_share:
                timed(tally, client, "POST", refresh, tokens[rng.choice(orgs)])
            else:
                timed(tally, client, "GET", GETS[i % len(GETS)], tokens[org])
            i += 1

    def bursts() -> None:
        while time.monotonic() < stop - 1:
            batch = [
                threading.Thread(
                    target=timed, args=(tally, Client(port), "POST", refresh, tokens[orgs[0]])
                )
                for _ in range(BURST)
            ]
            for t in batch:
                t.start()
            time.sleep(1)
            for t in batch:
                t.join()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    if burst:
        threads.append(threading.Thread(target=bursts))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def start(
    code: Path | None, database_url: str, runs_per_minute: int | None
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "OPSMETRICS_JWT_SECRET": SECRET}
    if runs_per_minute is not None:
        env["OPSMETRICS_HTTP_RUNS_PER_MINUTE"] = str(runs_per_minute)
    env["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    if code is not None:
        env["PYTHONPATH"] = str(code)
    process = subprocess.Popen(
        [sys.executable, "-m", "opsmetrics.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Client(port).send("GET", "/health", "") == "200":
            return process, port
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("the server did not come up within 60 s")


def setup(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    cli = [sys.executable, "-m", "opsmetrics.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True)
    subprocess.run([*cli, "seed", "--reset"], env=env, check=True)
    subprocess.run([*cli, "run", "daily-territory-metrics"], env=env, check=True)
    subprocess.run([*cli, "run", "weekly-hiring-triggers"], env=env, check=True)


def row(label: str, tally: Tally, seconds: float, base: Tally | None) -> str:
    gets = tally.get_ms or [0.0]
    rate = len(tally.get_ms) / seconds
    p50, p95 = percentile(gets, 50), percentile(gets, 95)
    refreshes = tally.refresh_ms or [0.0]
    ratio = ""
    if base is not None and base.get_ms:
        base_rate = len(base.get_ms) / seconds
        base_p95 = percentile(base.get_ms, 95)
        ratio = f"{rate / base_rate:.2f}x / {p95 / base_p95:.2f}x"
    answers = ", ".join(f"{k} {v}" for k, v in sorted(tally.statuses.items()))
    return (
        f"| {label} | {rate:.0f} | {p50:.1f} | {p95:.1f} | {percentile(refreshes, 50):.0f} |"
        f" {percentile(refreshes, 95):.0f} | {ratio} | {answers} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--refresh-share", type=float, default=0.05)
    parser.add_argument("--before", type=Path, help="an older checkout's shared/ folder")
    parser.add_argument("--setup", action="store_true", help="migrate, seed demo, run the jobs")
    parser.add_argument(
        "--runs-per-minute", type=int, help="the server's OPSMETRICS_HTTP_RUNS_PER_MINUTE (0: off)"
    )
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("set DATABASE_URL to a scratch database")
    if args.setup:
        setup(database_url)
    engine = create_engine(database_url.replace("postgresql://", "postgresql+pg8000://", 1))
    with engine.connect() as conn:
        orgs = [r[0] for r in conn.execute(text("SELECT DISTINCT org_id FROM territories"))]
        day = conn.execute(text("SELECT max(metric_date) FROM territory_metrics")).scalar_one()
    engine.dispose()
    if day is None:
        raise SystemExit("no territory_metrics yet: run with --setup first")
    tokens = {org: token(org) for org in orgs}
    codes: list[tuple[str, Path | None]] = [("after", None)]
    if args.before:
        codes.insert(0, ("before", args.before.resolve()))
    print(f"{args.clients} clients, {args.seconds:.0f} s a phase, {len(orgs)} organizations")
    print(
        "| code, phase | GET/s | GET p50 ms | GET p95 ms | refresh p50 ms | refresh p95 ms |"
        " GET/s, p95 vs get | answers |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, code in codes:
        process, port = start(code, database_url, args.runs_per_minute)
        try:
            phases = (("get", 0.0, False), ("mix", args.refresh_share, False), ("burst", 0, True))
            base = None
            for phase, share, burst in phases:
                tally = load(
                    port,
                    tokens,
                    day,
                    seconds=args.seconds,
                    clients=args.clients,
                    refresh_share=share,
                    burst=burst,
                )
                print(row(f"{name}, {phase}", tally, args.seconds, base), flush=True)
                base = base or tally
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
