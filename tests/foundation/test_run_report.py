"""What `opsmetrics run` says around the dates it runs: the closing summary, where a stopped or
interrupted request resumes, and log lines that neither flood nor overwrite the progress bar."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine

from opsmetrics import jobs as jobs_
from opsmetrics.cli import main
from opsmetrics.job_context import JobContext, JobFunction, JobOutcome
from tests.factories import insert_rows, org
from tests.foundation.test_operator_messages import ROOT
from tests.foundation.test_runs import jobs  # noqa: F401 (the stand-in jobs fixture)

SUMMARY = re.compile(r"^(\d+) dates: (.+), ([\d,]+) bad rows, [\d.]+ (ms|s)$")


def interrupts_on_the_3rd(ctx: JobContext) -> JobOutcome:
    if ctx.target_date.day == 3:
        raise KeyboardInterrupt
    return JobOutcome(stats={}, rows_written=0, bad_rows=2)


def _register(monkeypatch: pytest.MonkeyPatch, name: str, fn: JobFunction) -> None:
    load: Callable[[], JobFunction] = lambda: fn  # noqa: E731
    spec = jobs_.Job(name, "daily", "test", "", "", load)
    monkeypatch.setitem(jobs_.JOBS, name, spec)


def test_a_backfill_ends_with_a_summary(
    jobs: Engine,  # noqa: F811
    db_env: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "test-write", "--from", "2026-03-01", "--to", "2026-03-05"]) == 0
    out = capsys.readouterr().out.splitlines()
    found = SUMMARY.match(out[-1])
    assert found, out[-1]
    assert found.groups()[:3] == ("5", "5 succeeded", "0")
    assert len(out) == 6  # a line per date, then the summary


def test_a_failed_date_says_where_it_stopped_and_the_command_that_resumes(
    jobs: Engine,  # noqa: F811
    db_env: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["run", "test-fail-2nd", "--from", "2026-03-01", "--to", "2026-03-04"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines()[-1].startswith("4 dates: 1 succeeded, 1 failed, 2 skipped, 0 bad rows")
    assert "Traceback" not in err
    *before, last = err.strip().splitlines()
    assert last == (
        "opsmetrics run: stopped at 2026-03-02 (failed); once its cause is fixed, resume with:"
        " opsmetrics run test-fail-2nd --from 2026-03-02 --to 2026-03-04"
    )
    # the failure's log line is short and human too
    [logged] = [line for line in before if line.startswith("error: ")]
    assert logged.startswith("error: job failed [test-fail-2nd 2026-03-02]: ")
    assert logged.endswith("error RuntimeError: boom: the source table vanished")


def test_an_interrupted_backfill_says_where_to_resume(
    jobs: Engine,  # noqa: F811
    db_env: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _register(monkeypatch, "test-stops-on-3rd", interrupts_on_the_3rd)
    with db_env.begin() as conn:
        acme = org(conn)
    argv = ["run", "test-stops-on-3rd", "--from", "2026-03-01", "--to", "2026-03-06"]
    code = main([*argv, "--org", str(acme)])
    err = capsys.readouterr().err
    assert code == 130
    resume = next(line for line in err.splitlines() if "resume with" in line)
    assert resume == (
        "opsmetrics run: interrupted: 2 of 6 dates finished (up to 2026-03-02); resume with:"
        f" opsmetrics run test-stops-on-3rd --from 2026-03-03 --to 2026-03-06 --org {acme}"
    )
    assert err.splitlines()[-1] == "opsmetrics run: interrupted"
    assert "Traceback" not in err


def test_logs_on_a_terminal_are_short_lines_that_leave_the_progress_bar_alone(
    db_env: Engine, database_url: str
) -> None:
    """A real terminal (a pty) on stderr: bad-row warnings as one human line each, on their own
    line, with the bar drawn again after them; no JSON."""
    with db_env.begin() as conn:
        acme = org(conn)
        insert_rows(
            conn,
            "bookings",
            [
                {
                    "id": f"00000000-0000-4000-8000-00000000000{n}",
                    "org_id": acme,
                    "site_postcode": "not a postcode",
                    "shift_date": date(2026, 3, n),
                    "status": "confirmed",
                }
                for n in (1, 2, 3)
            ],
        )
    leader, follower = pty.openpty()
    argv = ["run", "daily-territory-metrics", "--from", "2026-03-01", "--to", "2026-03-03"]
    code = "import sys; from opsmetrics.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        timeout=120,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    screen = b"".join(chunks).decode().replace("\r\n", "\n")  # the terminal's own CRs
    assert done.returncode == 0, screen
    # What stays on screen: each \n ends a line; \r\x1b[K clears the line being drawn.
    lines = [re.split(r"\r\x1b\[K|\r", line)[-1] for line in screen.split("\n")]
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert len(warnings) == 3, screen
    assert all("bookings left out" in w and "[#" not in w for w in warnings)
    assert all(len(w) <= 240 and "{" not in w for w in warnings)
    assert any(line.startswith("[####") and "3/3" in line for line in lines)
    assert "Traceback" not in screen
