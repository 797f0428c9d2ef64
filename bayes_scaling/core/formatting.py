r"""How numbers are written, everywhere: messages, tables, the report, the command line, plots.

- :func:`exact`: the shortest text that reads back as the same float (``7e9``, ``1234567``), for
  error messages that quote the user's values;
- :func:`fmt`: a number for prose and tables (3 significant digits, ``1.4e+12``, ``∞``, ``–`` for
  missing), for the report and the notebook view;
- :func:`fmt_number` / :func:`fmt_count`: the command line's columns (4 significant digits; whole
  numbers for counts such as ESS);
- :func:`math_number`: a plot label in mathtext (``$5.8\times10^{23}$``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["exact", "fmt", "fmt_number", "fmt_count", "math_number", "interval_text", "short_label",
           "column_formatter"]


def exact(x: float) -> str:
    """Shortest exact text for ``x``: 7e9 -> '7e9', 1234567 -> '1234567'."""
    for spec in (".6g", ".15g", ".17g"):
        text = format(float(x), spec)
        if float(text) == x:
            break
    mantissa, sep, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if sep else text


def short_label(text: Any, width: int = 40) -> str:
    """A label for a figure: at most ``width`` characters (the middle cut out, marked ``…``); tables
    keep the full text. A 100,000-character group name would otherwise be laid out in full."""
    s = str(text)
    if len(s) <= width:
        return s
    head = (width - 1) // 2 + (width - 1) % 2
    return s[:head] + "…" + s[len(s) - (width - 1 - head):]


def fmt(x: Any, digits: int = 3) -> str:
    """A number for prose and tables: ``digits`` significant digits, exponent for large/small values.

    Integers below a million keep every digit (with thousands separators); NaN and None are ``–``,
    infinities ``∞``/``−∞``; anything else is ``str(x)``.
    """
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}" if abs(int(x)) < 1e6 else f"{float(x):.{digits}g}"
    if isinstance(x, (float, np.floating)):
        if np.isinf(x):
            return "∞" if x > 0 else "−∞"
        return f"{x:.{digits}g}"
    return str(x)


def column_formatter(name: str) -> Callable[[Any], str]:
    """How a result table shows column ``name``: effective sample sizes as whole numbers, R-hat to 3
    decimals, a summary's estimates (mean, median and the interval) to 4 significant digits, anything
    else numeric to 3 (:func:`fmt`)."""
    if name.startswith("ess"):
        return fmt_count
    if name == "r_hat":
        return lambda x: f"{float(x):.3f}"
    if name in ("mean", "median", "lower", "upper"):
        return lambda x: fmt(x, 4)
    return fmt


def interval_text(median: float, lower: float, upper: float, digits: int = 3) -> str:
    """``"median (lower–upper)"``: one interval in one cell."""
    return f"{fmt(median, digits)} ({fmt(lower, digits)}–{fmt(upper, digits)})"


def fmt_number(x: Any) -> str:
    """4 significant digits; e-notation for large and tiny numbers (``7e+10``); ``nan`` when missing."""
    if x is None:
        return "nan"
    try:
        value = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(value):
        return "nan"
    return f"{value:.4g}"


def fmt_count(x: Any) -> str:
    """A whole number (e.g. an effective sample size); ``nan`` when missing."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "nan" if math.isnan(value) else f"{value:.0f}"


def math_number(x: float, unit: str = "") -> str:
    r"""``1e+21`` -> ``$10^{21}$``; ``5.76e23`` -> ``$5.8\times10^{23}$`` (mathtext), with a unit."""
    x = float(x)
    exp = int(np.floor(np.log10(abs(x)))) if x else 0
    mant = x / 10.0**exp
    if abs(exp) <= 2:
        text = f"{x:g}"
    elif np.isclose(mant, 1.0, atol=0.005):
        text = f"$10^{{{exp}}}$"
    else:
        text = f"${mant:.2g}\\times10^{{{exp}}}$"
    return f"{text} {unit}".strip()
