"""`opsmetrics seed` through the command line, against PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from opsmetrics.cli import EXIT_BAD_REQUEST, main
from tests.seed.checks import checksums, counts

ARGS = ["seed", "--scale", "small", "--seed", "3", "--anchor-date", "2026-03-01"]


def test_seed_loads_then_refuses_then_resets(
    db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(ARGS) == 0
    out = capsys.readouterr().out
    with db_env.connect() as conn:
        loaded = counts(conn)
        before = checksums(conn)
    assert out.strip() == "seeded: " + ", ".join(f"{t} {n:,}" for t, n in loaded.items())
    assert loaded["organizations"] == 4 and loaded["territories"] == 40

    assert main(ARGS) == EXIT_BAD_REQUEST
    err = capsys.readouterr().err.strip()
    assert err.startswith("opsmetrics seed: the database already has data (organizations,")
    assert err.endswith("load again") and "use --reset" in err and len(err.splitlines()) == 1

    assert main([*ARGS, "--reset"]) == 0
    with db_env.connect() as conn:
        assert checksums(conn) == before  # same seed, same rows


def test_unknown_scale_exits_2_and_writes_nothing(
    db_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--scale", "huge", "--reset"]) == EXIT_BAD_REQUEST
    err = capsys.readouterr().err
    assert err == "opsmetrics seed: unknown scale 'huge'; known scales: small, demo, uk\n"
    with db_env.connect() as conn:
        assert set(counts(conn).values()) == {0}


def test_bad_anchor_date_exits_2(db_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["seed", "--scale", "small", "--anchor-date", "2026-02-30"])
    assert info.value.code == EXIT_BAD_REQUEST
    assert "YYYY-MM-DD" in capsys.readouterr().err
