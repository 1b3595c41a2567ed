"""`opsmetrics demo` end to end, as a user runs it: embedded PostgreSQL, jobs, reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_runs_every_job_and_prints_the_reports() -> None:
    # The demo always uses the embedded server, whatever DATABASE_URL says; give it the test
    # suite's data folder so a run reuses one server instead of initialising another.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["OPSMETRICS_DATA_DIR"] = str(ROOT / ".opsmetrics" / "test-data")
    proc = subprocess.run(
        [sys.executable, "-m", "opsmetrics.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for job in ("weekly-hiring-triggers", "daily-territory-metrics", "daily-trend-aggregation"):
        [line] = [ln for ln in out.splitlines() if ln.strip().startswith(job)]
        assert " succeeded in " in line
    for report in ("hiring-triggers", "coverage-gaps", "trends"):
        assert f"== opsmetrics report {report}" in out
    # The seeded data is built to overload some territories for 3+ weeks: criticals must show.
    critical = next(ln for ln in out.splitlines() if ln.strip().startswith("critical:"))
    assert int(critical.split(":")[1]) > 0
    assert "Traceback" not in proc.stderr
    # Its closing lines say how to see the same figures in the dashboard.
    assert "python3 dev.py demo --serve" in out
