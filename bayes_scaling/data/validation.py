"""Validation rules and messages for tables of training runs.

Every rule reports what it finds as :class:`Problem` objects rather than
raising at the first one, so that :func:`bayes_scaling.data.runs.load_runs` can list
*all* problems at once in a :class:`~bayes_scaling.core.errors.RunsValidationError`.  Messages name
the user's column (and the canonical one when they differ) and the first few rows
by their index labels.
"""

from __future__ import annotations

import decimal
import difflib
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from ..core.errors import InputError, RunsWarning
from ..core.formatting import exact
from .units import parse_size_suffix

__all__ = ["CANONICAL_COLUMNS", "NUMERIC_COLUMNS", "LABEL_COLUMNS", "RESPONSE_COLUMNS", "Problem",
           "coerce_numeric", "bad_values_problem", "value_problems", "consistency_problems", "duplicate_problems",
           "label_values", "drop_missing", "warn_high_loss", "check_flops_per_token", "check_keywords",
           "missing_response", "resolve_columns", "column_problem", "column_text", "rows_text", "closest",
           "derived_problems", "is_number", "missing_label"]

CANONICAL_COLUMNS = ("N", "D", "C", "loss", "group", "run", "step", "B", "U", "B_crit")
NUMERIC_COLUMNS = ("N", "D", "C", "loss", "step", "B", "U", "B_crit")
LABEL_COLUMNS = ("group", "run")
RESPONSE_COLUMNS = ("loss", "B_crit")
_SHOWN = 5  # rows / values a message lists before "and k more"


@dataclass(frozen=True)
class Problem:
    """One problem in a runs table.

    Attributes
    ----------
    column : str
        The user's column name (the canonical name if derived or missing).
    canonical : str
        The canonical column name (``"*"`` for whole-row problems).
    rows : tuple
        Index labels of all rows involved; may be empty.
    message : str
        One line naming the column and the first few rows.
    """

    column: str
    canonical: str
    rows: tuple
    message: str

    def __str__(self) -> str:
        return self.message


# ----------------------------------------------------------------------------- formatting
def rows_text(labels: Sequence) -> str:
    """'row 3', 'rows 3 and 7', 'rows 1, 2, 3, 4, 5 and 4 more'."""
    shown = [str(label) for label in list(labels)[:_SHOWN]]
    extra = len(labels) - len(shown)
    if len(shown) <= 1 and not extra:
        return f"row {shown[0]}" if shown else "no rows"
    return f"rows {', '.join(shown)} and {extra} more" if extra else \
        f"rows {', '.join(shown[:-1])} and {shown[-1]}"


def column_text(shown: Any, canonical: str) -> str:
    """"column 'Model Size' (N)", or "column 'loss'" when the names agree."""
    return f"column '{shown}'" + ("" if str(shown) == canonical else f" ({canonical})")


def column_problem(shown: Any, canonical: str, rows: Sequence, text: str) -> Problem:
    """Problem whose message is "<column text> <text>"."""
    return Problem(str(shown), canonical, tuple(rows), f"{column_text(shown, canonical)} {text}")


def _value_list(labels: Sequence, values: Sequence) -> str:
    """'0 at row 2, -5 at row 6 and 3 more' for the first few (label, value) pairs."""
    items = [f"{v if isinstance(v, str) else exact(v)} at row {label}"
             for label, v in list(zip(labels, values))[:_SHOWN]]
    extra = len(labels) - len(items)
    return ", ".join(items) + (f" and {extra} more" if extra else "")


def closest(name: Any, choices: Sequence[Any]) -> str | None:
    """The closest match of ``name`` among ``choices`` (difflib), or None."""
    found = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return found[0] if found else None


# ----------------------------------------------------------------------------- input
def check_flops_per_token(value: float) -> float:
    """``value`` as a float; InputError unless a finite number > 0 (not a bool, not text)."""
    k = float(value) if is_number(value) else math.nan
    if not (math.isfinite(k) and k > 0):
        raise InputError(f"flops_per_token must be finite and > 0, got {value!r}")
    return k


def check_keywords(columns: Mapping[str, Any]) -> None:
    """ValueError for keywords of load_runs that are not canonical column names."""
    unknown = [key for key in columns if key not in CANONICAL_COLUMNS]
    if unknown:
        hints = [f"'{key}'" + (f" (did you mean '{m}'?)" if (m := closest(key, CANONICAL_COLUMNS)) else "")
                 for key in unknown]
        raise InputError(f"unknown column keyword {', '.join(hints)}; the canonical columns are: "
                         f"{', '.join(CANONICAL_COLUMNS)}")


def missing_response(present: Sequence[str]) -> list[Problem]:
    """A problem when neither response column (loss, B_crit) is available."""
    if any(name in present for name in RESPONSE_COLUMNS):
        return []
    return [Problem("loss", "loss", (), "missing required column 'loss' (map yours with "
                    "loss='your column'; for critical batch sizes use B_crit='your column')")]


# ----------------------------------------------------------------------------- checks
def coerce_numeric(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 values of a column, plus masks of missing and of non-numeric source values.

    Missing: NaN, None, pd.NA, blank or 'nan' text.  Non-numeric: text that
    ``pd.to_numeric`` cannot parse (e.g. '7B'), booleans and other objects.
    Numeric text such as ' 3.5 ' or '1e9' is converted.  Both give NaN values.
    """
    if is_numeric_dtype(raw.dtype) and not is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values), np.zeros(len(values), dtype=bool)
    objects = raw.to_numpy(dtype=object)
    values = np.full(len(objects), np.nan)
    missing, bad = np.zeros(len(objects), dtype=bool), np.zeros(len(objects), dtype=bool)
    positions, texts = [], []
    for i, value in enumerate(objects):
        if isinstance(value, str):
            if value.strip().lower() in ("", "nan"):
                missing[i] = True
            else:
                positions.append(i)
                texts.append(value.strip())
        elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
            try:
                values[i] = float(value)
            except OverflowError:  # a Python int beyond float range, e.g. 10**400
                bad[i] = True
                continue
            missing[i] = math.isnan(values[i])
        else:
            missing[i] = value is None or value is pd.NA or value is pd.NaT
            bad[i] = not missing[i]
    if texts:
        converted = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce")
        values[positions] = converted.to_numpy(dtype=np.float64, na_value=np.nan)
        bad[positions] = np.isnan(values[positions])
    return values, missing, bad


def bad_values_problem(shown: Any, name: str, raw: pd.Series, bad: np.ndarray) -> Problem:
    """Problem listing non-numeric values, suggesting a number for text such as '7B'."""
    labels, items = raw.index[bad].tolist(), []
    for label, value in list(zip(labels, raw.to_numpy(dtype=object)[bad]))[:_SHOWN]:
        guess = parse_size_suffix(value)
        hint = f" — did you mean {exact(guess)}?" if guess is not None else ""
        items.append(f"{value!r} at row {label}{hint}")
    more = f"; and {len(labels) - _SHOWN} more ({rows_text(labels)})" if len(labels) > _SHOWN else ""
    return column_problem(shown, name, labels, f"has non-numeric values: {'; '.join(items)}{more}")


def value_problems(shown: Any, name: str, values: np.ndarray, missing: np.ndarray,
                    index: pd.Index) -> list[Problem]:
    """Problems for missing, infinite and non-positive values of one numeric column."""
    problems = []
    if missing.any():
        rows = index[missing].tolist()
        problems.append(column_problem(shown, name, rows, f"has missing values (NaN) at {rows_text(rows)}; "
                                     "fill them, or pass dropna=True to drop those rows"))
    if (infinite := np.isinf(values)).any():
        rows = index[infinite].tolist()
        problems.append(column_problem(shown, name, rows, "has infinite values: "
                                     + _value_list(rows, values[infinite])))
    if (nonpositive := np.isfinite(values) & (values <= 0)).any():
        rows = index[nonpositive].tolist()
        why = " (optimizer steps count from 1, like Kaplan's S)" if name == "step" else ""
        problems.append(column_problem(shown, name, rows, f"must be > 0{why}; found "
                                     + _value_list(rows, values[nonpositive])))
    return problems


def is_number(value) -> bool:
    """A real number that is not NaN and not a bool."""
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            and not math.isnan(value))


def derived_problems(columns: Mapping[str, np.ndarray], derived: Mapping[str, str], display: Mapping[str, Any],
                     index: pd.Index) -> list[Problem]:
    """Problems for derived columns (N, D or C from the other two) that are not finite and > 0,
    e.g. C = 6·N·D overflowing to inf for N = 1e308, or D = C/(6·N) underflowing to 0."""
    problems = []
    for name, how in derived.items():
        values = columns.get(name)
        if values is None:
            continue
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            rows = index[bad].tolist()
            sources = " and ".join(column_text(display.get(c, c), c) for c in "NDC" if c != name and c in display)
            problems.append(column_problem(name, name, rows, f"derived as {how} from {sources} is "
                                         f"{'not finite' if not np.isfinite(values[bad]).all() else '0'}: "
                                         + _value_list(rows, values[bad])
                                         + "; check the units of those columns (values out of range)"))
    return problems


def consistency_problems(values: Mapping[str, np.ndarray], shown: Any, k: float, c_rtol: float,
                          index: pd.Index) -> list[Problem]:
    """Problem on C where C / (k·N·D) is further than ``c_rtol`` from 1."""
    with np.errstate(all="ignore"):
        ratio = values["C"] / (k * values["N"] * values["D"])
    valid = np.logical_and.reduce([np.isfinite(values[c]) & (values[c] > 0) for c in "NDC"])
    if not (off := valid & (np.abs(ratio - 1.0) > c_rtol)).any():
        return []
    rows, kt = index[off].tolist(), exact(k)
    found = _value_list(rows, [f"{r:.3g}" for r in ratio[off]])
    return [column_problem(shown, "C", rows, f"disagrees with C = {kt}·N·D beyond c_rtol={c_rtol:g}: "
                         f"C/({kt}·N·D) = {found}; pass flops_per_token= if your models use another "
                         "number of FLOPs per parameter per token, or a larger c_rtol=")]


def duplicate_problems(table: pd.DataFrame, display: Mapping[str, Any], index: pd.Index) -> list[Problem]:
    """Problem listing groups of rows identical in every canonical column read."""
    dup = table.duplicated(keep=False).to_numpy()
    if not dup.any():
        return []
    ids = table.loc[dup].groupby(list(table.columns), sort=False, dropna=False).ngroup().to_numpy()
    groups = [index[dup][ids == gid].tolist() for gid in range(ids.max() + 1)]
    texts = [f"{rows_text(rows)} are identical" for rows in groups[:_SHOWN]]
    more = f"; and {len(groups) - _SHOWN} more groups" if len(groups) > _SHOWN else ""
    cols = ", ".join(column_text(display[c], c).removeprefix("column ") for c in table.columns)
    return [Problem("(all columns)", "*", tuple(index[dup].tolist()),
                    f"duplicate runs: {'; '.join(texts)}{more} (in all of columns {cols})")]


def missing_label(value) -> bool:
    """None, NaN (float, Decimal, even signalling), pd.NA or NaT, without comparing (a Decimal
    sNaN raises on comparison)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, decimal.Decimal):
        return value.is_nan()
    return isinstance(value, float) and math.isnan(value)


def label_values(raw: pd.Series, shown: Any, name: str, index: pd.Index) -> tuple[np.ndarray, list[Problem]]:
    """Label values as str (object array), and a problem for missing ones."""
    objects = raw.to_numpy(dtype=object)
    missing = np.array([missing_label(v) for v in objects], dtype=bool)
    labels = np.array([str(v) for v in objects], dtype=object)
    rows = index[missing].tolist()
    return labels, [column_problem(shown, name, rows, f"has missing values at {rows_text(rows)}; "
                                 f"every run needs a {name} label")] if rows else []


def drop_missing(missing: Mapping[str, np.ndarray], display: Mapping[str, Any],
                  index: pd.Index) -> np.ndarray:
    """Mask of rows to keep under dropna=True; warns with the count and rows dropped."""
    drop = np.zeros(len(index), dtype=bool)
    for mask in missing.values():
        drop |= mask
    if drop.any():
        detail = "; ".join(f"{column_text(display[c], c)}: {rows_text(index[m].tolist())}"
                           for c, m in missing.items() if m.any())
        warnings.warn(f"dropna=True: dropped {int(drop.sum())} of {len(index)} rows with missing values, "
                      f"{rows_text(index[drop].tolist())} ({detail})", RunsWarning, stacklevel=4)
    return ~drop


def warn_high_loss(values: np.ndarray, shown: Any, index: pd.Index, limit: float) -> None:
    """RunsWarning naming the rows whose loss exceeds ``limit`` nats/token."""
    if (high := values > limit).any():
        found = _value_list(index[high].tolist(), values[high])
        warnings.warn(f"{column_text(shown, 'loss')} has values above {limit:g} nats/token: {found}; "
                      "this looks like wrong units (bits? perplexity?)", RunsWarning, stacklevel=4)


def resolve_columns(frame: pd.DataFrame, mapping: Mapping[str, Any]) -> tuple[dict, list[Problem]]:
    """Canonical name -> source column label, and problems for absent or repeated columns.

    A column named canonically is used unless the user mapped another
    canonical column onto it.
    """
    read, problems, available = {}, [], list(frame.columns)
    for name in CANONICAL_COLUMNS:
        if name in mapping:
            label = mapping[name]
            if label not in frame.columns:
                guess = closest(label, available)
                problems.append(column_problem(label, name, (), "not found; available columns: "
                                             + ", ".join(f"'{c}'" for c in available)
                                             + (f"; did you mean '{guess}'?" if guess else "")))
                continue
        elif name in frame.columns and name not in mapping.values():
            label = name
        else:
            continue
        if (count := int((frame.columns == label).sum())) > 1:
            problems.append(column_problem(label, name, (), f"appears {count} times in the data; "
                                         "rename the duplicates"))
            continue
        read[name] = label
    return read, problems
