"""The report's charts as SVG, drawn by pygal, shown as images with alt text.

Made to read in print and without colour: every chart is one series, values are printed on the
bars, our own party's bar is labelled "(we)" and drawn with a heavy outline, and each chart
comes with an alt text that says what it shows; the tables beside the charts hold every number.
No script (pygal's tooltips are off), so a chart is a plain image: in the page, in the PDF and
under a strict Content-Security-Policy.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pygal
from babel.numbers import format_decimal, format_percent
from pygal.style import Style

INK = "#1d1d1b"
RED = "#c8102e"  # the party's red, for the bars; meaning never rests on it

STYLE = Style(
    background="white", plot_background="white", foreground=INK, foreground_strong=INK,
    foreground_subtle="#6b6b6b", colors=(RED,), font_family="DejaVu Sans, Arial, sans-serif",
    label_font_size=13, major_label_font_size=13, value_font_size=13, value_label_font_size=13,
    title_font_size=15, tooltip_font_size=12, opacity="0.85", opacity_hover="0.85")


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the words that stand for it (alt text)."""

    svg: str
    alt: str

    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


def _config(**extra: object) -> dict[str, object]:
    return {"style": STYLE, "js": [], "disable_xml_declaration": True, "show_legend": False,
            "explicit_size": True, "print_values": True, "margin": 12, **extra}


def bars(labels: Sequence[str], values: Sequence[float], *, title: str, alt: str,
         formatter: Callable[[float], str], highlight: int | None = None,
         width: int = 760) -> Chart:
    """Horizontal bars, largest first as given, each value printed on its bar; the bar at
    `highlight` (our party) outlined in black."""
    chart = pygal.HorizontalBar(**_config(width=width, height=60 + 34 * max(len(labels), 1),
                                          title=title, value_formatter=formatter))
    # pygal draws the first label at the bottom: reversed, the list reads top down.
    chart.x_labels = list(reversed(labels))
    def bar(i: int, value: float) -> dict[str, object]:
        found: dict[str, object] = {"value": value}
        if i == highlight:
            found["style"] = "stroke: #000; stroke-width: 4"
        if not value:  # nothing to print on a bar that is not there
            found["formatter"] = lambda _value: ""
        return found

    chart.add(title, [bar(i, value) for i, value in reversed(list(enumerate(values)))])
    return Chart(chart.render(is_unicode=True), alt)


def line(labels: Sequence[str], values: Sequence[int | None], *, title: str, alt: str,
         formatter: Callable[[float], str], width: int = 760) -> Chart:
    """One line over time with its points marked (few enough labels to read)."""
    step = _label_step(len(labels))
    chart = pygal.Line(**_config(width=width, height=300, title=title, value_formatter=formatter,
                                 print_values=len(values) <= 16, x_label_rotation=0,
                                 truncate_label=-1,
                                 show_minor_x_labels=False, dots_size=3, fill=False))
    chart.x_labels = list(labels)
    chart.x_labels_major = list(labels)[::step]
    chart.y_labels = whole_ticks(max((v for v in values if v is not None), default=0))
    chart.add(title, list(values), stroke_style={"width": 3})
    return Chart(chart.render(is_unicode=True), alt)


def two_lines(labels: Sequence[str], first: Sequence[float | None],
              second: Sequence[float | None], *,
              titles: tuple[str, str], title: str, alt: str,
              formatter: Callable[[float], str], width: int = 760,
              one_axis: bool = False) -> Chart:
    """Two series over the same time, told apart without colour: the first a solid line with
    dots, the second dashed, named in the legend below. Counts of different sizes: the second
    on its own axis, on the right; shares (`one_axis`): both on one axis."""
    step = _label_step(len(labels))
    chart = pygal.Line(**_config(width=width, height=320, title=title, value_formatter=formatter,
                                 print_values=False, x_label_rotation=0, truncate_label=-1,
                                 show_minor_x_labels=False, dots_size=3, fill=False,
                                 show_legend=True, legend_at_bottom=True,
                                 legend_at_bottom_columns=2,
                                 style=Style(**{**STYLE.to_dict(), "colors": (RED, INK)})))
    chart.x_labels = list(labels)
    chart.x_labels_major = list(labels)[::step]
    if not one_axis:
        chart.y_labels = whole_ticks(max((v for v in first if v is not None), default=0))
    chart.add(titles[0], list(first), stroke_style={"width": 3})
    if not one_axis:
        # pygal writes the right axis at the left axis's ticks: a top that is a whole multiple
        # of their intervals gives whole counts there too.
        top = max((v for v in second if v is not None), default=0)
        intervals = len(chart.y_labels) - 1
        chart.secondary_range = (0, max(1, -(-int(top) // intervals)) * intervals)
    chart.add(titles[1], list(second), secondary=not one_axis, show_dots=False,
              stroke_style={"width": 3, "dasharray": "8, 5"})
    return Chart(chart.render(is_unicode=True), alt)


def _label_step(count: int, most: int = 8) -> int:
    """Every how many buckets a label is written, so at most `most` labels share the axis
    ("13 dec." side by side crowd a 760 px chart beyond ten)."""
    return max(1, -(-count // most))


def whole_ticks(top: int, most: int = 6) -> list[int]:
    """Axis ticks on whole numbers (counts have no fractions): 0 up past `top`, a round step."""
    step = 1
    while top / step > most:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if top / step <= most:
                break
    return list(range(0, top + step, step)) if top else [0, 1]


def count_formatter(locale: str) -> Callable[[float], str]:
    return lambda value: format_decimal(round(value or 0), locale=locale)


def share_formatter(locale: str) -> Callable[[float], str]:
    return lambda value: format_percent(value or 0, locale=locale, format="#,##0.0 %")
