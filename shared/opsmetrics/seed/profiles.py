"""Booking profiles of territories: how busy a territory is, week by week, and how often it rejects.

Each territory draws one profile (by share), then its weekly volume and rejection rate uniformly
inside the profile's ranges. The mix is chosen so that the territory metrics show the whole range
spec §3-4 cares about: quiet territories, overloaded ones (utilization > 80 needs 5 confirmed
bookings in a week), overloaded for many consecutive weeks (critical) or only lately (warning),
rejection above 10 % and above 25 % with at least 10 bookings, and low-volume high-rejection ones.
Pure data: the SQL in territory.py reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Weeks are numbered back from the anchor: 0 = the 7 days ending at the anchor, 1 = the week
# before, ...; future days are weeks -1 and -2.
ALWAYS = (-99, 99)

# A quiet territory books 0-4 shifts a week: under the 5 confirmed that make utilization > 80.
QUIET_VOLUME = (0.3, 3.5)


@dataclass(frozen=True)
class Profile:
    code: str
    share: float  # fraction of territories
    volume: tuple[float, float]  # bookings per week while active (before the scale's factor)
    scaled: bool  # multiply volume by the scale's busy_factor (the big, bursty profiles)
    rejection: tuple[float, float]  # probability that a booking is rejected
    active_weeks: tuple[int, int] = ALWAYS  # weeks (inclusive) at `volume`; quiet otherwise

    def mean_volume(self, week: int, busy_factor: float) -> float:
        """Expected bookings in `week` (a full 7 days at normal booking levels)."""
        lo, hi = self.active_weeks
        if lo <= week <= hi:
            factor = busy_factor if self.scaled else 1.0
            return (self.volume[0] + self.volume[1]) / 2 * factor
        return sum(QUIET_VOLUME) / 2


PROFILES: tuple[Profile, ...] = (
    Profile("quiet", 0.12, QUIET_VOLUME, False, (0.0, 0.15)),
    Profile("steady", 0.15, (6, 25), False, (0.01, 0.06)),
    Profile("busy", 0.37, (25, 80), True, (0.01, 0.07)),
    Profile("hot", 0.14, (80, 250), True, (0.01, 0.06)),
    # Rejection inside (10, 25] once cancellations are left out of the total: a warning gap.
    Profile("gap_warning", 0.05, (14, 45), False, (0.12, 0.21)),
    # Rejection above 25 % with enough bookings to meet the minimum volume: a critical gap.
    Profile("gap_critical", 0.04, (12, 40), False, (0.29, 0.45)),
    # Rejects a lot but books under 10 a week: only shown when low volume is asked for.
    Profile("thin_rejecting", 0.04, (3, 8), False, (0.35, 0.6)),
    # Overloaded in the last week only, or the last two (a warning, not yet critical), or
    # exactly the last three (just critical).
    Profile("surge_new", 0.02, (25, 80), True, (0.01, 0.07), (-99, 0)),
    Profile("surge_two", 0.02, (25, 80), True, (0.01, 0.07), (-99, 1)),
    Profile("surge_three", 0.02, (25, 80), True, (0.01, 0.07), (-99, 2)),
    # Overloaded until three weeks ago, quiet since: its counter has gone back to 0.
    Profile("cooling", 0.03, (25, 80), True, (0.01, 0.07), (3, 99)),
)


# The `small` and `demo` scales: a believable operation. Utilization is confirmed bookings over
# 5 working days (spec §3), so it saturates at 5 confirmed shifts a week; most territories
# book 2-5 a week (30-90 %), a tail is overloaded, a few are hotspots week after week (the
# "3+ weeks" critical trigger), and coverage gaps and surges show every other rule once.
# `uk` keeps PROFILES: it is the load test, with volumes far past saturation.
OPERATION_PROFILES: tuple[Profile, ...] = (
    Profile("quiet", 0.03, QUIET_VOLUME, False, (0.0, 0.15)),
    Profile("light", 0.18, (2.0, 3.2), False, (0.0, 0.08)),
    Profile("steady", 0.51, (2.2, 4.2), False, (0.01, 0.06)),
    # Around 5 confirmed a week: over 80 % some weeks (warnings, now and then a streak).
    Profile("stretched", 0.08, (4.0, 5.5), False, (0.01, 0.06)),
    # Persistent hotspots: overloaded every week, so their counters reach 3+ (critical).
    Profile("hotspot", 0.04, (8, 16), False, (0.01, 0.06)),
    Profile("gap_warning", 0.03, (12, 25), False, (0.12, 0.21)),
    Profile("gap_critical", 0.03, (12, 25), False, (0.29, 0.45)),
    Profile("thin_rejecting", 0.03, (3, 8), False, (0.35, 0.6)),
    Profile("surge_new", 0.02, (8, 16), False, (0.01, 0.06), (-99, 0)),
    Profile("surge_two", 0.02, (8, 16), False, (0.01, 0.06), (-99, 1)),
    Profile("surge_three", 0.01, (8, 16), False, (0.01, 0.06), (-99, 2)),
    Profile("cooling", 0.02, (8, 16), False, (0.01, 0.06), (3, 99)),
)


def expected_weekly_bookings(
    week: int, busy_factor: float, profiles: tuple[Profile, ...] = PROFILES
) -> float:
    """Mean bookings per territory in `week` over the profile mix."""
    return sum(p.share * p.mean_volume(week, busy_factor) for p in profiles)
