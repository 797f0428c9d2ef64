"""Load and validate tables of training runs for scaling-law fits.

:func:`load_runs` maps the user's column names onto :data:`CANONICAL_COLUMNS`,
derives the missing one of N, D, C from the other two, checks every value and
reports *all* problems at once in a :class:`RunsValidationError`.  Nothing is
silently dropped, clipped, reordered or changed: rows keep the source's order
and index labels, and messages name rows by those labels (for CSV/TSV files
the 0-based data row, header not counted).
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .units import CANONICAL_UNITS, DEFAULT_FLOPS_PER_TOKEN
from .validation import (
    CANONICAL_COLUMNS,
    LABEL_COLUMNS,
    NUMERIC_COLUMNS,
    RESPONSE_COLUMNS,
    Problem,
    RunsValidationError,
    RunsWarning,
    _bad_values_problem,
    _check_flops_per_token,
    _check_keywords,
    _close,
    _coerce_numeric,
    _col_problem,
    _consistency_problems,
    _drop_missing,
    _duplicate_problems,
    _fmt_num,
    _labels,
    _missing_response,
    _value_problems,
    _warn_high_loss,
    check_runs_for_law,
)

__all__ = ["CANONICAL_COLUMNS", "NUMERIC_COLUMNS", "LABEL_COLUMNS", "RunsWarning", "Problem",
           "RunsValidationError", "Runs", "load_runs", "check_runs_for_law", "runs_from_frame"]

_FILE_KINDS = {".csv": ",", ".csv.gz": ",", ".tsv": "\t", ".tsv.gz": "\t", ".parquet": None, ".pq": None}


@dataclass(frozen=True)
class Runs:
    """A validated runs table with canonical column names.

    Attributes
    ----------
    data : pandas.DataFrame
        Canonical columns only, in :data:`CANONICAL_COLUMNS` order; numeric
        columns float64, label columns str; the source's rows, order and index
        (minus rows dropped by an explicit ``dropna=True``).
    columns : dict of str to str
        Canonical name -> the user's source column name, for columns read.
    derived : dict of str to str
        Canonical name -> how it was derived, e.g. ``{"D": "D = C / (6·N)"}``.
    flops_per_token : float
        k in C = k·N·D.
    units : dict of str to str
        Canonical name -> unit, for the numeric columns present.
    dropped : int
        Rows dropped by ``dropna=True``.
    """

    data: pd.DataFrame
    columns: dict[str, str]
    derived: dict[str, str]
    flops_per_token: float
    units: dict[str, str]
    dropped: int = 0

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Runs):
            return NotImplemented
        meta = ("columns", "derived", "flops_per_token", "units", "dropped")
        return all(getattr(self, a) == getattr(other, a) for a in meta) and self.sha256() == other.sha256()

    def __hash__(self) -> int:
        return hash(self.sha256())

    def has(self, name: str) -> bool:
        """Whether canonical column ``name`` is present."""
        return name in self.data.columns

    def values(self, name: str) -> np.ndarray:
        """Copy of column ``name``: float64 if numeric, str objects if a label; KeyError if absent."""
        if not self.has(name):
            raise KeyError(f"runs have no column '{name}' (present: {', '.join(self.data.columns)}); "
                           f"map it with load_runs(..., {name}='your column')")
        dtype = object if name in LABEL_COLUMNS else np.float64
        return self.data[name].to_numpy(dtype=dtype, copy=True)

    def sha256(self) -> str:
        """SHA-256 hex digest of the canonical data (CSV with index, floats as '%.17g')."""
        text = self.data.to_csv(index=True, float_format="%.17g", lineterminator="\n")
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def describe(self) -> pd.DataFrame:
        """Per numeric column: source (column or derivation), unit, min, max, n_distinct."""
        rows = [{"column": c, "source": self.derived.get(c, self.source_name(c)),
                 "unit": self.units.get(c, ""), "min": self.data[c].min(), "max": self.data[c].max(),
                 "n_distinct": int(self.data[c].nunique())} for c in NUMERIC_COLUMNS if self.has(c)]
        table = pd.DataFrame(rows, columns=["column", "source", "unit", "min", "max", "n_distinct"])
        return table.set_index("column")

    def source_name(self, canonical: str) -> str:
        """The user's column name for ``canonical``; the canonical name if derived or absent."""
        if canonical not in CANONICAL_COLUMNS:
            raise KeyError(f"'{canonical}' is not a canonical column ({', '.join(CANONICAL_COLUMNS)})")
        return self.columns.get(canonical, canonical)


# ----------------------------------------------------------------------------- input
def _read_source(source: Any) -> pd.DataFrame:
    """A copy of the DataFrame, or the table read from a .csv/.csv.gz/.tsv/.parquet path."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError("load_runs expects a pandas DataFrame or a path to a .csv, .csv.gz, .tsv or "
                        f".parquet file; got {type(source).__name__} {source!r:.80}")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "runs file not found", str(path))
    suffix = next((s for s in _FILE_KINDS if path.name.lower().endswith(s)), None)
    if suffix is None:
        raise ValueError(f"cannot read runs from '{path}': unsupported file type; use .csv, .csv.gz, "
                         ".tsv or .parquet, or pass a DataFrame")
    sep = _FILE_KINDS[suffix]
    return pd.read_parquet(path) if sep is None else pd.read_csv(path, sep=sep)


def _resolve_columns(frame: pd.DataFrame, mapping: Mapping[str, Any]) -> tuple[dict, list[Problem]]:
    """Canonical name -> source column label, and problems for absent or repeated columns.

    A column named canonically is used unless the user mapped another
    canonical column onto it.
    """
    read, problems, available = {}, [], list(frame.columns)
    for name in CANONICAL_COLUMNS:
        if name in mapping:
            label = mapping[name]
            if label not in frame.columns:
                guess = _close(label, available)
                problems.append(_col_problem(label, name, (), "not found; available columns: "
                                             + ", ".join(f"'{c}'" for c in available)
                                             + (f"; did you mean '{guess}'?" if guess else "")))
                continue
        elif name in frame.columns and name not in mapping.values():
            label = name
        else:
            continue
        if (count := int((frame.columns == label).sum())) > 1:
            problems.append(_col_problem(label, name, (), f"appears {count} times in the data; "
                                         "rename the duplicates"))
            continue
        read[name] = label
    return read, problems


# ----------------------------------------------------------------------------- build
def _derive(data: dict[str, np.ndarray], k: float) -> dict[str, str]:
    """Add the missing one of N, D, C from the other two; return how it was derived."""
    kt, has = _fmt_num(k), data.keys()
    if {"N", "C"} <= has and "D" not in has:
        data["D"] = data["C"] / (k * data["N"])
        return {"D": f"D = C / ({kt}·N)"}
    if {"N", "D"} <= has and "C" not in has:
        data["C"] = k * data["N"] * data["D"]
        return {"C": f"C = {kt}·N·D"}
    if {"D", "C"} <= has and "N" not in has:
        data["N"] = data["C"] / (k * data["D"])
        return {"N": f"N = C / ({kt}·D)"}
    return {}


def _build(frame: pd.DataFrame, read: Mapping[str, Any], display: Mapping[str, Any], k: float, *,
           problems: list[Problem], derived: Mapping[str, str] | None, c_rtol: float | None,
           dropna: bool, loss_warn_above: float | None, dropped: int = 0) -> Runs:
    """Convert and validate the columns ``read``; raise RunsValidationError or return the Runs.

    ``derived=None`` derives a missing N/D/C; otherwise it describes columns already
    present.  Duplicates are looked for only when every requested column resolved.
    """
    index, complete = frame.index, not problems
    numeric, missing, unparsed = {}, {}, np.zeros(len(index), dtype=bool)
    for name in (c for c in NUMERIC_COLUMNS if c in read):
        raw = frame[read[name]]
        numeric[name], missing[name], bad = _coerce_numeric(raw)
        if bad.any():
            problems.append(_bad_values_problem(display[name], name, raw, bad))
            unparsed |= bad
    keep = _drop_missing(missing, display, index) if dropna else np.ones(len(index), dtype=bool)
    index = index[keep]
    columns = {name: values[keep] for name, values in numeric.items()}
    for name, values in columns.items():
        problems += _value_problems(display[name], name, values, missing[name][keep], index)
    ndc = {"N", "D", "C"}
    if c_rtol is not None and ndc <= columns.keys() and not (derived or {}).keys() & ndc:
        problems += _consistency_problems(columns, display["C"], k, c_rtol, index)
    for name in (c for c in LABEL_COLUMNS if c in read):
        columns[name], label_problems = _labels(frame[read[name]][keep], display[name], name, index)
        problems += label_problems
    if complete:  # rows with unparsable values are left out: their NaNs could look identical
        parsed = ~unparsed[keep]
        problems += _duplicate_problems(pd.DataFrame(columns)[parsed], display, index[parsed])
    if loss_warn_above is not None and "loss" in columns:
        _warn_high_loss(columns["loss"], display["loss"], index, loss_warn_above)
    if problems:
        raise RunsValidationError(problems)
    derived = _derive(columns, k) if derived is None else dict(derived)
    data = pd.DataFrame({c: columns[c] for c in CANONICAL_COLUMNS if c in columns}, index=index)
    data = data.astype({c: "str" for c in LABEL_COLUMNS if c in data.columns})
    units = {c: CANONICAL_UNITS[c] for c in data.columns if c in CANONICAL_UNITS}
    return Runs(data=data, columns={c: display[c] for c in read if c not in derived}, derived=derived,
                flops_per_token=k, units=units, dropped=dropped + int((~keep).sum()))


# ----------------------------------------------------------------------------- public API
def load_runs(source: Any, *, flops_per_token: float = DEFAULT_FLOPS_PER_TOKEN, c_rtol: float = 0.25,
              dropna: bool = False, loss_warn_above: float = 20.0, **columns: str) -> Runs:
    """Load, map, derive and validate a table of training runs.

    Parameters
    ----------
    source : pandas.DataFrame, str or os.PathLike
        The table (copied, never modified), or a path to a .csv, .csv.gz, .tsv
        (.tsv.gz) or .parquet (.pq) file.
    flops_per_token : float, default 6.0
        k in C = k·N·D, used to derive D, C or N and to check C; finite, > 0.
    c_rtol : float, default 0.25
        Largest accepted ``|C / (k·N·D) - 1|`` when N, D, C all come from the source.
    dropna : bool, default False
        Drop rows with missing values in a numeric column (with a RunsWarning)
        instead of reporting them.  Infinite and non-numeric values are always reported.
    loss_warn_above : float, default 20.0
        Warn (RunsWarning) about losses above this many nats/token; None never warns.
    **columns : str
        Canonical name -> the user's column name, e.g. ``N="Model Size"``.
        Columns already named canonically need no mapping.

    Returns
    -------
    Runs

    Raises
    ------
    RunsValidationError
        Listing every problem found in the table.
    TypeError, ValueError, FileNotFoundError
        For an unusable ``source``, unknown keywords or bad options.
    """
    k = _check_flops_per_token(flops_per_token)
    if not c_rtol >= 0 or (loss_warn_above is not None and math.isnan(loss_warn_above)):
        raise ValueError(f"need c_rtol >= 0 and a numeric loss_warn_above, got {c_rtol!r} and "
                         f"{loss_warn_above!r}")
    _check_keywords(columns)
    frame = _read_source(source)
    read, problems = _resolve_columns(frame, columns)
    problems += _missing_response([*read, *(c for c in columns if c in RESPONSE_COLUMNS)])
    return _build(frame, read, read, k, problems=problems, derived=None, c_rtol=c_rtol,
                  dropna=bool(dropna), loss_warn_above=loss_warn_above)


def runs_from_frame(data: pd.DataFrame, *, columns: Mapping[str, str] | None = None,
                    derived: Mapping[str, str] | None = None,
                    flops_per_token: float = DEFAULT_FLOPS_PER_TOKEN, c_rtol: float | None = None,
                    loss_warn_above: float | None = None, dropped: int = 0) -> Runs:
    """Rebuild a Runs from an already-canonical frame (e.g. a saved fit), validating it again.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical column names only, derived columns included.
    columns : mapping, optional
        ``Runs.columns``: canonical -> the user's original column name (used in messages).
    derived : mapping, optional
        ``Runs.derived``: these columns must be in ``data`` and are not derived again.
    flops_per_token : float, default 6.0
    c_rtol : float, optional
        Re-check C against k·N·D with this tolerance; None skips it (the load-time
        tolerance is not known).
    loss_warn_above : float, optional
        Warn about losses above this; None does not warn again.
    dropped : int, default 0
        ``Runs.dropped`` from the original load.

    Returns
    -------
    Runs
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"runs_from_frame expects a pandas DataFrame, got {type(data).__name__}")
    k = _check_flops_per_token(flops_per_token)
    columns, derived = dict(columns or {}), dict(derived or {})
    if any(c not in CANONICAL_COLUMNS for c in data.columns) or data.columns.duplicated().any():
        raise ValueError(f"runs_from_frame needs unique canonical column names "
                         f"({', '.join(CANONICAL_COLUMNS)}); got {list(data.columns)}")
    if any(c not in data.columns for c in [*columns, *derived]) or columns.keys() & derived.keys():
        raise ValueError(f"columns= and derived= must name distinct columns of the frame; frame has "
                         f"{list(data.columns)}, columns={columns}, derived={derived}")
    read = {c: c for c in CANONICAL_COLUMNS if c in data.columns}
    return _build(data.copy(), read, {c: columns.get(c, c) for c in read}, k,
                  problems=_missing_response(list(read)), derived=derived, c_rtol=c_rtol, dropna=False,
                  loss_warn_above=loss_warn_above, dropped=int(dropped))
