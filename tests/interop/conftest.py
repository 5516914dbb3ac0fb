"""OpenLineage fixtures: the upstream spec's example events and real dbt event streams.

They live outside the repository (``shared/fixtures/openlineage``). Found through
``$PEDIGREE_OPENLINEAGE_FIXTURES``, else ``/work/shared/fixtures/openlineage``, else
``../shared/fixtures/openlineage`` beside the repository (where CI puts its copy). When
missing, the tests that need them skip on a developer machine and fail under ``CI=true``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def fixture_dir() -> Path:
    configured = os.environ.get("PEDIGREE_OPENLINEAGE_FIXTURES")
    if configured:
        return Path(configured)
    for candidate in (
        Path("/work/shared/fixtures/openlineage"),
        REPO.parent / "shared" / "fixtures" / "openlineage",
    ):
        if candidate.is_dir():
            return candidate
    return Path("/work/shared/fixtures/openlineage")


def fixture_names(kind: str) -> list[str]:
    """File names under ``events/<kind>`` for parametrizing (one placeholder when missing,
    so the test still runs and reports the missing fixtures)."""
    folder = fixture_dir() / "events" / kind
    names = sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []
    return names or ["<fixtures missing>"]


@pytest.fixture(scope="session")
def ol_fixtures() -> Path:
    """The fixture directory; skips (fails under ``CI=true``) when it is not there."""
    path = fixture_dir()
    if not (path / "events").is_dir() or not (path / "streams").is_dir():
        message = (
            f"OpenLineage fixtures not found at {path} "
            "(set PEDIGREE_OPENLINEAGE_FIXTURES to shared/fixtures/openlineage)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: these tests must run)")
        pytest.skip(message)
    return path
