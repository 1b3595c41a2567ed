"""Stand-in jobs that exercise the shared run mechanism (ledger, lock, loop) on a scratch table."""

from __future__ import annotations

from sqlalchemy import text

from opsmetrics.job_context import AfterCommit, JobContext, JobOutcome

SCRATCH = (
    "CREATE TABLE IF NOT EXISTS test_outputs (target_date date PRIMARY KEY, value int NOT NULL)"
)


def _write(ctx: JobContext, value: int) -> None:
    ctx.conn.execute(
        text(
            "INSERT INTO test_outputs VALUES (:d, :v)"
            " ON CONFLICT (target_date) DO UPDATE SET value = EXCLUDED.value"
        ),
        {"d": ctx.target_date, "v": value},
    )


def write_job(ctx: JobContext) -> JobOutcome:
    _write(ctx, 42)
    return JobOutcome(stats={"written": 1}, rows_written=1, result={"value": 42})


def failing_job(ctx: JobContext) -> JobOutcome:
    _write(ctx, -1)  # must be rolled back
    raise RuntimeError("boom: the source table vanished\nsecond line of detail")


def partial_job(ctx: JobContext) -> JobOutcome:
    _write(ctx, 7)
    return JobOutcome(stats={"errors": 1}, rows_written=1, failed_orgs=["org-b"])


def fails_on_the_2nd(ctx: JobContext) -> JobOutcome:
    if ctx.target_date.day == 2:
        return failing_job(ctx)
    return write_job(ctx)


def slow_job(ctx: JobContext) -> JobOutcome:
    """A statement longer than a short statement timeout (tests/foundation/test_error_lines.py)."""
    ctx.conn.execute(text("SELECT pg_sleep(1.5)"))
    return write_job(ctx)


# An advisory lock the test holds (tests/foundation/test_runs.py: gate_closed) while a run of
# the 1st must stay in progress: no sleeping, the run goes on the moment the test lets it.
GATE_KEY_SQL = "hashtext('opsmetrics-test:gate')"


def gated_on_the_1st(ctx: JobContext) -> JobOutcome:
    """On the 1st, waits at the gate with its run lock held and its ledger row open."""
    if ctx.target_date.day == 1:
        ctx.conn.execute(text(f"SELECT pg_advisory_xact_lock({GATE_KEY_SQL})"))
    return write_job(ctx)


def interrupted_job(ctx: JobContext) -> JobOutcome:
    _write(ctx, -2)  # must be rolled back
    raise KeyboardInterrupt


SEEN_AFTER_COMMIT: list[int] = []


def notifying_job(ctx: JobContext) -> JobOutcome:
    """Writes, then (after the commit) 'notifies' two organizations, one of which fails."""
    _write(ctx, 5)
    engine = ctx.conn.engine

    def notify() -> AfterCommit:
        # Seen from another connection: the output must already be committed.
        with engine.connect() as other:
            SEEN_AFTER_COMMIT.append(
                other.execute(
                    text("SELECT value FROM test_outputs WHERE target_date = :d"),
                    {"d": ctx.target_date},
                ).scalar_one()
            )
        return AfterCommit(stats={"notified": 1}, result={"notified": 1}, failed_orgs=["org-x"])

    return JobOutcome(stats={}, rows_written=1, after_commit=notify)


def failing_after_writing_job(ctx: JobContext) -> JobOutcome:
    _write(ctx, 6)

    def notify() -> AfterCommit:
        raise RuntimeError("SNS is down")

    return JobOutcome(stats={}, rows_written=1, after_commit=notify)


def fails_on_the_17th(ctx: JobContext) -> JobOutcome:
    if ctx.target_date.day == 17:
        return failing_job(ctx)
    return write_job(ctx)
