"""The map, the names and the planned sizes of each scale: pure checks, no database."""

from __future__ import annotations

import re
from datetime import date

import pytest

from opsmetrics.seed import SCALES
from opsmetrics.seed.geography import REGIONS, catalogue, districts, sectors_by_region
from opsmetrics.seed.names import org_names
from opsmetrics.seed.profiles import PROFILES, expected_weekly_bookings

CANONICAL = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]$")
SUNDAY = date(2026, 11, 22)


def test_every_sector_is_canonical_and_unique() -> None:
    sectors = [s.sector for s in catalogue()]
    assert all(CANONICAL.match(s) for s in sectors)
    assert len(set(sectors)) == len(sectors)
    for s in catalogue():
        assert s.sector == f"{s.outward} {s.digit}"
        assert s.outward.startswith(s.area)


def test_real_areas_and_districts_are_in_the_map() -> None:
    areas = {s.area for s in catalogue()}
    for area in ["AB", "B", "BS", "CF", "E", "EC", "G", "L", "LS", "M", "N", "NE", "NW", "S",
                 "SE", "SW", "W", "WC", "BT", "EH"]:  # fmt: skip
        assert area in areas
    outwards = {o for _, o, _ in districts()}
    for district in ["SW1A", "EC1V", "M1", "B15", "WC2N", "E1W", "G84", "BT94", "N1C"]:
        assert district in outwards
    for not_a_district in ["SW1", "EC1", "W1", "WC1"]:  # split into lettered districts
        assert not_a_district not in outwards


def test_areas_map_to_their_regions_including_split_areas() -> None:
    region = {o: r for _, o, r in districts()}
    assert region["EH1"] == "Scotland"
    assert region["BT1"] == "Northern Ireland"
    assert region["CF10"] == "Wales"
    assert region["EC1A"] == "London"
    assert region["NE1"] == "North East"
    assert region["LS1"] == "Yorkshire and the Humber"
    assert region["B15"] == "West Midlands"
    assert region["NG1"] == "East Midlands"
    assert region["BS1"] == "South West"
    # areas that straddle a boundary are split by district
    assert (region["EN1"], region["EN6"]) == ("London", "East of England")
    assert (region["CH1"], region["CH5"]) == ("North West", "Wales")
    assert (region["KT1"], region["KT10"]) == ("London", "South East")
    assert (region["S1"], region["S40"]) == ("Yorkshire and the Humber", "East Midlands")


def test_all_twelve_regions_have_sectors() -> None:
    counts = sectors_by_region()
    assert set(counts) == set(REGIONS) and len(REGIONS) == 12
    assert all(n > 100 for n in counts.values())


def test_profile_shares_sum_to_one() -> None:
    assert sum(p.share for p in PROFILES) == pytest.approx(1.0)
    assert len({p.code for p in PROFILES}) == len(PROFILES)


def test_expected_weekly_bookings_by_hand() -> None:
    # week 0, busy_factor 1.3, share x mean volume (scaled profiles x 1.3):
    # quiet .12*1.9=.228, steady .15*15.5=2.325, busy .37*52.5*1.3=25.2525,
    # hot .14*165*1.3=30.03, gap_warning .05*29.5=1.475, gap_critical .04*26=1.04,
    # thin_rejecting .04*5.5=.22, surge_new/two/three 3*.02*68.25=4.095 (all busy in week 0),
    # cooling .03*1.9=.057 (quiet in week 0)  => 64.7225
    assert expected_weekly_bookings(0, 1.3) == pytest.approx(64.7225)
    # week 3: surge_new/two/three are quiet (3*.02*1.9=.114) and cooling busy (.03*68.25=2.0475)
    # => 64.7225 - 4.095 + .114 - .057 + 2.0475 = 62.732
    assert expected_weekly_bookings(3, 1.3) == pytest.approx(62.732)


def test_uk_scale_planned_sizes() -> None:
    uk = SCALES["uk"]
    national = uk.staffing[0]
    assert national.territories == 11_000 and national.regions == ()  # every region
    assert uk.territories == 11_000 + 400 + 250
    assert uk.slack_orgs == 1_000
    assert uk.organizations == 3 + 1_000 - 1  # the national organization is also on Slack
    assert uk.medics == 8_800 + 320 + 200  # 0.8 per territory
    # 11,650 territories x 64.7225 bookings a week (worked out above) = 754,017
    assert uk.planned_bookings_in_window(SUNDAY) == pytest.approx(754_017, abs=1)
    assert uk.planned_bookings_in_window(SUNDAY) >= 700_000 * 1.05  # margin for the draw
    # per territory: weeks 0, 1, 2 = 64.7225, 63.3955 (surge_new quiet: -.02*(68.25-1.9)),
    # 62.0685 (surge_two quiet too); weeks 3-7 = 62.732 each (above); the 14 future days are
    # week-0-like at 60 % then 25 % booked: 64.7225*.85 = 55.014125
    # => 64.7225+63.3955+62.0685+5*62.732+55.014125 = 558.860625; x 11,650 = 6,510,726
    assert uk.planned_bookings(SUNDAY) == pytest.approx(6_510_726, abs=1)
    assert uk.classifications_on_anchor_day == 310_000 >= 300_000
    # 310,000 on the anchor day and 20 % of that on each of the 6 days before
    assert uk.planned_classifications == pytest.approx(310_000 + 6 * 62_000)


def test_uk_organizations_fit_in_the_map() -> None:
    counts = sectors_by_region()
    uk = SCALES["uk"]
    assert uk.staffing[0].territories < len(catalogue()) - 1_000  # sectors left uncovered
    for org in uk.staffing[1:]:
        assert org.territories < sum(counts[r] for r in org.regions)


@pytest.mark.parametrize("name", list(SCALES))
def test_every_scale_fits_and_has_slack(name: str) -> None:
    scale = SCALES[name]
    counts = sectors_by_region()
    for org in scale.staffing:
        room = sum(counts[r] for r in org.regions) if org.regions else len(catalogue())
        assert org.territories < room
        assert set(org.regions) <= set(REGIONS)
    assert scale.slack_orgs >= 2 and scale.channels[0] >= 1


def test_booking_days_cover_history_and_future() -> None:
    demo = SCALES["demo"]
    days = demo.booking_days(SUNDAY)
    assert days[0].day == date(2026, 9, 28)  # 8 weeks = 56 days ending on the anchor
    assert days[-1].day == date(2026, 12, 6)  # plus 14 days ahead
    assert [d.week for d in days if d.day == SUNDAY] == [0]
    assert [d.week for d in days if d.day == date(2026, 11, 16)] == [0]  # anchor - 6
    assert [d.week for d in days if d.day == date(2026, 11, 15)] == [1]  # anchor - 7
    # a Monday in the past books 1.15 x an average day; the Tuesday after the anchor 60 % of it
    assert [d.factor for d in days if d.day == date(2026, 11, 16)] == [1.15]
    assert [d.factor for d in days if d.day == date(2026, 11, 24)] == [pytest.approx(0.69)]


def test_org_names_are_distinct_and_depend_on_the_seed() -> None:
    names = org_names(999, seed=7)
    assert len(set(names)) == 999
    assert org_names(5, seed=7) == names[:5]
    assert org_names(5, seed=8) != names[:5]
    with pytest.raises(ValueError):
        org_names(10_000, seed=1)
