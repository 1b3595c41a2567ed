"""The kinds tests/conftest.py gives each test: `-m pure` needs no database at all, not even the
embedded one's package, and every test is pure, db or e2e."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# It runs the pure tests in a pytest of its own: e2e, never pure itself.
pytestmark = pytest.mark.slow

NOWHERE = "postgresql://nobody@127.0.0.1:1/nothing"


def _pytest(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh process where the database is out of reach and pgserver is missing."""
    shim = tmp / "no-pgserver"
    shim.mkdir(exist_ok=True)
    (shim / "pgserver.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pgserver'\", name='pgserver')\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": NOWHERE,
        "PYTHONPATH": str(shim),
        # where `opsmetrics` would put an embedded server's files: must stay empty
        "OPSMETRICS_DATA_DIR": str(tmp / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_pure_tests_run_without_a_database(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "-m", "pure")
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"\b\d{3,} passed\b", summary), summary
    assert not re.search(r"\b(failed|error|errors)\b", summary), summary
    assert not (tmp_path / "data").exists()


# Collects the suite once and prints each test's kinds, one JSON object.
KINDS = """
import json, sys, pytest
KINDS = {"pure", "db", "e2e"}
class Kinds:
    found = {}
    def pytest_collection_finish(self, session):
        for item in session.items:
            self.found[item.nodeid] = sorted({m.name for m in item.iter_markers()} & KINDS)
kinds = Kinds()
assert pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[kinds]) == 0
print(json.dumps(kinds.found))
"""


def test_every_test_is_pure_db_or_e2e() -> None:
    done = subprocess.run(
        [sys.executable, "-c", KINDS],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": NOWHERE},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    found: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(found) > 500
    # at least one of the three, and pure alone when pure
    assert [t for t, k in found.items() if not k or ("pure" in k and len(k) > 1)] == []
    health = "tests/http/test_reports.py::test_health_is_public_and_not_cached"
    expected = {
        # the database through a fixture of the root conftest, and through a module's own one
        "tests/foundation/test_schema.py::test_upgrade_twice_is_a_no_op": ["db"],
        "tests/seed/test_demo_data.py::test_booking_statuses": ["db"],
        # a real server: only the "server" half of the both-doors fixture
        f"{health}[server]": ["db", "e2e"],
        f"{health}[lambda]": ["db"],
        "tests/infra/test_sam_build.py::test_validate_lint": ["e2e"],
        "tests/trends/test_rules.py::test_merge_counts_sums_key_by_key_and_ranks_largest_first": [
            "pure"
        ],
    }
    assert {test: found[test] for test in expected} == expected
