"""Date-times from clients are compared and stored as the same instant in UTC."""

import datetime

import pytest

from platform_core.fieldtypes.parsers import Invalid, date_time


def test_a_date_time_with_any_iso_offset_becomes_the_same_instant_in_utc():
    parsed = date_time("2020-01-01T00:00:00+20:00", True)
    assert parsed == datetime.datetime(2019, 12, 31, 4, 0, tzinfo=datetime.UTC)
    assert parsed.utcoffset() == datetime.timedelta(0)


def test_a_naive_date_time_is_utc():
    assert date_time("2020-01-01T10:00:00", True).tzinfo == datetime.UTC


def test_a_date_time_outside_the_years_of_utc_is_refused():
    with pytest.raises(Invalid, match="a date-time"):
        date_time("0001-01-01T00:00:00.0+01:01", True)
