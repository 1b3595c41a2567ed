"""The sizes `opsmetrics seed --scale` knows, and the row counts each one plans (pure numbers).

A plan is what the loader aims at; the drawn data lands within a few per cent of it (the test of
the demo scale checks that), so the planned sizes of `uk` can be checked without loading it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from opsmetrics.seed.profiles import (
    OPERATION_PROFILES,
    PROFILES,
    Profile,
    expected_weekly_bookings,
)

# Bookings per weekday relative to an average day (Mon..Sun): events and clinics book weekdays;
# sums to 7 so that any 7 consecutive days hold one average week.
WEEKDAY_FACTORS = (1.15, 1.15, 1.15, 1.15, 1.15, 0.8, 0.45)

# Share of a week's eventual bookings already made for shifts 1-7 and 8-14 days ahead.
FUTURE_BOOKED = ((7, 0.6), (14, 0.25))

# Slack data always covers the anchor day and the 6 days before it (the daily trend window).
SLACK_DAYS = 7


@dataclass(frozen=True)
class StaffingOrg:
    name: str
    territories: int
    regions: tuple[str, ...] = ()  # empty: national, any region


@dataclass(frozen=True)
class DataDay:
    day: date
    week: int  # 0 = the 7 days ending at the anchor, 1 = the week before; -1, -2 = future
    factor: float  # volume: bookings weekday x share booked; Slack relative to the anchor day


@dataclass(frozen=True)
class Scale:
    name: str
    summary: str
    staffing: tuple[StaffingOrg, ...]
    medics_per_territory: float
    busy_factor: float  # multiplies the volume of the busy profiles (see profiles.py)
    history_weeks: int  # weeks of bookings ending at the anchor
    future_days: int  # days after the anchor that already have (mostly pending) bookings
    slack_orgs: int  # Slack customers; the first staffing organization is one of them
    classifications_on_anchor_day: int
    earlier_days_factor: float  # Slack volume on the 6 days before the anchor, relative to it
    channels: tuple[int, int]  # channels per Slack organization (inclusive range)
    profiles: tuple[Profile, ...] = PROFILES  # the territories' booking profiles (profiles.py)

    @property
    def territories(self) -> int:
        return sum(o.territories for o in self.staffing)

    @property
    def organizations(self) -> int:
        # The first staffing organization is also a Slack customer.
        return len(self.staffing) + self.slack_orgs - 1

    def medics_of(self, org: StaffingOrg) -> int:
        return max(2, math.ceil(org.territories * self.medics_per_territory))

    @property
    def medics(self) -> int:
        return sum(self.medics_of(o) for o in self.staffing)

    def booking_days(self, anchor: date) -> list[DataDay]:
        first = anchor - timedelta(days=7 * self.history_weeks - 1)
        days: list[DataDay] = []
        for offset in range((anchor - first).days + 1 + self.future_days):
            day = first + timedelta(days=offset)
            ahead = (day - anchor).days
            booked = 1.0
            if ahead > 0:
                booked = next((share for limit, share in FUTURE_BOOKED if ahead <= limit), 0.0)
            factor = WEEKDAY_FACTORS[day.weekday()] * booked
            days.append(DataDay(day, (anchor - day).days // 7, factor))
        return days

    def planned_bookings(
        self, anchor: date, start: date | None = None, end: date | None = None
    ) -> float:
        """Expected bookings with shift_date in [start, end] (default: every day with data)."""
        return sum(
            self.territories
            * expected_weekly_bookings(d.week, self.busy_factor, self.profiles)
            / 7
            * d.factor
            for d in self.booking_days(anchor)
            if (start is None or d.day >= start) and (end is None or d.day <= end)
        )

    def planned_bookings_in_window(self, anchor: date) -> float:
        """Expected bookings with shift_date in [anchor-6, anchor] (the daily job's window)."""
        return self.planned_bookings(anchor, anchor - timedelta(days=6), anchor)

    def slack_days(self, anchor: date) -> list[DataDay]:
        """The UTC days with Slack data, oldest first; `week` is 0 and `factor` the volume
        relative to the anchor day."""
        return [
            DataDay(
                anchor - timedelta(days=back), 0, 1.0 if back == 0 else self.earlier_days_factor
            )
            for back in range(SLACK_DAYS - 1, -1, -1)
        ]

    @property
    def planned_classifications(self) -> float:
        return self.classifications_on_anchor_day * (
            1 + (SLACK_DAYS - 1) * self.earlier_days_factor
        )


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale(
            name="small",
            summary="tests: 2 staffing organizations, 40 territories, 3 Slack organizations",
            staffing=(
                StaffingOrg("Alpha Event Medics", 16, ("London",)),
                StaffingOrg("Beta Medical Cover", 24),
            ),
            medics_per_territory=0.8,
            busy_factor=0.3,
            history_weeks=4,
            future_days=7,
            slack_orgs=3,
            classifications_on_anchor_day=400,
            earlier_days_factor=1.0,
            channels=(4, 8),
            profiles=OPERATION_PROFILES,
        ),
        Scale(
            name="demo",
            summary="seconds: 3 staffing organizations, 500 territories, 5 Slack organizations",
            staffing=(
                StaffingOrg("Capital Event Medics", 200, ("London", "South East")),
                StaffingOrg(
                    "Northern Medical Staffing",
                    150,
                    ("North West", "Yorkshire and the Humber", "North East", "Scotland"),
                ),
                StaffingOrg("Britannia Medical Cover", 150),
            ),
            medics_per_territory=0.8,
            busy_factor=0.35,
            history_weeks=8,
            future_days=14,
            slack_orgs=5,
            classifications_on_anchor_day=3_000,
            earlier_days_factor=1.0,
            channels=(8, 20),
            profiles=OPERATION_PROFILES,
        ),
        Scale(
            name="uk",
            summary="benchmarks: a national organization with 11,000 territories, 1,000 Slack"
            " organizations",
            staffing=(
                StaffingOrg("National Medical Cover", 11_000),
                StaffingOrg("London Event Medics", 400, ("London",)),
                StaffingOrg("Caledonian Medical Cover", 250, ("Scotland",)),
            ),
            medics_per_territory=0.8,
            busy_factor=1.3,
            history_weeks=8,
            future_days=14,
            slack_orgs=1_000,
            classifications_on_anchor_day=310_000,
            earlier_days_factor=0.2,
            channels=(3, 30),
        ),
    )
}
