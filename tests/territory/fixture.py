"""The hand-computed territory fixture and small builders shared by the territory DB tests.

Metric date D = Sunday 2026-03-15, window [D-6, D] = [2026-03-09, 2026-03-15].

Org A ("North Medics")
  A1  SW1A 1  London         primary + secondary medic
      in window, typed five ways: pending (D-6, first day), confirmed x2, completed (D, last day),
      rejected, cancelled, and two unknown statuses ('CONFIRMED ' and 'no_show');
      outside: confirmed on D-7 and on D+1
      -> total 1+2+1+1 = 5, confirmed 2+1 = 3, rejected 1
         rejection 100*1/5 = 20.00, fulfillment 100*3/5 = 60.00, utilization 100*3/5 = 60.00
  A2  M1 4    North West     primary only
      confirmed x4, rejected x2
      -> total 6, confirmed 4, rejected 2; rejection 200/6 = 33.333.. -> 33.33,
         fulfillment 400/6 = 66.666.. -> 66.67, utilization 100*4/5 = 80.00
  A3  EC1V 9  London         no medics; its only booking is on D-7 (outside) -> a zero row:
      0, 0, 0, NULL, NULL, 0.00
  A4  B1 1    West Midlands  primary + secondary
      completed x31, rejected x1
      -> total 32, confirmed 31, rejected 1; rejection 100/32 = 3.125 -> 3.13 (half up; half-even
         or float rounding would give 3.12), fulfillment 3100/32 = 96.875 -> 96.88,
         utilization min(100, 3100/5 = 620) = 100.00
  bad, in window: 'N/A' confirmed, '12345' pending, 'SW1A' rejected (3 malformed);
      'ZZ9 9ZZ' confirmed (well-formed, no territory); '??' with status 'unknown' (unknown status,
      counted once, as unknown)
Org B ("South Medics")
  B1  SW1A 1  London         primary only (same sector as A1, other organization)
      confirmed x1, rejected x1 -> total 2, confirmed 1, rejected 1, 50.00, 50.00, 20.00
  bad: 'M1 4AE' confirmed (a sector only org A covers -> no territory for B)

Window totals: A1 8 + A2 6 + A4 32 + B1 2 + malformed 3 + no-territory 2 + unknown 1 = 54;
counted 5+6+32+2 = 45; cancelled 1; unknown 2+1 = 3; malformed 3; no territory 2;
unmatched 3+2 = 5; check 45 + 1 + 3 + 5 = 54. Outside the window: 3 bookings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from tests.factories import insert_rows, org

D = date(2026, 3, 15)


def day(offset: int) -> date:
    return D + timedelta(days=offset)


@dataclass(frozen=True)
class World:
    org_a: uuid.UUID
    org_b: uuid.UUID
    a1: uuid.UUID
    a2: uuid.UUID
    a3: uuid.UUID
    a4: uuid.UUID
    b1: uuid.UUID


def medic(conn: Connection, org_id: uuid.UUID, name: str) -> uuid.UUID:
    medic_id = uuid.uuid4()
    insert_rows(conn, "medics", [{"id": medic_id, "org_id": org_id, "full_name": name}])
    return medic_id


def territory(
    conn: Connection,
    org_id: uuid.UUID,
    sector: str,
    region: str,
    *,
    primary: bool = True,
    secondary: bool = True,
) -> uuid.UUID:
    territory_id = uuid.uuid4()
    insert_rows(
        conn,
        "territories",
        [
            {
                "id": territory_id,
                "org_id": org_id,
                "postcode_sector": sector,
                "region": region,
                "primary_medic_id": medic(conn, org_id, f"P {sector}") if primary else None,
                "secondary_medic_id": medic(conn, org_id, f"S {sector}") if secondary else None,
            }
        ],
    )
    return territory_id


def bookings(
    conn: Connection, org_id: uuid.UUID, entries: list[tuple[str, str, date]], repeat: int = 1
) -> None:
    """(site_postcode, status, shift_date) entries, each inserted `repeat` times."""
    insert_rows(
        conn,
        "bookings",
        [
            {"org_id": org_id, "site_postcode": pc, "shift_date": when, "status": status}
            for pc, status, when in entries
            for _ in range(repeat)
        ],
    )


def build_world(engine: Engine) -> World:
    with engine.begin() as conn:
        org_a, org_b = org(conn, "North Medics"), org(conn, "South Medics")
        a1 = territory(conn, org_a, "SW1A 1", "London")
        a2 = territory(conn, org_a, "M1 4", "North West", secondary=False)
        a3 = territory(conn, org_a, "EC1V 9", "London", primary=False, secondary=False)
        a4 = territory(conn, org_a, "B1 1", "West Midlands")
        b1 = territory(conn, org_b, "SW1A 1", "London", secondary=False)
        bookings(
            conn,
            org_a,
            [
                ("sw1a1aa", "pending", day(-6)),
                (" SW1A 1AA ", "confirmed", day(-3)),
                ("Sw1A  1aB", "confirmed", day(-2)),
                ("SW1A\t1AD", "completed", day(0)),
                ("sw1a 1zz", "rejected", day(-1)),
                ("SW1A1AA", "cancelled", day(-4)),
                ("SW1A 1AA", "CONFIRMED ", day(-2)),
                ("sw1a1aa", "no_show", day(-5)),
                ("SW1A 1AA", "confirmed", day(-7)),  # outside: the day before the window
                ("SW1A 1AA", "confirmed", day(1)),  # outside: the day after
                ("EC1V 9AA", "confirmed", day(-7)),  # outside: A3 stays a zero row
                ("M14AE", "confirmed", day(-6)),
                ("m1 4ae", "confirmed", day(-5)),
                ("M1 4AE", "confirmed", day(-4)),
                ("M1 4BB", "confirmed", day(0)),
                ("m1 4ae", "rejected", day(-1)),
                ("M1 4AE", "rejected", day(-2)),
                ("b1 1aa", "rejected", day(-3)),
                ("N/A", "confirmed", day(-1)),
                ("12345", "pending", day(-1)),
                ("SW1A", "rejected", day(-1)),
                ("ZZ9 9ZZ", "confirmed", day(-1)),
                ("??", "unknown", day(-1)),
            ],
        )
        bookings(conn, org_a, [("B11AA", "completed", day(-2))], repeat=31)
        bookings(
            conn,
            org_b,
            [
                ("SW1A1AA", "confirmed", day(-1)),
                ("sw1a 1aa", "rejected", day(-1)),
                ("M1 4AE", "confirmed", day(-1)),
            ],
        )
    return World(org_a, org_b, a1, a2, a3, a4, b1)


def metrics(engine: Engine, when: date = D) -> dict[uuid.UUID, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM territory_metrics WHERE metric_date = :d"), {"d": when}
        ).mappings()
        return {r["territory_id"]: dict(r) for r in rows}


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
