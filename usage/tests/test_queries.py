"""The reads behind the usage pages: range windows and bars on UTC boundaries, six-hour bars
summed from hourly rows, the rising-failures rule at its edges."""

from datetime import UTC, datetime

import pytest

from bench.key_list import add_custom_keys
from kernel import usage as counting
from usage import queries

from .rollups import NOW, frozen, hours_ago, record  # noqa: F401 (frozen: a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_each_range_ends_with_the_bar_that_holds_now():
    assert queries.RANGES["24h"].window(NOW) == (
        datetime(2026, 12, 6, 11, tzinfo=UTC),
        datetime(2026, 12, 7, 11, tzinfo=UTC),
    )
    assert queries.RANGES["7d"].window(NOW) == (
        datetime(2026, 11, 30, 12, tzinfo=UTC),
        datetime(2026, 12, 7, 12, tzinfo=UTC),
    )
    assert queries.RANGES["30d"].window(NOW) == (
        datetime(2026, 11, 8, tzinfo=UTC),
        datetime(2026, 12, 8, tzinfo=UTC),
    )
    assert [chosen.bars for chosen in queries.RANGES.values()] == [24, 28, 30]
    assert queries.range_named(None) is queries.range_named("") is queries.RANGES["24h"]
    assert queries.range_named("1y") is None


def test_six_hour_bars_sum_their_hours(acme):
    (key,) = add_custom_keys(acme, 1)
    for back in range(8):  # 10:00 back to 03:00
        record(key, "op", counting.ALLOWED, 1, hours_ago(back))
    bars = queries.series(queries.RANGES["7d"], NOW, queries.of_key(key.pk)).bars
    # The current bar is 06:00-12:00 (10:00 back to 06:00: 5 hours), the one before 00:00-06:00.
    assert (bars[-1].start, bars[-1].total) == (datetime(2026, 12, 7, 6, tzinfo=UTC), 5)
    assert (bars[-2].start, bars[-2].total) == (datetime(2026, 12, 7, 0, tzinfo=UTC), 3)
    assert sum(bar.total for bar in bars) == 8


@pytest.mark.parametrize(
    ("last_day", "week_before", "rising"),
    [
        (10, 0, True),  # the minimum, never failed before
        (9, 0, False),  # under the minimum
        (14, 49, False),  # exactly twice the daily average (7): not more
        (15, 49, True),  # more than twice
    ],
)
def test_rising_failures_at_the_rules_edges(acme, last_day, week_before, rising):
    (key,) = add_custom_keys(acme, 1)
    record(key, "op", counting.INVALID_TOKEN, last_day, hours_ago(3))
    if week_before:
        record(key, "op", counting.WRONG_SECRET, week_before, hours_ago(24 * 5))
    record(key, "op", counting.ALLOWED, 1000, hours_ago(1))  # successes are no failures
    found = queries.rising_failures(NOW, acme.pk)
    assert [row.key_id for row in found] == ([key.pk] if rising else [])
