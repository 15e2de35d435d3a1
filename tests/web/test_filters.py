"""The template's number filters print exactly what Babel prints, in Swedish and English, for
the numbers a report shows: whole counts, shares and changes, including the ties Babel rounds
half to even and values below zero."""

from __future__ import annotations

import random

import pytest
from babel.numbers import format_decimal, format_percent
from flask import Flask
from flask_babel import Babel

from web import filters

rng = random.Random(16)
COUNTS = [0, 1, -1, 7, 999, 1000, -1000, 12345, 1_234_567, -987_654_321, 10**12]
COUNTS += [rng.randint(-10**9, 10**9) for _ in range(300)]
SHARES = [0.0, 1.0, 0.3335, 0.3345, 0.125, 0.0005, 0.0015, 1 / 3, 2 / 3, 12.5, -0.25, 0.99999]
SHARES += [rng.random() for _ in range(300)] + [round(rng.random(), 4) for _ in range(300)]
CHANGES = [0.0, 0.005, -0.004, -0.005, 0.015, 0.025, -0.255, 2.5, 12.345, -1.0, 1 / 3]
CHANGES += [rng.uniform(-1, 20) for _ in range(300)] + [round(rng.uniform(-1, 3), 3)
                                                        for _ in range(300)]


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_fast_numbers_equal_babels(locale: str):
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: locale)
    with app.test_request_context():
        for value in COUNTS:
            assert filters.number(value) == format_decimal(value, locale=locale), value
        for value in SHARES:
            assert filters.share(value) == format_percent(value, "#,##0.0 %", locale=locale), \
                value
        for value in CHANGES:
            assert filters.change(value) == format_decimal(
                value * 100, "+#,##0;-#,##0", locale=locale) + " %", value
        assert filters.share(None) == filters.change(None) == "–"
