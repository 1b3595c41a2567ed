"""What the command line writes to stderr besides errors: log lines and the progress bar.

Lambda always logs Powertools JSON (a log collector reads it). A person at a terminal gets one
short line per event instead, and the progress bar is cleared before a log line and drawn again
after it, so neither overwrites the other. `-v` or `--log-format json` asks for the JSON.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

LOG_FORMATS = ("human", "json")
# Keys every JSON line carries that a person does not need on each line.
_NOISE = {
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "run_id",
    "exception",
    "exception_name",
    "exception_notes",
    "stack_trace",
    "xray_trace_id",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "sampling_rate",
    "correlation_id",
}
MAX_LINE = 240  # a log line stays on one (wide) terminal line


def human_line(record: dict[str, Any]) -> str:
    """One JSON log record as `warning: message [job date]: key value, ...` (scalars only)."""
    level = str(record.get("level", "info")).lower()
    where = " ".join(str(record[k]) for k in ("job", "target_date") if record.get(k))
    details = [
        f"{key} {_plain(value)}"
        for key, value in record.items()
        if key not in _NOISE and key not in ("job", "target_date") and _is_scalar(value)
    ]
    line = f"{level}: {record.get('message', '')}"
    if where:
        line += f" [{where}]"
    if details:
        line += ": " + ", ".join(details)
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and value != ""


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class HumanFormatter(LambdaPowertoolsFormatter):
    """Powertools' formatter (so appended keys keep working) that writes a short line."""

    def serialize(self, log: dict[str, Any] | Any) -> str:
        return human_line(log) if isinstance(log, dict) else str(log)


class Progress:
    """A one-line progress bar on stderr, redrawn in place on a terminal (a line per step
    elsewhere). Log lines written through `LogStream` clear it first and redraw it after."""

    def __init__(self) -> None:
        self.drawn = ""  # the bar currently on screen, "" when none

    def show(self, text: str, *, final: bool) -> None:
        if not sys.stderr.isatty():
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
            return
        sys.stderr.write("\r\x1b[K" + text + ("\n" if final else ""))
        sys.stderr.flush()
        self.drawn = "" if final else text

    def around_write(self, text: str) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
        sys.stderr.write(text)
        if self.drawn and text.endswith("\n"):
            sys.stderr.write(self.drawn)
        sys.stderr.flush()


PROGRESS = Progress()


class LogStream:
    """The log handler's stream: the current sys.stderr, around the progress bar."""

    def write(self, text: str) -> int:
        PROGRESS.around_write(text)
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()


@contextlib.contextmanager
def cli_logging(*, verbose: bool, log_format: str | None) -> Iterator[None]:
    """The command line's logging while a command runs: WARNING and up as human lines by
    default; with -v, INFO and up as JSON; --log-format chooses the format either way. The
    logger is left as it was found (the CLI's entry point also runs inside other programs)."""
    from opsmetrics.observability import logger

    log = logger()
    handler = log.registered_handler
    before = (log.log_level, handler.formatter, getattr(handler, "stream", None))
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    keys = log.registered_formatter.get_current_keys()
    if (log_format or ("json" if verbose else "human")) == "human":
        handler.setFormatter(HumanFormatter(**keys))
    else:
        handler.setFormatter(LambdaPowertoolsFormatter(**keys))
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(LogStream())
    try:
        yield
    finally:
        log.setLevel(before[0])
        handler.setFormatter(before[1])
        if isinstance(handler, logging.StreamHandler) and before[2] is not None:
            handler.setStream(before[2])
