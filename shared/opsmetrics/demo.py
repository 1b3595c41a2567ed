"""`opsmetrics demo`: the whole product on a throwaway embedded database, nothing to install.

It always uses its own database (`opsmetrics_demo`) on the embedded server, rebuilt each time,
so it never touches DATABASE_URL or the data of `opsmetrics seed`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from opsmetrics import embedded, migrations
from opsmetrics.config import Settings
from opsmetrics.dates import day_before
from opsmetrics.db import build_engine

DEMO_DB = "opsmetrics_demo"


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def demo_engine(settings: Settings) -> Engine:
    pgdata = settings.data_dir / "pgdata"
    embedded.start(pgdata)
    embedded.drop_database(pgdata, DEMO_DB)
    return build_engine(embedded.url(pgdata, DEMO_DB), settings)


def main() -> int:
    from opsmetrics import seed

    settings = Settings.from_env()
    anchor = day_before(datetime.now(UTC).date())
    _say(f"== embedded PostgreSQL under {settings.data_dir / 'pgdata'} (database {DEMO_DB})")
    engine = demo_engine(settings)
    _say("== opsmetrics db upgrade")
    _say("applied: " + ", ".join(migrations.upgrade(engine)))
    _say(f"== opsmetrics seed --scale demo (data up to {anchor})")
    counts = seed.load(engine, scale="demo", seed=7, anchor=anchor, reset=True)
    for table, n in counts.items():
        _say(f"  {table:<24} {n:>8,}")
    with engine.connect() as conn:
        regions = conn.execute(
            text("SELECT region, count(*) FROM territories GROUP BY 1 ORDER BY 2 DESC LIMIT 5")
        ).all()
    _say("== busiest regions by territories")
    for region, n in regions:
        _say(f"  {region:<28} {n:>5}")
    engine.dispose()
    return 0
