"""Small shared field types: names, timestamps, digests.

They exist so that every record serialises the same way: a timestamp is always UTC with
microseconds and a trailing ``Z``, a name never holds control characters.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, StringConstraints

DEFAULT_NAMESPACE = "default"
"""Namespace used when a dataset, model or job is named without one (as in OpenLineage)."""

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as local time (as Python does), then converted to UTC."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """The one textual form of a timestamp in records: ``2026-11-23T11:50:00.000000Z``."""
    return _format_utc(value if value.tzinfo is UTC else to_utc(value))


@functools.lru_cache(maxsize=1024)
def _format_utc(utc: datetime) -> str:
    """(Cached: an append writes each timestamp twice, in the record's canonical form and
    in its projection row. ``isoformat`` writes the same as ``strftime(TIME_FORMAT)`` for
    four-digit years, in a third of the time; it ends a UTC time with ``+00:00``.)"""
    if utc.year < 1000:
        return utc.strftime(TIME_FORMAT)
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` or offset; naive means local time)."""
    return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


Timestamp = Annotated[
    datetime,
    AfterValidator(to_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
]

Name = Annotated[
    str, StringConstraints(min_length=1, max_length=1024, pattern=r"^[^\x00-\x1f\x7f]+$")
]
"""A namespace, dataset, job or version name: non-empty, printable, at most 1024 chars."""

Token = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
"""A lower-case identifier such as a run kind or annotation kind."""

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
