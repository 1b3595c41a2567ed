"""The exceptions every front door (CLI, Lambda, HTTP) knows how to answer."""

from __future__ import annotations


class OpsmetricsError(Exception):
    """Base class: the message is one line a person can act on."""


class BadRequest(OpsmetricsError):
    """The caller asked for something malformed (unknown job, bad date, reversed range...).

    Raised before anything is written, so nothing changes.
    """


class NotFound(OpsmetricsError):
    """The caller named something that does not exist (an organization, a report)."""


class JobAlreadyRunning(OpsmetricsError):
    """Another run holds the lock for the same job and date and did not finish in time."""


class ConfigError(OpsmetricsError):
    """The environment does not describe a usable configuration."""


class Unauthorized(OpsmetricsError):
    """No valid identity (missing, expired or badly signed token)."""


class Forbidden(OpsmetricsError):
    """A valid identity without the scope the request needs."""
