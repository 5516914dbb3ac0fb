"""Timestamps have one textual form in records, whatever zone they were given in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from pedigree.model.types import TIME_FORMAT, format_time, parse_time

zones = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.datetimes(min_value=datetime(1001, 1, 2), timezones=st.just(UTC) | zones))
def test_format_time_is_utc_with_microseconds_and_z(value: datetime) -> None:
    text = format_time(value)
    assert text == value.astimezone(UTC).strftime(TIME_FORMAT)
    assert parse_time(text) == value


@given(st.datetimes(max_value=datetime(999, 12, 31), timezones=st.just(UTC)))
def test_years_before_1000_keep_their_old_form(value: datetime) -> None:
    assert format_time(value) == value.strftime(TIME_FORMAT)
