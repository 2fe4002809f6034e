"""Server-rendered bar charts: geometry computed here, markup in templates/components/chart_bar.html.

No scripts and no style attributes (the CSP forbids inline styles): the template uses SVG
presentation attributes and classes. Each chart has a <title> and <desc> and sits beside a table
holding the same numbers, so nothing is conveyed by the picture alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_HEIGHT = 24
GAP = 8
LABEL_WIDTH = 220
PLOT_WIDTH = 320
VALUE_WIDTH = 70


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value (and display text), and position in the SVG."""

    label: str
    value: float
    text: str
    y: int
    width: int


@dataclass(frozen=True)
class BarChart:
    """Everything the template needs to draw a horizontal bar chart and its data table."""

    chart_id: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    value_heading: str
    label_heading: str
    width: int = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * (BAR_HEIGHT + GAP) + GAP


def bar_chart(chart_id: str, title: str, rows: Sequence[tuple[str, float]], *,
              label_heading: str = "Category", value_heading: str = "Decisions",
              percent: bool = False) -> BarChart:
    """Scale bars to the largest value; `percent` shows values as percentages (0..100)."""
    peak = max((value for _, value in rows), default=0) or 1
    bars = tuple(
        Bar(label=label, value=value, text=f"{value:.0f}%" if percent else f"{value:,.0f}",
            y=GAP + i * (BAR_HEIGHT + GAP), width=round(PLOT_WIDTH * value / peak))
        for i, (label, value) in enumerate(rows)
    )
    summary = "; ".join(f"{b.label}: {b.text}" for b in bars) or "No data"
    return BarChart(chart_id=chart_id, title=title, description=summary, bars=bars,
                    value_heading=value_heading, label_heading=label_heading)
