"""Bar charts as geometry for an SVG template: no JavaScript, readable with CSS off.

The template draws what this computes; every number in a chart is also in the
table beside it, and the chart's `aria-label` says the same in words.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.i18n import format_money_in as format_money

WIDTH = 640
HEIGHT = 260
TOP = 24  # room for the value printed above the tallest bar
BOTTOM = 36  # room for the labels under the bars
SIDE = 8


@dataclass(frozen=True)
class Bar:
    series: int
    x: float
    y: float
    width: float
    height: float
    text: str  # the amount, formatted

    @property
    def text_y(self) -> float:
        return round(self.y - 6, 1)


@dataclass(frozen=True)
class Group:
    label: str
    center: float
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    label: str  # the aria-label: the whole chart in words
    series: list[str]
    groups: list[Group]
    show_values: bool
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline(self) -> int:
        return self.height - BOTTOM

    @property
    def label_y(self) -> int:
        return self.height - BOTTOM + 16


def bar_chart(
    *,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    currency: str,
    show_values: bool = True,
) -> Chart:
    """Groups of bars (one per series) side by side, scaled to the largest amount."""
    largest = max((v for _, values in series for v in values), default=0) or 1
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - 2 * SIDE) / max(len(labels), 1)
    bar_width = slot * 0.7 / max(len(series), 1)
    groups = []
    for index, label in enumerate(labels):
        left = SIDE + slot * index + slot * 0.15
        bars = []
        for number, (_, values) in enumerate(series):
            amount = values[index]
            height = round(plot * max(amount, 0) / largest, 1)
            bars.append(
                Bar(
                    series=number,
                    x=round(left + bar_width * number, 1),
                    y=round(HEIGHT - BOTTOM - height, 1),
                    width=round(bar_width, 1),
                    height=height,
                    text=format_money(amount, currency),
                )
            )
        groups.append(Group(label, round(SIDE + slot * index + slot / 2, 1), bars))
    words = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{name} {format_money(values[index], currency)}"
            if len(series) > 1
            else format_money(values[index], currency)
            for name, values in series
        )
        for index, label in enumerate(labels)
    )
    return Chart(
        label=f"{title}. {words}.",
        series=[name for name, _ in series],
        groups=groups,
        show_values=show_values,
    )
