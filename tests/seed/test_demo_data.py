"""The demo scale's shape: everything the jobs' rules need is in the data (spec §2-5).

Loads the demo once for the module (seed 7, anchor Sunday 2026-11-22) and only reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from opsmetrics import seed
from tests.seed.checks import BOOKING_SECTOR, counts

ANCHOR = date(2026, 11, 22)
KNOWN = ("pending", "confirmed", "completed", "rejected", "cancelled")
IN_TOTAL = "('pending', 'confirmed', 'completed', 'rejected')"


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[dict[str, int]]:
    yield seed.load(engine, scale="demo", seed=7, anchor=ANCHOR, reset=True)


@pytest.fixture
def conn(engine: Engine, demo: dict[str, int]) -> Iterator[Connection]:
    with engine.connect() as c:
        yield c


def one(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar_one()


def window_sql(sunday_offset: int) -> str:
    """Per territory, the contract's counts over the 7 days ending at anchor - offset."""
    return f"""
        SELECT t.id, t.org_id,
               count(b.*) FILTER (WHERE b.status IN {IN_TOTAL}) AS total,
               count(b.*) FILTER (WHERE b.status IN ('confirmed', 'completed')) AS confirmed,
               count(b.*) FILTER (WHERE b.status = 'rejected') AS rejected
        FROM territories t
        LEFT JOIN (SELECT b.*, {BOOKING_SECTOR} AS sector FROM bookings b
                   WHERE b.shift_date BETWEEN DATE '{ANCHOR}' - {sunday_offset + 6}
                                          AND DATE '{ANCHOR}' - {sunday_offset}) b
               ON b.org_id = t.org_id AND b.sector = t.postcode_sector
        GROUP BY t.id, t.org_id
    """


def test_counts_match_the_tables_and_the_plan(conn: Connection, demo: dict[str, int]) -> None:
    assert counts(conn) == demo
    assert demo["organizations"] == 7  # 3 staffing + 5 Slack, one of them both
    assert demo["territories"] == 500 and demo["medics"] == 400
    # Plan by hand (profiles.OPERATION_PROFILES; busy_factor plays no part): a territory books
    # per week .03*1.9 + .18*2.6 + .51*3.2 + .08*4.75 + .04*12 + 2*.03*18.5 + .03*5.5
    # + (.02+.02+.01)*12 + .02*1.9 = 4.93 in week 0, so 500 x 4.93 = 2,465 in the window.
    # Week 1: surge_new quiet (-.02*10.1) 4.728; week 2: surge_two too, 4.526; weeks 3-7:
    # surge_three quiet, cooling busy, 4.627; 14 future days 4.93 x (.6 + .25). In all
    # 500 x (4.93 + 4.728 + 4.526 + 5*4.627 + 4.93*.85) = 20,755. The drawn data is within 10 %.
    plan = seed.SCALES["demo"]
    assert plan.planned_bookings_in_window(ANCHOR) == pytest.approx(2_465, abs=1)
    assert plan.planned_bookings(ANCHOR) == pytest.approx(20_755, abs=1)
    in_window = one(
        conn,
        "SELECT count(*) FROM bookings WHERE shift_date BETWEEN CAST(:a AS date) - 6 AND :a",
        a=ANCHOR,
    )
    assert abs(in_window - 2_465) < 0.1 * 2_465
    assert abs(demo["bookings"] - 20_755) < 0.1 * 20_755
    # 3,000 classifications on the anchor day and as many on each of the 6 days before
    assert abs(demo["topic_classifications"] - 21_000) < 0.05 * 21_000


def test_territories_sectors_regions_and_medics(conn: Connection) -> None:
    sectors = conn.execute(text("SELECT postcode_sector FROM territories")).scalars().all()
    assert all(re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]", s) for s in sectors)
    regions = conn.execute(text("SELECT DISTINCT region FROM territories")).scalars().all()
    assert len(regions) == 12
    capital = (
        conn.execute(
            text(
                "SELECT DISTINCT region FROM territories t JOIN organizations o ON o.id = t.org_id"
                " WHERE o.name = 'Capital Event Medics'"
            )
        )
        .scalars()
        .all()
    )
    assert set(capital) == {"London", "South East"}
    shared = one(
        conn,
        "SELECT count(*) FROM (SELECT postcode_sector FROM territories GROUP BY 1"
        " HAVING count(DISTINCT org_id) > 1) s",
    )
    assert shared > 0  # the same sector in two organizations
    staffing = one(
        conn,
        """SELECT json_build_array(
               count(*) FILTER (WHERE primary_medic_id IS NULL),
               count(*) FILTER (WHERE secondary_medic_id IS NULL),
               count(*) FILTER (WHERE primary_medic_id IS NOT NULL
                                  AND secondary_medic_id IS NOT NULL),
               count(*) FILTER (WHERE primary_medic_id = secondary_medic_id))
           FROM territories""",
    )
    no_primary, no_secondary, both, same = staffing
    assert no_primary > 25 and no_secondary > 100 and both > 100 and same == 0
    foreign = one(
        conn,
        "SELECT count(*) FROM territories t JOIN medics m"
        " ON m.id IN (t.primary_medic_id, t.secondary_medic_id) WHERE m.org_id <> t.org_id",
    )
    assert foreign == 0
    inactive = one(conn, "SELECT avg((NOT active)::int)::float8 FROM medics")
    assert 0.03 < inactive < 0.15  # 8 % drawn


def test_booking_statuses(conn: Connection) -> None:
    rows: dict[str, int] = dict(
        conn.execute(text("SELECT status, count(*) FROM bookings GROUP BY 1")).all()
    )
    total = sum(rows.values())
    assert all(rows.get(s, 0) > 100 for s in KNOWN)
    assert (rows["confirmed"] + rows["completed"]) / total > 0.7
    unknown = {s: n for s, n in rows.items() if s not in KNOWN}
    assert {"no_show", "CONFIRMED ", "unknown"} <= set(unknown)
    assert 0.001 < sum(unknown.values()) / total < 0.006  # 0.3 % drawn
    future: dict[str, int] = dict(
        conn.execute(
            text("SELECT status, count(*) FROM bookings WHERE shift_date > :a GROUP BY 1"),
            {"a": ANCHOR},
        ).all()
    )
    assert "completed" not in future
    assert future["pending"] / sum(future.values()) > 0.25


def test_site_postcodes_are_messy_some_invalid_some_uncovered(conn: Connection) -> None:
    def share(where: str) -> float:
        return float(one(conn, f"SELECT avg(({where})::int) FROM bookings b"))

    assert share("b.site_postcode ~ '[a-z]'") > 0.1  # typed in lower case
    assert share("b.site_postcode ~ '^[A-Z0-9]{5,7}$'") > 0.05  # no space
    assert share("b.site_postcode ~ '^ | $'") > 0.05  # stray surrounding spaces
    assert share("strpos(b.site_postcode, '  ') > 0") > 0.02  # double space
    assert share("b.site_postcode = 'N/A'") > 0 and share("b.site_postcode = '12345'") > 0
    assert 0.001 < share(f"({BOOKING_SECTOR}) IS NULL") < 0.006  # not a postcode: 0.3 %
    uncovered = share(
        f"({BOOKING_SECTOR}) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM territories t"
        f" WHERE t.org_id = b.org_id AND t.postcode_sector = ({BOOKING_SECTOR}))"
    )
    assert 0.004 < uncovered < 0.015  # valid, but no territory of the org: 0.8 %


def test_window_shows_every_kind_of_territory(conn: Connection) -> None:
    kinds = conn.execute(
        text(
            f"""
            SELECT count(*) AS territories,
                   count(*) FILTER (WHERE total BETWEEN 0 AND 4) AS quiet,
                   count(*) FILTER (WHERE confirmed >= 5) AS overloaded,
                   count(*) FILTER (WHERE confirmed BETWEEN 2 AND 4) AS in_between,
                   count(*) FILTER (WHERE confirmed = 4) AS at_80,
                   max(total) AS busiest,
                   count(*) FILTER (WHERE total >= 10 AND 100.0 * rejected / total > 25) AS crit,
                   count(*) FILTER (WHERE total >= 10 AND 100.0 * rejected / total > 10
                                    AND 100.0 * rejected / total <= 25) AS warn,
                   count(*) FILTER (WHERE total BETWEEN 1 AND 9
                                    AND 100.0 * rejected / total > 10) AS low_volume_gap
            FROM ({window_sql(0)}) w
            """
        )
    ).one()
    # utilization = min(100, 100 x confirmed / 5): > 80 needs 5 confirmed in the 7 days, and
    # 30-90 % means 2, 3 or 4 (40, 60, 80). A real operation: most territories in between,
    # a tail overloaded (not most), some quiet.
    assert kinds.in_between > 0.5 * kinds.territories
    assert 0.1 * kinds.territories < kinds.overloaded < 0.35 * kinds.territories
    assert kinds.quiet >= 25 and kinds.at_80 > 0
    assert kinds.busiest >= 20
    assert kinds.crit >= 5 and kinds.warn >= 5 and kinds.low_volume_gap >= 5


def test_overload_lasts_several_weeks_in_some_territories_and_is_new_in_others(
    conn: Connection,
) -> None:
    weeks = conn.execute(
        text(
            f"""
            SELECT w0.id, w0.confirmed >= 5, w1.confirmed >= 5, w2.confirmed >= 5,
                   w3.confirmed >= 5
            FROM ({window_sql(0)}) w0 JOIN ({window_sql(7)}) w1 USING (id)
            JOIN ({window_sql(14)}) w2 USING (id) JOIN ({window_sql(21)}) w3 USING (id)
            """
        )
    ).all()
    streaks = [r[1:] for r in weeks]
    three_or_more = sum(s[:3] == (True, True, True) for s in streaks)
    # persistent hotspots: the "3+ weeks" critical trigger for some territories, not most
    assert 10 <= three_or_more < 0.25 * len(streaks)
    assert sum(s == (True, True, True, False) for s in streaks) >= 1  # exactly 3 weeks
    assert sum(s[:2] == (True, False) for s in streaks) >= 5  # overloaded only this week
    assert sum(s[:3] == (True, True, False) for s in streaks) >= 5  # two weeks


def test_slack_data(conn: Connection) -> None:
    per_org = conn.execute(
        text(
            "SELECT o.name, count(*), count(DISTINCT c.created_at::date)"
            " FROM topic_classifications c JOIN organizations o ON o.id = c.organization_id"
            " GROUP BY 1"
        )
    ).all()
    assert len(per_org) == 5
    both = one(
        conn,
        "SELECT count(*) FROM organizations o WHERE EXISTS (SELECT 1 FROM territories t"
        " WHERE t.org_id = o.id) AND EXISTS (SELECT 1 FROM topic_classifications c"
        " WHERE c.organization_id = o.id)",
    )
    assert both == 1
    days = conn.execute(
        text(
            "SELECT (created_at AT TIME ZONE 'UTC')::date, count(*) FROM topic_classifications"
            " GROUP BY 1 ORDER BY 1"
        )
    ).all()
    assert [d for d, _ in days] == [date(2026, 11, d) for d in range(16, 23)]
    assert all(abs(n - 3_000) < 300 for _, n in days)
    ids = (
        conn.execute(
            text("SELECT DISTINCT channel_id FROM topic_classifications WHERE channel_id <> ''")
        )
        .scalars()
        .all()
    )
    assert all(re.fullmatch(r"C[0-9A-Z]{8}", c) for c in ids) and len(ids) >= 40
    assert one(conn, "SELECT count(*) FROM topic_classifications WHERE channel_id IS NULL") > 0
    topics = set(conn.execute(text("SELECT DISTINCT topic FROM topic_classifications")).scalars())
    assert {"complaint", "escalation"} <= topics and len(topics - {"complaint", "escalation"}) >= 5


def test_sentiments_confidence_and_times(conn: Connection) -> None:
    shapes: dict[str, int] = dict(
        conn.execute(
            text(
                """
                SELECT CASE WHEN sentiment IS NULL THEN 'sql null'
                            WHEN jsonb_typeof(sentiment) <> 'object' THEN jsonb_typeof(sentiment)
                            WHEN NOT sentiment ? 'tone' THEN 'no tone'
                            ELSE 'tone ' || jsonb_typeof(sentiment -> 'tone') END,
                       count(*)
                FROM topic_classifications GROUP BY 1
                """
            )
        ).all()
    )
    for malformed in ("sql null", "null", "string", "array", "no tone", "tone number",
                      "tone null"):  # fmt: skip
        assert shapes.get(malformed, 0) > 0, malformed
    assert shapes["tone string"] / sum(shapes.values()) > 0.97  # 1.5 % malformed drawn
    tones = set(
        conn.execute(
            text(
                "SELECT DISTINCT sentiment ->> 'tone' FROM topic_classifications"
                " WHERE jsonb_typeof(sentiment -> 'tone') = 'string'"
            )
        ).scalars()
    )
    assert tones == {"negative", "neutral", "positive"}
    low, high, nulls = conn.execute(
        text(
            "SELECT min(confidence), max(confidence), count(*) FILTER (WHERE confidence IS NULL)"
            " FROM topic_classifications"
        )
    ).one()
    assert 0.4 <= low < 0.41 and 0.99 < high <= 1.0 and nulls > 0
    hours = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE extract(hour FROM created_at AT TIME ZONE 'UTC') = 0),"
            " count(*) FILTER (WHERE extract(hour FROM created_at AT TIME ZONE 'UTC') = 23)"
            " FROM topic_classifications"
        )
    ).one()
    assert hours[0] > 0 and hours[1] > 0  # spread over the whole UTC day


def test_hotspots_and_alerts_on_the_anchor_day(conn: Connection) -> None:
    channels = conn.execute(
        text(
            """
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE topic IN ('complaint', 'escalation')) AS risky
            FROM topic_classifications
            WHERE created_at >= '2026-11-22T00:00Z' AND created_at < '2026-11-23T00:00Z'
              AND channel_id IS NOT NULL
            GROUP BY organization_id, channel_id
            """
        )
    ).all()
    hot = [c for c in channels if c.n >= 10 and c.risky / c.n > 0.30]
    calm = [c for c in channels if c.n >= 10 and c.risky / c.n <= 0.30]
    near = [c for c in channels if c.n >= 10 and 0.2 <= c.risky / c.n <= 0.4]
    assert len(hot) >= 3 and len(calm) >= 20 and len(near) >= 3
    severities: dict[str, int] = dict(
        conn.execute(text("SELECT severity, count(*) FROM escalation_alerts GROUP BY 1")).all()
    )
    assert set(severities) == {"low", "medium", "high", "critical"}
    span = conn.execute(
        text(
            "SELECT min(created_at) >= '2026-11-16T00:00Z', max(created_at) < '2026-11-23T00:00Z'"
            " FROM escalation_alerts"
        )
    ).one()
    assert tuple(span) == (True, True)


def test_the_sample_http_events_speak_for_an_organization_of_the_demo_data(
    conn: Connection,
) -> None:
    """infra/events/reports/*.json answer with data on `opsmetrics seed` / demo data (seed 7),
    whatever the anchor date: organization ids do not depend on it."""
    import json
    from pathlib import Path

    events = Path(__file__).resolve().parents[2] / "infra" / "events" / "reports"
    claimed = {
        claims["org_id"]
        for path in events.glob("*.json")
        if (claims := json.loads(path.read_text())["requestContext"].get("authorizer", {}))
        and (claims := claims.get("jwt", {}).get("claims", {})).get("org_id")
    }
    staffing = set(
        conn.execute(
            text(
                "SELECT o.id::text FROM organizations o"
                " WHERE EXISTS (SELECT 1 FROM territories t WHERE t.org_id = o.id)"
                " AND EXISTS (SELECT 1 FROM topic_classifications c"
                " WHERE c.organization_id = o.id)"
            )
        ).scalars()
    )
    assert claimed and claimed <= staffing  # territories and Slack data both
