"""What every command shares: the parser class, the argument types, the engine and today's date.
The command modules (cli.py, ledger_cli.py, orgs_cli.py, local_cli.py) import this; it imports
none of them."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import Any, NoReturn

from opsmetrics.cli_errors import EXIT_BAD_REQUEST
from opsmetrics.errors import BadRequest


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (not usage + error) so it reads well at 3 AM, and
    every command takes the logging options, before or after its name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from opsmetrics.terminal import LOG_FORMATS

        # SUPPRESS: a subcommand's parser sets them only when given, so `opsmetrics -v run`
        # and `opsmetrics run ... -v` both work.
        self.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="log job details (INFO) to stderr, as JSON unless --log-format human",
        )
        self.add_argument(
            "--log-format",
            choices=LOG_FORMATS,
            default=argparse.SUPPRESS,
            help="log lines on stderr: human (default) or json (as in Lambda)",
        )

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_REQUEST, f"{self.prog}: {message} (see {self.prog} --help)\n")


def job_name(value: str) -> str:
    """A job name as the jobs spell it or as the Lambda folders do (underscores)."""
    return value.strip().replace("_", "-")


def date_arg(value: str) -> date:
    from opsmetrics.dates import parse_date

    try:
        return parse_date(value)
    except BadRequest as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def engine(args: argparse.Namespace) -> Any:
    from opsmetrics.db import get_engine

    return get_engine(args.settings, allow_embedded=True)


def today() -> date:
    return datetime.now(UTC).date()
