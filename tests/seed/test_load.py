"""seed.load against PostgreSQL: determinism, refusal without reset, reset, bad requests."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Engine, event, text

from opsmetrics import migrations, seed
from opsmetrics.config import Settings
from opsmetrics.db import build_engine
from opsmetrics.errors import BadRequest, ConfigError
from opsmetrics.seed import loader
from opsmetrics.seed.sqlrand import SqlRand
from tests.factories import insert_rows, org
from tests.seed.checks import checksums, counts

ANCHOR = date(2026, 3, 1)


def test_same_seed_same_rows_other_seed_other_rows(db: Engine) -> None:
    first = seed.load(db, scale="small", seed=11, anchor=ANCHOR, reset=False)
    with db.connect() as conn:
        assert counts(conn) == first  # the returned counts are the rows in the tables
        before = checksums(conn)
    again = seed.load(db, scale="small", seed=11, anchor=ANCHOR, reset=True)
    with db.connect() as conn:
        assert again == first
        assert checksums(conn) == before  # byte-identical, ids included
    seed.load(db, scale="small", seed=12, anchor=ANCHOR, reset=True)
    with db.connect() as conn:
        other = checksums(conn)
    assert all(other[t] != before[t] for t in before), "every table changes with the seed"


def test_splitting_a_day_into_more_statements_changes_no_row(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed.load(db, scale="small", seed=8, anchor=ANCHOR, reset=True)
    with db.connect() as conn:
        whole = checksums(conn)
    # small plans 400 classifications a day: at most 150 per statement makes 3 statements a day
    monkeypatch.setattr(loader, "ROWS_PER_STATEMENT", 150)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "INSERT INTO topic_classifications" in statement:
            statements.append(statement)

    event.listen(db, "before_cursor_execute", count)
    try:
        seed.load(db, scale="small", seed=8, anchor=ANCHOR, reset=True)
    finally:
        event.remove(db, "before_cursor_execute", count)
    assert len(statements) == 7 * 3
    with db.connect() as conn:
        assert checksums(conn) == whole


def test_counts_are_in_insertion_order_and_non_zero(db: Engine) -> None:
    result = seed.load(db, scale="small", seed=1, anchor=ANCHOR, reset=True)
    assert list(result) == [
        "organizations",
        "medics",
        "territories",
        "bookings",
        "topic_classifications",
        "escalation_alerts",
    ]
    small = seed.SCALES["small"]
    assert result["organizations"] == small.organizations == 2 + 3 - 1
    assert result["territories"] == small.territories == 16 + 24
    assert result["medics"] == small.medics == 13 + 20  # ceil(0.8 x 16), 0.8 x 24
    assert all(n > 0 for n in result.values())


def test_refuses_to_load_over_existing_data_and_writes_nothing(db: Engine) -> None:
    seed.load(db, scale="small", seed=3, anchor=ANCHOR, reset=False)
    with db.connect() as conn:
        before = checksums(conn)
    with pytest.raises(BadRequest, match=r"already has data.*use --reset"):
        seed.load(db, scale="small", seed=4, anchor=ANCHOR, reset=False)
    with db.connect() as conn:
        assert checksums(conn) == before


def test_one_existing_row_is_enough_to_refuse(db: Engine) -> None:
    with db.begin() as conn:
        org(conn, "Someone Else's Data Ltd")
    with pytest.raises(BadRequest, match=r"already has data \(organizations\); use --reset"):
        seed.load(db, scale="small", seed=4, anchor=ANCHOR, reset=False)
    with db.connect() as conn:
        assert counts(conn)["organizations"] == 1


def test_reset_empties_source_and_output_tables(db: Engine) -> None:
    with db.begin() as conn:
        old_org = org(conn, "Old Org")
        insert_rows(
            conn,
            "job_runs",
            [{"id": uuid.uuid4(), "job": "daily-trend-aggregation", "target_date": ANCHOR,
              "trigger": "manual", "status": "succeeded", "started_at": "2026-03-02T01:00Z"}],
        )  # fmt: skip
        insert_rows(
            conn,
            "communication_trends",
            [{"organization_id": old_org, "trend_date": ANCHOR, "trend_period": "daily",
              "topic_distribution": {}, "sentiment_distribution": {}, "escalation_counts": {},
              "channel_hotspots": [], "total_classifications": 0, "avg_confidence": None,
              "created_at": "2026-03-02T01:00Z", "updated_at": "2026-03-02T01:00Z"}],
        )  # fmt: skip
    seed.load(db, scale="small", seed=5, anchor=ANCHOR, reset=True)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM job_runs")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM communication_trends")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM territory_metrics")).scalar_one() == 0
        assert (
            conn.execute(
                text("SELECT count(*) FROM organizations WHERE id = :id"), {"id": old_org}
            ).scalar_one()
            == 0
        )


def test_unknown_scale_is_a_bad_request_naming_the_known_ones(db: Engine) -> None:
    with pytest.raises(BadRequest) as info:
        seed.load(db, scale="galactic", seed=1, anchor=ANCHOR, reset=True)
    message = str(info.value)
    assert "galactic" in message and "small, demo, uk" in message
    with db.connect() as conn:
        assert set(counts(conn).values()) == {0}


def test_anchor_moves_the_data_and_nothing_lies_after_it_but_pending_work(db: Engine) -> None:
    seed.load(db, scale="small", seed=2, anchor=ANCHOR, reset=True)
    with db.connect() as conn:
        row = conn.execute(
            text(
                "SELECT min(shift_date), max(shift_date), max(created_at) < :next,"
                " bool_and(status NOT IN ('completed') OR shift_date <= :anchor)"
                " FROM bookings"
            ),
            {"anchor": ANCHOR, "next": "2026-03-02T00:00Z"},
        ).one()
        slack = conn.execute(
            text(
                "SELECT min(created_at) >= '2026-02-23T00:00Z', max(created_at) < :next"
                " FROM topic_classifications"
            ),
            {"next": "2026-03-02T00:00Z"},
        ).one()
    # small: 4 weeks ending 2026-03-01 (from 2026-02-02) and 7 days ahead
    assert (row[0], row[1]) == (date(2026, 2, 2), date(2026, 3, 8))
    assert row[2] is True  # nothing was created after the anchor day
    assert row[3] is True  # no shift in the future is completed
    assert tuple(slack) == (True, True)  # Slack: the anchor and the 6 days before


def test_refuses_a_database_without_the_schema(empty_database_url: str) -> None:
    engine = build_engine(empty_database_url, Settings())
    try:
        with pytest.raises(ConfigError, match="opsmetrics db upgrade"):
            seed.load(engine, scale="small", seed=1, anchor=ANCHOR, reset=True)
        # a product database: only the outputs branch is ours, the source tables are theirs
        migrations.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                text(f"DELETE FROM {migrations.VERSION_TABLE} WHERE version_num LIKE :source"),
                {"source": "s%"},
            )
        with pytest.raises(ConfigError, match="not created by opsmetrics"):
            seed.load(engine, scale="small", seed=1, anchor=ANCHOR, reset=True)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM organizations")).scalar_one() == 0
    finally:
        engine.dispose()


def test_draws_are_uniform_and_picks_follow_their_weights(db: Engine) -> None:
    rand = SqlRand(5)
    h = rand.hash("test", "n")
    with db.connect() as conn:
        row = conn.execute(
            text(
                f"""
                SELECT avg(u0), min(u0), max(u0), avg(u2),
                       avg((v = 'b')::int)::float8, count(DISTINCT v), avg(i)::float8
                FROM (
                    SELECT {rand.draw(h, 0)} AS u0, {rand.draw(h, 2)} AS u2,
                           {rand.pick(rand.draw(h, 1), [("'a'", 1), ("'b'", 3)])} AS v,
                           {rand.below(h, 10)} AS i
                    FROM generate_series(1, 100000) AS n
                ) d
                """
            )
        ).one()
    mean0, low, high, mean2, share_b, distinct, mean_below = row
    # 100,000 uniform draws: mean 0.5 with a standard error of 0.29 / 316 = 0.0009
    assert abs(mean0 - 0.5) < 0.005 and abs(mean2 - 0.5) < 0.005
    assert 0 <= low < 0.001 and 0.999 < high < 1
    # weights 1:3 => 'b' 75 % (standard error 0.0014)
    assert abs(share_b - 0.75) < 0.01 and distinct == 2
    # integers 0..9 uniformly: mean 4.5 (standard error 0.009)
    assert abs(mean_below - 4.5) < 0.05
    assert rand.key("x") != SqlRand(6).key("x") and rand.key("x") != rand.key("y")
