"""Word lists for synthetic names, and organization names that never repeat within a load."""

from __future__ import annotations

FIRST_NAMES = (
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Grace", "Sophie", "Freya", "Ella", "Aisha",
    "Priya", "Niamh", "Catriona", "Siân", "Zara", "Hannah", "Chloe", "Fatima", "Erin", "Lucy",
    "Oliver", "George", "Harry", "Jack", "Noah", "Mohammed", "Arjun", "Callum", "Rhys", "Dylan",
    "Ewan", "Liam", "Samuel", "Thomas", "James", "Kwame", "Tomasz", "Daniel", "Owen", "Ciaran",
)  # fmt: skip

LAST_NAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes",
    "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Khan", "Campbell", "MacDonald",
    "Murphy", "O'Neill", "Kelly", "Singh", "Begum", "Okafor", "Nowak", "Morgan", "Price",
    "Stewart", "Fraser", "Quinn", "Ahmed",
)  # fmt: skip

_ORG_FIRST = (
    "Northern", "Southern", "Coastal", "Summit", "Riverside", "Pennine", "Harbour", "Meridian",
    "Thistle", "Severn", "Cedar", "Beacon", "Granite", "Orchard", "Lakeland", "Highland",
    "Valley", "Crown", "Lighthouse", "Oakwood", "Silverline", "Redbrick", "Bluebell", "Fenland",
    "Cotswold", "Moorland", "Quayside", "Kingsway", "Westgate", "Eastfield",
)  # fmt: skip

_ORG_SECOND = (
    "Care Homes", "Logistics", "Events", "Security", "Hospitality", "Leisure", "Facilities",
    "Construction", "Retail", "Home Care", "Clinics", "Festivals", "Stadiums", "Transport",
    "Catering", "Nursing", "Recruitment", "Venues", "Health", "Services",
)  # fmt: skip

_ORG_SUFFIX = ("Ltd", "Group", "UK", "Partners", "plc", "& Co", "Trust", "Holdings", "Collective")

# A stride coprime to the number of combinations visits every combination once.
_STRIDE = 7919


def org_names(count: int, seed: int) -> list[str]:
    """`count` distinct organization names; the seed picks where in the list they start."""
    total = len(_ORG_FIRST) * len(_ORG_SECOND) * len(_ORG_SUFFIX)
    if count > total:
        raise ValueError(f"at most {total} distinct organization names, asked for {count}")
    names = []
    for i in range((seed * 104_729) % total, (seed * 104_729) % total + count):
        k = (i * _STRIDE) % total
        first, rest = divmod(k, len(_ORG_SECOND) * len(_ORG_SUFFIX))
        second, suffix = divmod(rest, len(_ORG_SUFFIX))
        names.append(f"{_ORG_FIRST[first]} {_ORG_SECOND[second]} {_ORG_SUFFIX[suffix]}")
    return names
