"""What `opsmetrics run` tells a person: the progress bar while dates run, a closing summary
("30 dates: 30 succeeded, 4,183 bad rows, 12.4 s"), and after a failure or an interruption the
exact command that resumes where it stopped."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from opsmetrics.terminal import PROGRESS

BAR_WIDTH = 24
# Outcomes in the order the summary names them.
OUTCOMES = ("succeeded", "partial", "failed", "skipped")


def duration(seconds: float) -> str:
    """A duration to a sensible precision: 48 ms, 1.25 s, 12.4 s, 3 min 05 s."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


@dataclass
class RunWatch:
    """Follows a run request through runs.run's on_progress callback."""

    started: float = field(default_factory=time.perf_counter)
    finished: list[date] = field(default_factory=list)  # dates that ended, in order
    total: int = 0

    def on_progress(self, done: int, total: int, outcome: Any) -> None:
        self.finished.append(outcome.target_date)
        self.total = total
        if total == 1:
            return
        filled = round(BAR_WIDTH * done / total)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        PROGRESS.show(
            f"[{bar}] {done}/{total} {outcome.target_date} {outcome.status}",
            final=done == total,
        )

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def summary_line(runs: list[Any], seconds: float) -> str:
    """`30 dates: 30 succeeded, 4,183 bad rows, 12.4 s` over a request's date runs."""
    counts = {o: sum(1 for r in runs if r.status == o) for o in OUTCOMES}
    parts = [f"{n:,} {o}" for o, n in counts.items() if n]
    bad = sum(int(r.stats.get("bad_rows", 0) or 0) for r in runs)
    noun = "date" if len(runs) == 1 else "dates"
    return f"{len(runs):,} {noun}: {', '.join(parts)}, {bad:,} bad rows, {duration(seconds)}"


def _command(args: argparse.Namespace, dates: str) -> str:
    org = f" --org {args.org}" if args.org else ""
    return f"opsmetrics run {args.job} {dates}{org}".replace("  ", " ")


def resume_from(args: argparse.Namespace, first_left: date) -> str:
    """The command that runs what is left of this request, from `first_left` on."""
    if args.catch_up:
        return _command(args, "--catch-up")
    if args.date_from and args.date_to:
        if first_left >= args.date_to:
            return _command(args, f"--date {args.date_to}")
        return _command(args, f"--from {max(first_left, args.date_from)} --to {args.date_to}")
    return _command(args, f"--date {first_left}")


def after_failure(args: argparse.Namespace, runs: list[Any]) -> str | None:
    """For a request that stopped at a failed date: where, and the command that resumes it."""
    failed = next((r for r in runs if r.status == "failed"), None)
    if failed is None:
        return None
    return (
        f"stopped at {failed.target_date} (failed); once its cause is fixed, resume with:"
        f" {resume_from(args, failed.target_date)}"
    )


def after_interrupt(args: argparse.Namespace, watch: RunWatch, requested: list[date]) -> str:
    """For an interrupted request: the dates done and the command that runs the rest."""
    if watch.finished:
        last = max(watch.finished)
        first_left = last + timedelta(days=1)
        done = f"{len(watch.finished)} of {watch.total} dates finished (up to {last})"
    else:
        first_left = requested[0]
        done = "no date finished"
    return f"interrupted: {done}; resume with: {resume_from(args, first_left)}"
