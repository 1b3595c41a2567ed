"""UK postcode geography for synthetic territories: real areas, districts and their regions.

Pure data and functions. The districts are real outward codes (numeric ranges per area as Royal
Mail uses them, and the lettered central-London districts). Areas that straddle two regions are
split by district (EN1-5 is London, EN6-11 East of England). How many sectors a district has is
fixed by a checksum of its name, not by the seed: the map stays the same whatever data is drawn.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import cache

REGIONS: tuple[str, ...] = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "Wales",
    "Scotland",
    "Northern Ireland",
)

# (area, region, districts): districts are numeric ranges "1-16,21" or explicit outward suffixes.
_AREAS: tuple[tuple[str, str, str], ...] = (
    # Scotland
    ("AB", "Scotland", "10-16,21-25,30-39,41-45,51-56"),
    ("DD", "Scotland", "1-11"),
    ("DG", "Scotland", "1-14,16"),
    ("EH", "Scotland", "1-55"),
    ("FK", "Scotland", "1-21"),
    ("G", "Scotland", "1-5,9,11-15,20-23,31-34,40-46,51-53,60-69,71-79,81-84"),
    ("HS", "Scotland", "1-9"),
    ("IV", "Scotland", "1-63"),
    ("KA", "Scotland", "1-30"),
    ("KW", "Scotland", "1-17"),
    ("KY", "Scotland", "1-16"),
    ("ML", "Scotland", "1-12"),
    ("PA", "Scotland", "1-49,60-78"),
    ("PH", "Scotland", "1-50"),
    ("TD", "Scotland", "1-15"),
    ("ZE", "Scotland", "1-3"),
    # North East
    ("NE", "North East", "1-13,15-49,61-71"),
    ("SR", "North East", "1-8"),
    ("DH", "North East", "1-9"),
    ("DL", "North East", "1-17"),
    ("TS", "North East", "1-29"),
    # North West
    ("M", "North West", "1-9,11-35,38,40,41,43-46,50,90"),
    ("BL", "North West", "0-9"),
    ("OL", "North West", "1-16"),
    ("SK", "North West", "1-17,22,23"),
    ("WN", "North West", "1-8"),
    ("WA", "North West", "1-16"),
    ("L", "North West", "1-40"),
    ("CH", "North West", "1-4,41-49,60-66"),
    ("PR", "North West", "0-9,25,26"),
    ("BB", "North West", "1-12,18"),
    ("FY", "North West", "0-8"),
    ("LA", "North West", "1-23"),
    ("CA", "North West", "1-28"),
    ("CW", "North West", "1-12"),
    # Yorkshire and the Humber
    ("LS", "Yorkshire and the Humber", "1-29"),
    ("BD", "Yorkshire and the Humber", "1-24"),
    ("HX", "Yorkshire and the Humber", "1-7"),
    ("HD", "Yorkshire and the Humber", "1-9"),
    ("WF", "Yorkshire and the Humber", "1-17"),
    ("S", "Yorkshire and the Humber", "1-14,17-36,60-66,70-75,80,81"),
    ("DN", "Yorkshire and the Humber", "1-22,31-41"),
    ("HU", "Yorkshire and the Humber", "1-20"),
    ("YO", "Yorkshire and the Humber", "1,7,8,10-19,21-26,30-32,41-43,51,60-62"),
    ("HG", "Yorkshire and the Humber", "1-5"),
    # East Midlands
    ("NG", "East Midlands", "1-25,31-34"),
    ("DE", "East Midlands", "1,3-7,11-15,21-24,45,55,56,65,72-75"),
    ("LE", "East Midlands", "1-19,65,67"),
    ("NN", "East Midlands", "1-18"),
    ("LN", "East Midlands", "1-13"),
    ("S", "East Midlands", "40-45"),
    ("PE", "East Midlands", "9-12,20-25"),
    # West Midlands
    ("B", "West Midlands", "1-80,90-98"),
    ("CV", "West Midlands", "1-13,21-23,31-37,47"),
    ("WV", "West Midlands", "1-16"),
    ("WS", "West Midlands", "1-15"),
    ("DY", "West Midlands", "1-14"),
    ("ST", "West Midlands", "1-21"),
    ("TF", "West Midlands", "1-13"),
    ("WR", "West Midlands", "1-15"),
    ("HR", "West Midlands", "1-9"),
    ("SY", "West Midlands", "1-14"),
    # East of England
    ("CB", "East of England", "1-11,21-25"),
    ("CM", "East of England", "0-9,11-24"),
    ("CO", "East of England", "1-16"),
    ("IP", "East of England", "1-33"),
    ("NR", "East of England", "1-35"),
    ("PE", "East of England", "1-8,13-19,26-38"),
    ("SS", "East of England", "0-17"),
    ("LU", "East of England", "1-7"),
    ("AL", "East of England", "1-10"),
    ("SG", "East of England", "1-19"),
    ("WD", "East of England", "3-7,17-25"),
    ("EN", "East of England", "6-11"),
    ("RM", "East of England", "14-20"),
    ("MK", "East of England", "40-46"),
    # London
    ("E", "London", "1-18,20,1W"),
    ("EC", "London", "1A,1M,1N,1R,1V,1Y,2A,2M,2N,2R,2V,2Y,3A,3M,3N,3R,3V,4A,4M,4N,4R,4V,4Y"),
    ("N", "London", "1-22,1C"),
    ("NW", "London", "1-11"),
    ("SE", "London", "1-28"),
    ("SW", "London", "1A,1E,1H,1P,1V,1W,1X,1Y,2-20"),
    ("W", "London", "1B,1C,1D,1F,1G,1H,1J,1K,1S,1T,1U,1W,2-14"),
    ("WC", "London", "1A,1B,1E,1H,1N,1R,1V,1X,2A,2B,2E,2H,2N,2R"),
    ("BR", "London", "1-8"),
    ("CR", "London", "0,2,4,5,7,8"),
    ("HA", "London", "0-9"),
    ("IG", "London", "1-11"),
    ("RM", "London", "1-13"),
    ("SM", "London", "1-7"),
    ("TW", "London", "1-14"),
    ("UB", "London", "1-11"),
    ("KT", "London", "1-9"),
    ("DA", "London", "5-8,14-18"),
    ("EN", "London", "1-5"),
    # South East
    ("BN", "South East", "1-45"),
    ("CT", "South East", "1-21"),
    ("GU", "South East", "1-35,46,47,51,52"),
    ("ME", "South East", "1-20"),
    ("OX", "South East", "1-20,25-29,33,39,44,49"),
    ("PO", "South East", "1-22,30-41"),
    ("RG", "South East", "1-31,40-45"),
    ("RH", "South East", "1-20"),
    ("SL", "South East", "0-9"),
    ("SO", "South East", "14-24,30-32,40-45,50-53"),
    ("TN", "South East", "1-40"),
    ("MK", "South East", "1-19"),
    ("HP", "South East", "1-23,27"),
    ("KT", "South East", "10-24"),
    ("TW", "South East", "15-20"),
    ("CR", "South East", "3,6"),
    ("DA", "South East", "1-4,9-13"),
    # South West
    ("BA", "South West", "1-22"),
    ("BH", "South West", "1-25,31"),
    ("BS", "South West", "1-16,20-41,48,49"),
    ("DT", "South West", "1-11"),
    ("EX", "South West", "1-39"),
    ("GL", "South West", "1-20,50-56"),
    ("PL", "South West", "1-35"),
    ("SN", "South West", "1-16,25,26"),
    ("SP", "South West", "1-11"),
    ("TA", "South West", "1-24"),
    ("TQ", "South West", "1-14"),
    ("TR", "South West", "1-27"),
    # Wales
    ("CF", "Wales", "3,5,10,11,14,15,23,24,31-48,61-64,71,72,81-83"),
    ("LL", "Wales", "11-78"),
    ("NP", "Wales", "4,7,8,10-26,44"),
    ("SA", "Wales", "1-20,31-48,61-73"),
    ("LD", "Wales", "1-8"),
    ("CH", "Wales", "5-8"),
    ("SY", "Wales", "15-25"),
    # Northern Ireland
    ("BT", "Northern Ireland", "1-49,51-57,60-71,74-82,92-94"),
)

# Sectors per district: real districts have from a couple to nine or ten (mean about four).
MIN_SECTORS_PER_DISTRICT = 2
MAX_SECTORS_PER_DISTRICT = 7

# Letters that appear in the two last characters of a real inward code (never C, I, K, M, O, V).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

SECTOR_SHAPE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]$")


@dataclass(frozen=True)
class Sector:
    sector: str  # canonical: "SW1A 1"
    outward: str  # "SW1A"
    digit: str  # "1"
    area: str  # "SW"
    region: str


def _expand(area: str, spec: str) -> list[str]:
    outwards: list[str] = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-"))
            outwards.extend(f"{area}{n}" for n in range(lo, hi + 1))
        else:
            outwards.append(f"{area}{part}")
    return outwards


def districts() -> list[tuple[str, str, str]]:
    """Every (area, outward code, region) in the map, in map order."""
    return [(area, o, region) for area, region, spec in _AREAS for o in _expand(area, spec)]


def sectors_in(outward: str) -> int:
    """How many sectors the map gives a district (fixed, independent of any seed)."""
    span = MAX_SECTORS_PER_DISTRICT - MIN_SECTORS_PER_DISTRICT + 1
    return MIN_SECTORS_PER_DISTRICT + zlib.crc32(outward.encode()) % span


def first_sector_digit(outward: str) -> int:
    """Most districts number their sectors from 1; some start at 0 or run past 9 back to 0."""
    return (zlib.crc32(outward.encode()) >> 8) % 10 if sectors_in(outward) <= 4 else 1


@cache
def catalogue() -> tuple[Sector, ...]:
    """All sectors of the map: districts in map order, consecutive sector digits within each."""
    out: list[Sector] = []
    for area, outward, region in districts():
        first = first_sector_digit(outward)
        for i in range(sectors_in(outward)):
            d = str((first + i) % 10)
            out.append(Sector(f"{outward} {d}", outward, d, area, region))
    return tuple(out)


def sectors_by_region() -> dict[str, int]:
    counts = dict.fromkeys(REGIONS, 0)
    for s in catalogue():
        counts[s.region] += 1
    return counts
