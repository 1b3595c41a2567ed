"""docs/openapi.json, the committed copy of the API's description, is what GET /openapi.json
serves: a route, parameter or answer changed in code without it fails here."""

from __future__ import annotations

import pytest

from opsmetrics.reports.openapi import document_json
from opsmetrics.reports.routes import ROUTES
from tests.conftest import ROOT

SNAPSHOT = ROOT / "docs" / "openapi.json"
REGENERATE = ".venv/bin/python -m opsmetrics.reports.routes > docs/openapi.json"


def test_the_committed_openapi_document_is_current() -> None:
    if SNAPSHOT.read_text(encoding="utf-8") != document_json(ROUTES) + "\n":
        pytest.fail(f"docs/openapi.json is out of date: run `{REGENERATE}`", pytrace=False)
