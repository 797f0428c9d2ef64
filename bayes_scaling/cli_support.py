"""Helpers of the command line: exit codes, error reporting, tables, JSON, option parsing, demo data."""

from __future__ import annotations

import contextlib
import enum
import json
import math
import re
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import typer

from .discrepancy import DiscrepancyError
from .formula import FormulaError
from .io import load_fit
from .laws import LawError
from .priors import PriorError
from .runs import RunsValidationError
from .units import parse_size_suffix

__all__ = ["demo_runs", "demo_points", "format_table", "records", "EXIT_OK", "EXIT_INVALID_INPUT", "EXIT_DIAGNOSTICS"]


EXIT_OK = 0
EXIT_INVALID_INPUT = 2
EXIT_DIAGNOSTICS = 3

#: The law and truth of the embedded demo dataset (used when the shipped CSV is absent).
DEMO_LAW = "chinchilla"
DEMO_TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
DEMO_TOKENS_PER_PARAM = 20.0
DEMO_BUDGETS = (10.0, 100.0, 1000.0)  # multiples of the largest compute in the data


# Errors that mean "the user's input is wrong" while reading and validating input
# (the package's own errors subclass ValueError; OSError covers unreadable files).
_INPUT_ERRORS = (RunsValidationError, LawError, PriorError, FormulaError, ValueError, TypeError,
                 OSError, KeyError)
# Errors the sampling step may raise for bad input (it re-validates the law and runs).
_FIT_INPUT_ERRORS = (RunsValidationError, LawError, PriorError, FormulaError, DiscrepancyError)


class LikelihoodChoice(str, enum.Enum):
    auto = "auto"
    student_t = "student_t"
    normal = "normal"


class DiscrepancyChoice(str, enum.Enum):
    none = "none"
    gp = "gp"


class KindChoice(str, enum.Enum):
    mean = "mean"
    predictive = "predictive"


# --------------------------------------------------------------------------- helpers
def _err(message: str) -> None:
    typer.echo(message, err=True)


def _fail(message: str, code: int = EXIT_INVALID_INPUT) -> typer.Exit:
    _err(f"error: {message}")
    return typer.Exit(code)


def _error_text(exc: BaseException) -> str:
    """One readable message for an expected error (no traceback)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return _cli_hints(str(exc) or type(exc).__name__)


_API_HINTS = (  # Python-API wording in library messages -> the CLI's options
    (re.compile(r"load_runs\(\.\.\., (\w+)='your column'\)"), r"--col \1=YOUR_COLUMN"),
    (re.compile(r"\b(\w+)='your column'"), r"--col \1=YOUR_COLUMN"),
    (re.compile(r"\b(\w+)=\s*(?= and |:)"), r"--col \1=..."),
    (re.compile(r"pass dropna=True"), "pass --dropna"),
    (re.compile(r"\btune=(\d+)"), r"--tune \1"),
    (re.compile(r"\braise target_accept\b"), "raise --target-accept"),
)


def _cli_hints(text: str) -> str:
    for pattern, replacement in _API_HINTS:
        text = pattern.sub(replacement, text)
    return text


@contextlib.contextmanager
def _user_errors(errors: tuple[type[BaseException], ...] = _INPUT_ERRORS,
                 context: str = "") -> Iterator[None]:
    """Turn expected errors into ``error: ...`` on stderr and exit code 2."""
    try:
        yield
    except typer.Exit:
        raise
    except errors as exc:
        raise _fail(f"{context}{_error_text(exc)}") from None


@contextlib.contextmanager
def _warnings_to_stderr(*ignore: type[Warning]) -> Iterator[None]:
    """Show warnings as one ``warning: ...`` line on stderr; drop the ``ignore`` categories."""

    def show(message, category, filename, lineno, file=None, line=None):
        _err(f"warning: {message}")

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for category in ignore:
            warnings.simplefilter("ignore", category)
        warnings.showwarning = show
        yield


def _fmt_number(x: Any) -> str:
    """4 significant digits; e-notation for large and tiny numbers (``7e+10``)."""
    if x is None:
        return "nan"
    try:
        value = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(value):
        return "nan"
    return f"{value:.4g}"


def _fmt_count(x: Any) -> str:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "nan" if math.isnan(value) else f"{value:.0f}"


def format_table(frame: pd.DataFrame) -> str:
    """A frame as text: numbers to 4 significant digits, ESS as whole numbers."""
    formatters = {c: _fmt_count for c in frame.columns if str(c).startswith("ess_")}
    for c in frame.columns:
        if c not in formatters and pd.api.types.is_numeric_dtype(frame[c]) \
                and not pd.api.types.is_bool_dtype(frame[c]):
            formatters[c] = _fmt_number
    if frame.index.name is not None:
        frame = frame.reset_index()
    return frame.to_string(formatters=formatters, index=False)


def text_table(frame: pd.DataFrame) -> str:
    """A frame of strings as a left-aligned text table (no index)."""
    cells = [[str(c) for c in frame.columns]] + [[str(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(frame.columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells)


def _jsonable(value: Any) -> Any:
    """Plain Python types for json.dumps; NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if value is None or isinstance(value, str):
        return value
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame as a list of row dicts (records orient); a named index becomes a column.

    Floats are kept exact (``json`` writes the shortest round-trip repr).
    """
    if frame.index.name is not None:
        frame = frame.reset_index()
    return [_jsonable(dict(zip(frame.columns, row))) for row in frame.itertuples(index=False, name=None)]


def _print_json(payload: Any) -> None:
    typer.echo(json.dumps(_jsonable(payload), indent=2, allow_nan=False))


def _parse_columns(specs: list[str] | None) -> dict[str, str]:
    """``["N=params", "loss=val_loss"]`` -> ``{"N": "params", "loss": "val_loss"}``."""
    out: dict[str, str] = {}
    for spec in specs or []:
        canon, sep, user = spec.partition("=")
        canon, user = canon.strip(), user.strip()
        if not sep or not canon or not user:
            raise typer.BadParameter(f"{spec!r} is not CANONICAL=COLUMN (e.g. --col N=params)",
                                     param_hint="'--col'")
        if canon in out and out[canon] != user:
            raise typer.BadParameter(f"{canon!r} is mapped twice ({out[canon]!r} and {user!r})",
                                     param_hint="'--col'")
        out[canon] = user
    return out


def _parse_number(text: str, option: str) -> float:
    """A positive number: ``7e10``, ``70B``, ``1.4T``, ``1,000``."""
    try:
        value = float(text)
    except ValueError:
        value = parse_size_suffix(text)
    if value is None or not math.isfinite(value):
        raise typer.BadParameter(f"{text!r} is not a number (e.g. 7e10 or 70B)", param_hint=f"'{option}'")
    return float(value)


def _parse_inputs(specs: list[str] | None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise typer.BadParameter(f"{spec!r} is not NAME=VALUE (e.g. --input step=1000)",
                                     param_hint="'--input'")
        out.setdefault(name, []).append(_parse_number(value.strip(), "--input"))
    return out


def _load_fit_file(path: Path):
    with _user_errors(_INPUT_ERRORS, context=f"cannot read fit file {path}: "):
        return load_fit(path)


def _check_output(path: Path) -> None:
    """Fail early (before sampling) if the fit cannot be written to ``path``."""
    if path.is_dir():
        raise _fail(f"output {path} is a directory; give a file name such as fit.nc")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise _fail(f"cannot write {path}: {parent} is not a directory")
    import os

    if not os.access(parent, os.W_OK):
        raise _fail(f"cannot write {path}: no write permission in {parent}")


def _diagnostics_line(fit) -> str:
    return str(fit.diagnostics).splitlines()[0]


def _fit_payload(fit, summary: pd.DataFrame, prob: float, **extra: Any) -> dict[str, Any]:
    return {"law": fit.law.name, "formula": fit.law.formula.source, "response": fit.law.response,
            "n_runs": len(fit.runs), "likelihood": fit.likelihood, "priors": fit.law.prior_source,
            "settings": fit.settings, **extra, "diagnostics": fit.diagnostics.to_dict(), "prob": prob,
            "summary": records(summary)}


def _print_fit_header(fit, path: Path | None, verb: str) -> None:
    where = f" ({path})" if path is not None else ""
    typer.echo(f"{verb} law {fit.law.name!r}{where}: {fit.law.formula.source}")
    typer.echo(f"runs: {len(fit.runs)}; likelihood: {fit.likelihood}; priors: {fit.law.prior_source}")
    typer.echo(f"diagnostics: {_diagnostics_line(fit) if fit.diagnostics.ok else _cli_hints(str(fit.diagnostics))}")


def _print_summary_table(summary: pd.DataFrame, prob: float) -> None:
    typer.echo(f"\nPosterior summary ({prob:.0%} equal-tailed intervals):")
    typer.echo(format_table(summary))


# --------------------------------------------------------------------------- demo data
def demo_runs() -> pd.DataFrame:
    """The embedded demo dataset (columns N, D, loss).

    The shipped ``datasets/demo_chinchilla.csv`` when present; otherwise the same
    design simulated in memory from the Chinchilla law (Hoffmann et al. 2022,
    Eq. 10 values) with 1% noise, seed 0 (``attrs["truth"]`` holds the truth).
    """
    from .resources import shipped_dir

    try:
        path = shipped_dir("datasets") / "demo_chinchilla.csv"
    except FileNotFoundError:
        path = None
    if path is not None and path.is_file():
        frame = pd.read_csv(path)
        frame.attrs["source"] = str(path)
        return frame
    from .synthetic import chinchilla_design, simulate

    frame = simulate(DEMO_LAW, DEMO_TRUTH, chinchilla_design(120, seed=0), noise=0.01, seed=0)
    frame.attrs["source"] = "simulated in memory (chinchilla law, 1% noise, seed 0)"
    return frame


def demo_points(runs, budgets=DEMO_BUDGETS, tokens_per_param: float = DEMO_TOKENS_PER_PARAM) -> pd.DataFrame:
    """(N, D) at multiples of the largest compute in ``runs``, with D = tokens_per_param * N."""
    k = runs.flops_per_token
    c_max = float(np.max(k * runs.values("N") * runs.values("D")))
    c = c_max * np.asarray(budgets, dtype=float)
    n = np.sqrt(c / (k * tokens_per_param))
    return pd.DataFrame({"budget": [f"{b:g}x" for b in budgets], "N": n, "D": tokens_per_param * n})


# --------------------------------------------------------------------------- commands
