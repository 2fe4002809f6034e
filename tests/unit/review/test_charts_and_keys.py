"""Chart geometry and page tokens."""

from __future__ import annotations

import datetime as dt
import uuid

from decision_aid.review.charts import PLOT_WIDTH, bar_chart
from decision_aid.review.queue import decode_key, encode_key


def test_bars_scale_to_the_largest_value_and_describe_the_data() -> None:
    chart = bar_chart("c", "Outcomes", [("Shared", 30), ("Not shared", 10)])
    assert [b.width for b in chart.bars] == [PLOT_WIDTH, round(PLOT_WIDTH / 3)]
    assert chart.description == "Shared: 30; Not shared: 10"
    assert bar_chart("e", "Empty", []).description == "No data"


def test_percent_values() -> None:
    chart = bar_chart("p", "Rate", [("a", 12.5)], percent=True)
    assert chart.bars[0].text == "12%"  # Python rounds half to even


def test_page_token_round_trip_and_garbage() -> None:
    key = (dt.datetime(2026, 11, 2, 9, 30, 1, 5, tzinfo=dt.UTC), uuid.uuid4())
    assert decode_key(encode_key(key)) == key
    for junk in ("", "x", "!!!!", "a" * 500, encode_key(key)[:-6]):
        assert decode_key(junk) is None
