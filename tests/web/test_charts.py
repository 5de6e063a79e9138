"""The dashboard chart: bar heights proportional to the counts, weeks from Monday, a word when empty."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from bridge.presentation.charts import last_weeks, stacked_weekly_bars, week_start


def test_weeks_start_on_monday_and_end_with_this_week():
    weeks = last_weeks(dt.date(2026, 11, 28), 3)  # a Saturday
    assert weeks == [dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 23)]
    assert week_start(dt.datetime(2026, 11, 23, 0, 0)) == dt.date(2026, 11, 23)


def test_bars_are_proportional_and_labelled():
    weeks = last_weeks(dt.date(2026, 11, 28), 2)
    svg = stacked_weekly_bars({"A": {weeks[0]: 2, weeks[1]: 4}, "B": {weeks[1]: 6}}, weeks,
                              title="Issued <per> week", empty_text="none")
    heights = {title: float(h) for h, title in re.findall(r'height="([\d.]+)"[^>]*><title>([^<]+)</title>', svg)}
    assert heights["A 2026-11-23: 4"] == pytest.approx(2 * heights["A 2026-11-16: 2"], abs=0.11)
    assert heights["B 2026-11-23: 6"] == pytest.approx(3 * heights["A 2026-11-16: 2"], abs=0.11)
    assert ">10</text>" in svg  # the total of the busiest week, above its bar
    assert "Issued &lt;per&gt; week" in svg and "none" not in svg


def test_empty_chart_says_so():
    weeks = last_weeks(dt.date(2026, 11, 28), 4)
    svg = stacked_weekly_bars({}, weeks, title="t", empty_text="Nothing issued")
    assert "Nothing issued" in svg and "<rect x=" in svg
