"""Credible intervals over posterior draws, and how far a point lies beyond the data: one home.

Every table of the package reports a quantity ``x`` as ``x_median``, ``x_lower`` and ``x_upper``
(equal-tailed interval of probability ``prob``, :data:`DEFAULT_PROB` unless asked), the way
Prophet reports ``yhat_lower``/``yhat_upper``; every plot band is the same interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["DEFAULT_PROB", "check_prob", "interval_columns", "compact_intervals", "IntervalTable", "as_table",
           "quantile_bands", "decades_beyond", "decades_beyond_ranges"]

#: Probability mass of every interval unless the caller asks for another.
DEFAULT_PROB = 0.9


def check_prob(prob: float, name: str = "prob") -> float:
    """``prob`` as a float; ValueError unless it is in (0, 1)."""
    if isinstance(prob, bool) or not 0 < prob < 1:
        raise InputError(f"{name} must be in (0, 1), got {prob!r}")
    return float(prob)


def interval_columns(name: str, draws: np.ndarray, prob: float = DEFAULT_PROB) -> dict[str, np.ndarray]:
    """``{name}_median/_lower/_upper`` over axis 0 (draws) of ``draws``; NaN draws are left out.

    Infinite draws (e.g. a target that a draw never reaches) stay infinite in the quantiles
    rather than turning them into NaN.
    """
    check_prob(prob)
    q = [0.5, (1 - prob) / 2, (1 + prob) / 2]
    big = np.finfo(float).max
    finite = np.clip(draws, -big, big)  # +-inf must stay inf, not NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        top = np.nanmax(np.where(np.isinf(draws), np.nan, draws), axis=0)
        bottom = np.nanmin(np.where(np.isinf(draws), np.nan, draws), axis=0)
        quantile = np.nanquantile if np.isnan(finite).any() else np.quantile  # same result, faster
        med, lo, hi = (np.where(x > top, np.inf, np.where(x < bottom, -np.inf, x))
                       for x in quantile(finite, q, axis=0))
    return {f"{name}_median": med, f"{name}_lower": lo, f"{name}_upper": hi}


def compact_intervals(frame, digits: int = 3):
    """A display copy of ``frame`` with each ``x_median/x_lower/x_upper`` triple (and a summary's bare
    ``median/lower/upper``) as one text column ``x``: ``"median (lower–upper)"``, where they stood. The
    data stay as they are; this is for reading (the CLI's tables, at most 100 characters wide)."""
    from .formatting import interval_text

    columns = [str(c) for c in frame.columns]
    stems = _stems(columns)
    bounds = {c for stem in stems for c in _triple(stem)[1:]}
    out = {}
    for c in columns:
        stem = c[: -len("_median")] if c.endswith("_median") else c
        if stem in stems and c == _triple(stem)[0]:
            out[stem] = [interval_text(*v, digits) for v in zip(*(frame[p] for p in _triple(stem)))]
        elif c not in bounds:
            out[c] = frame[c].to_numpy()
    return pd.DataFrame(out, index=frame.index)


class IntervalTable(pd.DataFrame):
    """A result table (``Fit.predict``, ``allocate``, ``summary``, ...): plain pandas data, every column
    there (``x_median``, ``x_lower``, ``x_upper``), shown with each interval in one "median (lower–upper)"
    cell in a notebook and by ``print()``, so that no interval hides behind pandas' "...". Anything
    derived from it (a selection, arithmetic, ``copy()``) is a plain DataFrame."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def _shown(self) -> pd.DataFrame:
        return compact_intervals(self)

    def __repr__(self) -> str:
        shown, numbers = self._shown_and_formats()
        return shown.to_string(formatters=numbers, max_rows=60, line_width=100) + self._note()

    def _repr_html_(self) -> str:
        shown, numbers = self._shown_and_formats()
        return shown.to_html(formatters=numbers, max_rows=60) + f"<p><small>{self._note().strip()}</small></p>"

    def _shown_and_formats(self) -> tuple[pd.DataFrame, dict]:
        from .formatting import column_formatter

        shown = self._shown()
        return shown, {c: column_formatter(str(c)) for c in shown.columns if pd.api.types.is_float_dtype(shown[c])}

    def _note(self) -> str:
        stems = _stems([str(c) for c in self.columns])
        if not stems:
            return ""
        prob = self.attrs.get("prob")
        mass = f"{prob:.0%} " if isinstance(prob, float) else ""
        return (f"\n[{mass}intervals shown as median (lower–upper); the data have the columns "
                f"{', '.join(_triple(stems[0]))}{' and the like' if len(stems) > 1 else ''}]")


def as_table(frame: pd.DataFrame) -> IntervalTable:
    """``frame`` (its data and ``attrs``) as an :class:`IntervalTable`."""
    out = IntervalTable(frame)
    out.attrs = dict(frame.attrs)
    return out


def _triple(stem: str) -> tuple[str, str, str]:
    return ("median", "lower", "upper") if stem == "median" else (f"{stem}_median", f"{stem}_lower", f"{stem}_upper")


def _stems(columns: list[str]) -> list[str]:
    """The quantities with a full median/lower/upper triple among ``columns`` ("median" for bare ones)."""
    candidates = [c[: -len("_median")] for c in columns if c.endswith("_median")] + ["median"]
    return [s for s in candidates if set(_triple(s)) <= set(columns)]


def quantile_bands(draws, probs: Sequence[float]) -> tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]:
    """Median and one equal-tailed interval per probability, over all draws at once.

    ``draws`` is shaped ``(chain, draw, point)`` or ``(draws, point)`` (a DataArray or an array);
    NaN draws (e.g. no interior optimum) are left out. Returns ``(median, {prob: (lower, upper)})``.
    """
    values = np.asarray(getattr(draws, "values", draws), dtype=float)
    values = values.reshape(-1, values.shape[-1])
    cols = [interval_columns("x", values, p) for p in probs]
    median = cols[0]["x_median"] if cols else interval_columns("x", values)["x_median"]
    return median, {p: (c["x_lower"], c["x_upper"]) for p, c in zip(probs, cols)}


def decades_beyond(x, lo: float, hi: float) -> np.ndarray:
    """log10 distance of each value outside ``[lo, hi]`` (0 inside)."""
    x = np.asarray(x, dtype=float)
    return np.maximum(np.log10(x / hi), np.log10(lo / x)).clip(min=0)


def decades_beyond_ranges(table: Mapping, observed_ranges: Mapping[str, tuple[float, float]]) -> np.ndarray:
    """The largest :func:`decades_beyond` over the table's columns that have an observed range."""
    n = len(next(iter(table.values()))) if isinstance(table, dict) else len(table)
    beyond = np.zeros(n)
    for col, (lo, hi) in observed_ranges.items():
        if col in table:
            beyond = np.maximum(beyond, decades_beyond(np.asarray(table[col], dtype=float), lo, hi))
    return beyond
