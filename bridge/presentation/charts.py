"""Small server-side SVG charts for the staff dashboard.

Drawn on the server as plain SVG so the dashboard works offline, behind strict content security
policies and without any JavaScript or CDN; a table with the same numbers sits beside each chart
for screen readers and for anyone who wants the exact figures.
"""
from __future__ import annotations

import datetime as dt
from html import escape
from typing import Mapping, Sequence

# Colour-blind-safe palette (Okabe & Ito), enough for the pilot's courses; it repeats after eight.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def week_start(day: dt.date | dt.datetime) -> dt.date:
    """The Monday of the ISO week `day` falls in: the dashboard's unit of time."""
    if isinstance(day, dt.datetime):
        day = day.date()
    return day - dt.timedelta(days=day.weekday())


def last_weeks(today: dt.date, count: int) -> list[dt.date]:
    """The Mondays of the last `count` weeks, oldest first, ending with this week."""
    this_week = week_start(today)
    return [this_week - dt.timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def _nice_ceiling(value: int) -> int:
    """A round axis maximum (1, 2, 5, 10, 20, 50, ...) at or above `value`."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def stacked_weekly_bars(
    counts: Mapping[str, Mapping[dt.date, int]],
    weeks: Sequence[dt.date],
    *,
    title: str,
    empty_text: str,
    width: int = 720,
    height: int = 260,
) -> str:
    """An SVG of credentials per week, one stacked colour per course, with axis, labels and legend."""
    courses = sorted(counts)
    totals = [sum(counts[c].get(w, 0) for c in courses) for w in weeks]
    top = _nice_ceiling(max(totals, default=0))
    left, right, upper, lower = 40, 10, 16, 46
    plot_w, plot_h = width - left - right, height - upper - lower
    slot = plot_w / max(len(weeks), 1)
    bar_w = max(slot * 0.64, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="chart-title" class="chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for i in range(5):  # horizontal grid with values
        value = top * i / 4
        y = upper + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7eb"/>')
        label = f"{value:g}" if value == int(value) or top < 4 else ""
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6775">'
                     f"{label}</text>")
    for index, week in enumerate(weeks):
        x = left + slot * index + (slot - bar_w) / 2
        base = upper + plot_h
        for n, course in enumerate(courses):
            value = counts[course].get(week, 0)
            if not value:
                continue
            h = plot_h * value / top
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(course)} {week.isoformat()}: {value}'
                f"</title></rect>"
            )
        if totals[index]:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle" font-size="11" '
                         f'fill="#1d2733">{totals[index]}</text>')
        if len(weeks) <= 16 or index % 2 == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{upper + plot_h + 15}" text-anchor="middle" '
                         f'font-size="10" fill="#5b6775">{week.strftime("%m-%d")}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{upper + plot_h}" y2="{upper + plot_h}" '
                 f'stroke="#8a96a3"/>')
    x = left
    for n, course in enumerate(courses):  # legend under the axis
        parts.append(f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{PALETTE[n % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 7}" font-size="11" fill="#1d2733">{escape(course)}</text>')
        x += 24 + 7 * len(course)
    if not courses or not any(totals):
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{upper + plot_h / 2:.1f}" text-anchor="middle" '
                     f'font-size="13" fill="#5b6775">{escape(empty_text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
