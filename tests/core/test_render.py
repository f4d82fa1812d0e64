"""Wire timestamps: ISO 8601 UTC with milliseconds and Z, whatever the offset and fraction."""

from __future__ import annotations

import datetime as dt

import pytest

from bountybox.core.jsonapi.render import ts

UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (dt.datetime(2017, 2, 2, 6, 27, 53, 522999, tzinfo=UTC), "2017-02-02T06:27:53.522Z"),
        (dt.datetime(2017, 2, 2, 6, 27, 53, tzinfo=UTC), "2017-02-02T06:27:53.000Z"),
        (dt.datetime(2017, 2, 2, 6, 27, 53, 999, tzinfo=UTC), "2017-02-02T06:27:53.000Z"),
        (dt.datetime(2017, 2, 2, 6, 27, 53, 1000, tzinfo=UTC), "2017-02-02T06:27:53.001Z"),
        (dt.datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000Z"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999Z"),
        (
            dt.datetime(2020, 5, 5, 1, 2, 3, 456000, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            "2020-05-05T06:02:03.456Z",
        ),
        (None, None),
    ],
)
def test_timestamps_are_utc_milliseconds_with_z(value: dt.datetime | None, wire: str) -> None:
    assert ts(value) == wire
