"""Rules across columns and rows of a runs table, beside the per-column rules of
:mod:`~bayes_scaling.data.validation`: labels that differ only in type, checkpoints that repeat a
step or lose tokens as training goes on, a table with no input column, and values that are
possible but implausible (warned, never changed).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import RunsWarning
from .validation import Problem, column_problem, column_text, missing_label, rows_text

__all__ = ["label_type_problems", "checkpoint_problems", "no_input_problem", "warn_implausible", "INPUT_COLUMNS",
           "PLAUSIBLE"]

#: Columns a law can take as inputs; a table needs at least one.
INPUT_COLUMNS = ("N", "D", "C", "step", "B", "U")
#: (low, high) outside which a value is warned about: N in parameters, D in tokens.
PLAUSIBLE = {"N": (1e3, 1e15), "D": (1e5, None)}


def label_type_problems(raw: pd.Series, shown: Any, name: str, index: pd.Index) -> list[Problem]:
    """Labels that are different values but the same text (1 and '1'; 1 and 1.0): they would merge."""
    values = raw.to_numpy(dtype=object)
    seen: dict[str, set] = {}
    for v in values:
        if missing_label(v):
            continue
        seen.setdefault(str(v), set()).add((type(v).__name__, repr(v)))
    clash = sorted(text for text, kinds in seen.items() if len(kinds) > 1)
    if not clash:
        return []
    rows = [label for label, v in zip(index, values) if str(v) in clash]
    kinds = "; ".join(" and ".join(sorted(r for _, r in seen[text])) for text in clash[:3])
    return [column_problem(shown, name, rows, f"has labels that read the same but differ in type ({kinds}) at "
                           f"{rows_text(rows)}; they would be merged: make them one value")]


def checkpoint_problems(columns: Mapping[str, np.ndarray], display: Mapping[str, Any],
                        index: pd.Index) -> list[Problem]:
    """Within a run (column ``run``): a step that appears twice, and tokens seen (D) that fall while
    the step rises."""
    if "run" not in columns or "step" not in columns:
        return []
    frame = pd.DataFrame({"run": columns["run"], "step": columns["step"],
                          **({"D": columns["D"]} if "D" in columns else {})}, index=index)
    problems = []
    repeated = frame.duplicated(["run", "step"], keep=False).to_numpy()
    if repeated.any():
        rows = index[repeated].tolist()
        problems.append(column_problem(display["step"], "step", rows, f"repeats a step within a run at "
                                       f"{rows_text(rows)}: one checkpoint per run and step"))
    if "D" in frame:
        falling = []
        for _, part in frame.sort_values(["run", "step"]).groupby("run", sort=False):
            d = part["D"].to_numpy()
            falling += part.index[1:][np.diff(d) < 0].tolist()
        if falling:
            problems.append(column_problem(display["D"], "D", falling, f"falls while the step rises within a run "
                                           f"at {rows_text(falling)}: D is the tokens seen so far, which only grows"))
    return problems


def no_input_problem(read: Mapping[str, Any], available: list) -> list[Problem]:
    """A problem when no input column (N, D, C, step, B, U) was found or mapped."""
    if any(c in read for c in INPUT_COLUMNS) or {"B_crit", "loss"} <= set(read):  # B_crit(L): loss is the input
        return []
    cols = ", ".join(f"'{c}'" for c in available)
    return [Problem("(inputs)", "*", (), f"no input column found (one of {', '.join(INPUT_COLUMNS)}); the table "
                    f"has {cols}: map yours, e.g. N='params', D='tokens' (Chinchilla needs N and D, or C)")]


def warn_implausible(columns: Mapping[str, np.ndarray], display: Mapping[str, Any], index: pd.Index) -> None:
    """RunsWarning for values that are possible but look like wrong units (N in billions, D in millions)."""
    for name, (low, high) in PLAUSIBLE.items():
        if name not in columns:
            continue
        v = columns[name]
        odd = (v < low) | (v > high if high is not None else False)
        if odd.any():
            rows = index[odd].tolist()
            where = f"below {low:g}" + (f" or above {high:g}" if high is not None else "")
            warnings.warn(f"{column_text(display.get(name, name), name)} has values {where} at {rows_text(rows)} "
                          f"(e.g. {v[odd][0]:g}): wrong units? (N counts parameters, D tokens: 7B is 7e9)",
                          RunsWarning, stacklevel=5)
