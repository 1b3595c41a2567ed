"""Code named by a "module:attribute" path, imported only when asked for.

The job model (jobs.py) and the report registry (reports/registry.py) name the functions that
implement each job and report this way: a name costs nothing at import, and the model does not
import the products, which import the model (through the ledger) themselves.
"""

from __future__ import annotations

import importlib
from typing import Any


def load_attr(path: str) -> Any:
    """The attribute `path` ("package.module:name") names; an ImportError or AttributeError if
    there is none (a typo in a path is a bug: tests load every path)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not attr:
        raise ValueError(f"not a module:attribute path: {path!r}")
    return getattr(importlib.import_module(module_name), attr)
