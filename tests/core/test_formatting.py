"""How numbers are written: one module for messages, tables, the report, the CLI and plots."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_scaling.core.formatting import exact, fmt, fmt_count, fmt_number, interval_text, math_number


@pytest.mark.parametrize("x, text", [(7e9, "7e9"), (1234567.0, "1234567"), (0.1, "0.1"), (1e-5, "1e-5"),
                                      (1.2345678901234567, "1.2345678901234567")])
def test_exact_reads_back_the_same_float(x, text):
    assert exact(x) == text and float(exact(x)) == x


def test_fmt_for_prose_and_tables():
    assert fmt(1.4e12) == "1.4e+12" and fmt(0.123456) == "0.123"
    assert fmt(12345) == "12,345" and fmt(np.int64(5_000_000)) == "5e+06"
    assert fmt(float("nan")) == "–" and fmt(None) == "–" and fmt(np.inf) == "∞" and fmt(-np.inf) == "−∞"
    assert fmt(True) == "True" and fmt("label") == "label"
    assert interval_text(2.0, 1.5, 2.5) == "2 (1.5–2.5)"


def test_command_line_columns():
    assert fmt_number(7e10) == "7e+10" and fmt_number(1.23456) == "1.235" and fmt_number(None) == "nan"
    assert fmt_count(3881.4483) == "3881" and fmt_count(float("nan")) == "nan" and fmt_count("x") == "x"


def test_math_number_for_plot_labels():
    assert math_number(1e21) == "$10^{21}$"
    assert math_number(5.76e23, "FLOPs") == r"$5.8\times10^{23}$ FLOPs"
    assert math_number(20) == "20"
