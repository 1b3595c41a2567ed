"""Deterministic pseudo-randomness as SQL expressions: a pure function of (seed, stream, row).

PostgreSQL's `random()` depends on the order rows are produced in (and on parallel workers);
these expressions do not: every value is a hash of the seed, a named stream and the row's own
numbers, so the same seed gives byte-identical rows on any server, in any plan.

- `hashint8extended(n, key)` is the 64-bit hash PostgreSQL uses for hash partitioning: fast,
  and by design the same on every platform and major version (11 and later).
- ids are md5-based uuids with the version-4 and variant bits set, so they look like uuid4.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

# Bits of one 64-bit hash given to each uniform draw: three draws per hash, 1-in-a-million steps.
DRAW_BITS = 20
_DRAW_MASK = (1 << DRAW_BITS) - 1


class SqlRand:
    """SQL expression builders for one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def key(self, stream: str) -> int:
        """A signed 64-bit key for (seed, stream), the starting value of each hash chain."""
        digest = hashlib.blake2b(f"{self.seed}:{stream}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def hash(self, stream: str, *parts: str) -> str:
        """A bigint hash of the SQL integer expressions `parts` in `stream`."""
        expr = f"({self.key(stream)})::int8"
        for part in parts:
            expr = f"hashint8extended(({part})::int8, {expr})"
        return expr

    def uuid(self, stream: str, *parts: str) -> str:
        """A uuid from md5(seed:stream:parts...), shaped as a version-4 uuid."""
        text = " || ':' || ".join([f"'{self.seed}:{stream}'", *(f"({p})::text" for p in parts)])
        return f"overlay(overlay(md5({text}) placing '4' from 13) placing '8' from 17)::uuid"

    @staticmethod
    def draw(hash_column: str, index: int) -> str:
        """Uniform draw number `index` (0, 1 or 2) in [0, 1) from a bigint hash column."""
        if not 0 <= index < 3:
            raise ValueError("a 64-bit hash holds three 20-bit draws")
        bits = f"(({hash_column}) >> {DRAW_BITS * index}) & {_DRAW_MASK}"
        return f"({bits})::float8 / {1 << DRAW_BITS}"

    @staticmethod
    def below(hash_expr: str, n: int | str) -> str:
        """An integer in [0, n) from a bigint hash (its low 31 bits)."""
        return f"mod(({hash_expr}) & 2147483647, {n})::int"

    @staticmethod
    def pick(draw: str, choices: Sequence[tuple[str, float]]) -> str:
        """A CASE choosing among SQL `choices` with the given weights, by a [0, 1) draw column."""
        total = sum(w for _, w in choices)
        whens = []
        cumulative = 0.0
        for value, weight in choices[:-1]:
            cumulative += weight / total
            whens.append(f"WHEN {draw} < {cumulative!r} THEN {value}")
        return f"CASE {' '.join(whens)} ELSE {choices[-1][0]} END"

    @staticmethod
    def between(draw: str, lo: float | str, hi: float | str) -> str:
        """lo + (hi - lo) * draw."""
        return f"(({lo}) + (({hi}) - ({lo})) * {draw})"


def literal(value: str) -> str:
    """A SQL string literal (for fixed vocabulary only, never user input)."""
    return "'" + value.replace("'", "''") + "'"
