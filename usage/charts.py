"""Stacked bar charts of calls by outcome, drawn on the server as SVG (templates/usage/_chart.html):
no script, no charting library, nothing to build. The geometry is computed here; colours come
from the stylesheet's custom properties (so the dark scheme holds), and each outcome also has
its own fill pattern, so that no outcome is told from another by colour alone. Every chart has
a table of the same numbers beside it."""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.utils import dateformat, timezone

from .queries import Series, outcome_label

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 26
STYLES = 6  # colours and patterns (static/css/portal.css .chart .c0-.c5; _chart.html's patterns)
LABELS = 4  # time labels under the bars


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    style: int
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class LegendItem:
    style: int
    label: str
    calls: int


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    series: Series
    segments: list[Segment]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    legend: list[LegendItem]
    rows: list[tuple[str, int, list[int]]]  # the table: (bar's start, total, calls per outcome in legend order)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM
    styles: range = range(STYLES)


def _ceiling(value: int) -> int:
    """A round number at least `value`: 1, 2 or 5 times a power of ten."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _when(moment, step: timedelta, *, full: bool = False) -> str:
    """A bar's start in the viewer's time zone: short under the axis, in full in the table."""
    local = timezone.localtime(moment)
    if full:
        return dateformat.format(local, "j M Y, H:i T" if step < timedelta(days=1) else "j M Y")
    if step < timedelta(hours=6):
        return dateformat.format(local, "H:i")
    if step < timedelta(days=1):
        return dateformat.format(local, "j M H:i")
    return dateformat.format(local, "j M")


def bar_chart(series: Series, chart_id: str, title: str) -> Chart:
    outcomes = series.outcomes
    style = {outcome: index % STYLES for index, outcome in enumerate(outcomes)}
    top = _ceiling(max((bar.total for bar in series.bars), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(series.bars)
    step = series.range.step
    segments = []
    for index, bar in enumerate(series.bars):
        y = HEIGHT - BOTTOM
        for outcome in outcomes:
            calls = bar.calls.get(outcome, 0)
            if not calls:
                continue
            height = calls * plot_height / top
            y -= height
            said = f"{_when(bar.start, step, full=True)}: {calls} {outcome_label(outcome)}"
            segments.append(Segment(LEFT + index * slot + slot * 0.1, y, slot * 0.8, height, style[outcome], said))
    every = max(1, len(series.bars) // LABELS)
    x_ticks = [
        Tick(LEFT + index * slot + slot / 2, _when(bar.start, step))
        for index, bar in enumerate(series.bars)
        if index % every == 0
    ]
    shares = (0, 0.5, 1) if top > 1 else (0, 1)
    y_ticks = [Tick(HEIGHT - BOTTOM - plot_height * share, f"{round(top * share)}") for share in shares]
    by_outcome = series.by_outcome
    legend = [LegendItem(style[outcome], outcome_label(outcome), by_outcome[outcome]) for outcome in outcomes]
    rows = [
        (_when(bar.start, step, full=True), bar.total, [bar.calls.get(outcome, 0) for outcome in outcomes])
        for bar in series.bars
    ]
    return Chart(chart_id, title, series, segments, y_ticks, x_ticks, legend, rows)
