"""opsmetrics: scheduled jobs that turn operational data into the metrics people act on."""

__version__ = "0.1.0"
