"""The chart of bench_scale.py's figures (matplotlib, an optional benchmark dependency)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: the chart is a file
import matplotlib.pyplot as plt

JOBS = {
    "daily-territory-metrics": ("territory", "tab:blue"),
    "daily-trend-aggregation": ("trend", "tab:orange"),
}


def _of(points: list[dict[str, Any]], dimension: str, job: str) -> list[dict[str, Any]]:
    return [p for p in points if p["dimension"] == dimension and p["job"] == job]


def draw(points: list[dict[str, Any]], path: Path) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    (window, dates), (history, orgs) = axes

    for job, (name, colour) in JOBS.items():
        pts = _of(points, "window", job)
        if pts:
            x = [p["rows_read"] for p in pts]
            window.loglog(x, [p["job_ms"] for p in pts], "o-", color=colour, label=f"{name} job")
            window.loglog(
                x,
                [p["floor_ms"] for p in pts],
                "s--",
                color=colour,
                alpha=0.6,
                label=f"{name} floor",
            )
            if pts[0].get("floor_queries_ms"):
                window.loglog(
                    x,
                    [p["floor_queries_ms"] for p in pts],
                    "^:",
                    color=colour,
                    alpha=0.6,
                    label=f"{name} floor, its 5 GROUP BY queries",
                )
            lo = pts[0]
            window.loglog(x, [lo["job_ms"] * v / x[0] for v in x], ":", color="grey", linewidth=1)
    window.set_title(
        "bookings / classifications in the window: 0.5x .. 4x uk (log-log)\n"
        "dotted: linear from the smallest point"
    )
    window.set_xlabel("rows the job reads")
    window.set_ylabel("ms")
    window.legend(fontsize=8)

    for job, (name, colour) in JOBS.items():
        pts = _of(points, "dates", job)
        if pts:
            n = [p["dates"] for p in pts]
            dates.loglog(
                n, [p["job_ms"] for p in pts], "o-", color=colour, label=f"{name}: one pass"
            )
            dates.loglog(
                n,
                [p["floor_ms"] for p in pts],
                "s--",
                color=colour,
                alpha=0.6,
                label=f"{name}: floor over the span",
            )
            if pts[0].get("floor_queries_ms"):
                dates.loglog(
                    n,
                    [p["floor_queries_ms"] for p in pts],
                    "^:",
                    color=colour,
                    alpha=0.6,
                    label=f"{name}: its 5 GROUP BY queries over the span",
                )
            sep = [(p["dates"], p["separate_ms"]) for p in pts if p["separate_ms"]]
            one = pts[0]["job_ms"]
            dates.loglog(
                n, [one * k for k in n], ":", color=colour, alpha=0.5, label=f"{name}: N x one date"
            )
            if sep:
                dates.loglog(
                    [s[0] for s in sep],
                    [s[1] for s in sep],
                    "x",
                    color=colour,
                    markersize=9,
                    label=f"{name}: one request per date (measured)",
                )
    dates.set_title("dates per request (4x history, every date with data; log-log)")
    dates.set_xlabel("dates")
    dates.set_ylabel("ms")
    dates.legend(fontsize=7)

    for ax, dimension, title in (
        (history, "history", "history 1x / 4x (same window)"),
        (orgs, "organizations", "organizations 1x / 4x (same rows)"),
    ):
        labels: list[str] = []
        values: list[float] = []
        colours: list[str] = []
        for job, (name, colour) in JOBS.items():
            for p in _of(points, dimension, job):
                labels += [f"{name} {p['label']}\njob", f"{name} {p['label']}\nfloor"]
                values += [p["job_ms"], p["floor_ms"]]
                colours += [colour, "lightgrey"]
        ax.bar(range(len(values)), values, color=colours)
        ax.set_xticks(range(len(values)), labels, fontsize=7)
        ax.set_title(title)
        ax.set_ylabel("ms")
    fig.suptitle("opsmetrics cost curve (benchmarks/bench_scale.py; medians, same run)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
