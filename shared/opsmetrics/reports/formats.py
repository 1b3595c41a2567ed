"""Which representation a caller gets: ?format= wins, then the Accept header, then JSON."""

from __future__ import annotations

JSON = "application/json"
CSV = "text/csv"
CONTENT_TYPES = {"json": f"{JSON}; charset=utf-8", "csv": f"{CSV}; charset=utf-8"}


def choose_format(explicit: str | None, accept: str | None) -> str:
    """`json` or `csv`. Unknown or unmatched Accept values fall back to JSON rather than 406:
    browsers and tools send broad Accept headers and still want the data."""
    if explicit:
        return explicit
    if not accept:
        return "json"
    csv_q = _quality(accept, CSV)
    json_q = _quality(accept, JSON)
    return "csv" if csv_q > json_q else "json"


def _quality(accept: str, media_type: str) -> float:
    """The q of the most specific range in `accept` that covers `media_type` (0 if none)."""
    kind, _, _sub = media_type.partition("/")
    best_specificity = -1
    best_q = 0.0
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            name, _, value = f.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:  # also false for nan
                    q = 0.0
        if media == media_type:
            specificity = 2
        elif media == f"{kind}/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, best_q = specificity, q
    return best_q
