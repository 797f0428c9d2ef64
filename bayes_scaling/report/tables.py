"""Tables for the report: DataFrames as header + rows of formatted strings (escaping is the template's)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..core.formatting import fmt, interval_text

__all__ = ["table", "interval_table", "interval_cell", "distance_words", "MAX_HEADLINES"]

MAX_HEADLINES = 4  # budgets answered in the report's top box (every budget is in the tables)


def distance_words(c: float, c_obs) -> str:
    """How far a budget is from the runs, in words: "10x your largest run", "within the compute of your runs"."""
    lo, hi = float(np.min(c_obs)), float(np.max(c_obs))
    if c > hi:
        return f"{c / hi:.3g}x your largest run"
    if c < lo:
        return f"{lo / c:.3g}x below your smallest run"
    return "within the compute of your runs"


def interval_cell(row, name: str) -> str:
    """``"median (lower–upper)"`` of ``name`` in a row with ``name_median/_lower/_upper``."""
    return interval_text(row[name + "_median"], row[name + "_lower"], row[name + "_upper"])


def table(frame: pd.DataFrame, index: bool = False) -> dict[str, Any]:
    """A DataFrame as ``{"header": [...], "rows": [[...], ...]}`` of formatted strings."""
    frame = frame.reset_index() if index else frame
    return {"header": [str(c) for c in frame.columns],
            "rows": [[fmt(v) for v in row] for row in frame.itertuples(index=False, name=None)]}


def interval_table(frame: pd.DataFrame, first: list[str], names: list[str], last: list[str],
                   rename: dict[str, str] | None = None) -> pd.DataFrame:
    """A compact table: ``first`` columns, each of ``names`` as "median (lower–upper)", then ``last``."""
    out = frame[first].copy()
    for name in names:
        out[(rename or {}).get(name, name)] = [interval_cell(r, name) for _, r in frame.iterrows()]
    return pd.concat([out, frame[last]], axis=1)
