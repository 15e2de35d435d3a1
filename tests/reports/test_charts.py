"""The report's two-line chart (media beside our publications) writes whole, distinct counts on
both axes, whatever the sizes, and leaves buckets without figures empty."""

from __future__ import annotations

import re

import pytest

from reports.charts import count_formatter, two_lines


def _axis(svg: str, name: str) -> list[str]:
    found = re.search(rf'class="axis {name}[^"]*".*?</g></g>', svg, re.S)
    assert found, name
    return re.findall(r"<text[^>]*>([^<]*)</text>", found.group(0))


@pytest.mark.parametrize(("media", "ours"), [
    ([5, 20, 3], [0, 0, 0]), ([5, 20, 3], [0, 1, 0]), ([5, 20, 3], [0, 3, 7]),
    ([5, 20, 3], [0, 40, 13]), ([300, 120, 50], [3, 9, 1]), ([0, 0, 0], [0, 2, None])])
def test_both_axes_count_in_whole_distinct_numbers(media, ours):
    chart = two_lines(["1 mars", "2 mars", "3 mars"], media, ours, titles=("Media", "Vi"),
                      title="Vad media skrev och vad vi sa", alt="…",
                      formatter=count_formatter("sv"))
    for axis, values in (("y ", media), ("y2", ours)):
        labels = _axis(chart.svg, axis.strip() if axis == "y2" else "y ")
        numbers = [int(label.replace("\xa0", "")) for label in labels]
        assert len(set(labels)) == len(labels), labels
        assert numbers == sorted(numbers) and numbers[0] == 0
        assert numbers[-1] >= max(v for v in values if v is not None)
