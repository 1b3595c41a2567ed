"""The postcode-to-sector SQL and the SQL rate rounding, evaluated by PostgreSQL itself."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, text

from opsmetrics.territory.postcodes import sector_sql
from opsmetrics.territory.rules import rate, utilization
from opsmetrics.territory.rules_sql import rate_sql, utilization_sql

CASES = [
    # typed as people type it -> sector
    ("SW1A 1AA", "SW1A 1"),
    ("sw1a1aa", "SW1A 1"),
    (" SW1A 1AA ", "SW1A 1"),
    ("Sw1A  1aB", "SW1A 1"),
    ("SW1A\t1AA\n", "SW1A 1"),
    ("s w 1 a 1 a a", "SW1A 1"),
    ("SW1A\u00a01AA", "SW1A 1"),  # no-break space
    ("\ufeffSW1A 1AA\u200b", "SW1A 1"),  # byte-order mark, zero-width space
    ("SW1A\u20071AA", "SW1A 1"),  # figure space
    ("M1 1AE", "M1 1"),  # A9
    ("m11ae", "M1 1"),
    ("B33 8TH", "B33 8"),  # A99
    ("CR2 6XH", "CR2 6"),  # AA9
    ("DN55 1PT", "DN55 1"),  # AA99
    ("W1A 0AX", "W1A 0"),  # A9A
    ("ec1v 9aa", "EC1V 9"),  # AA9A
    ("ZZ9 9ZZ", "ZZ9 9"),  # well-formed, whether or not a territory covers it
    # not a UK postcode -> NULL
    ("N/A", None),
    ("12345", None),
    ("SW1A", None),  # outward code only
    ("SW1A 1A", None),  # inward code too short
    ("SW1A 1AAA", None),  # too long
    ("SWA1 1AA", None),  # three letters before the digit
    ("1W1A 1AA", None),  # starts with a digit
    ("SW1A AAA", None),  # inward must start with a digit
    ("SW1A 11A", None),  # inward must end with two letters
    ("SW1A-1AA", None),  # punctuation is not white space
    ("SW1A_1AA", None),
    ("", None),
    ("   ", None),
    ("ßW1 1AA", None),  # non-ASCII letters are not postcode letters
    ("\uff33\uff371A 1AA", None),  # full-width letters neither
    ("SW1A 1\u00c4A", None),
    ("SW\u0661A 1AA", None),  # an Arabic-Indic digit is not [0-9]
]


def test_sector_rule_on_tricky_spellings(db: Engine) -> None:
    values = ", ".join(f"(:p{i}, {i})" for i in range(len(CASES)))
    params = {f"p{i}": raw for i, (raw, _) in enumerate(CASES)}
    with db.connect() as conn:
        got = conn.execute(
            text(f"SELECT {sector_sql('v.p')} FROM (VALUES {values}) v(p, i) ORDER BY v.i"),
            params,
        ).scalars()
        assert list(zip([raw for raw, _ in CASES], got, strict=True)) == CASES


def test_sql_rates_and_utilization_agree_with_the_rules(db: Engine) -> None:
    """Every part/total with total up to 64 (1/32 = 3.125, 1/64 = 1.5625 ...): SQL == Python."""
    with db.connect() as conn:
        got = conn.execute(
            text(
                f"SELECT p, t, {rate_sql('p', 't')}, {utilization_sql('p')}"
                " FROM generate_series(0, 64) t, generate_series(0, t) p"
            )
        ).all()
    assert len(got) == 65 * 66 // 2  # pairs 0 <= p <= t <= 64
    for part, total, sql_rate, sql_util in got:
        assert sql_rate == rate(part, total), (part, total)
        assert sql_util == utilization(part), part
    by_pair = {(p, t): r for p, t, r, _ in got}
    assert by_pair[(1, 32)] == Decimal("3.13")  # 3.125 half up
    assert by_pair[(1, 64)] == Decimal("1.56")  # 1.5625: the digit after is 2
    assert by_pair[(0, 0)] is None
