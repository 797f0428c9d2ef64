"""Command-line interface: ``bayes-scaling laws | fit | summary | predict | demo``.

Every command is a thin wrapper around the Python API (:func:`bayes_scaling.fit`,
:meth:`Fit.summary`, :meth:`Fit.predict`, :func:`bayes_scaling.load_fit`).
Human output is a pandas table; ``--json`` prints JSON only on stdout
(warnings and notes always go to stderr).

Exit codes: 0 success, 2 (:data:`EXIT_INVALID_INPUT`) invalid input or usage,
3 (:data:`EXIT_DIAGNOSTICS`) the sampler's diagnostics are not ok.
"""

from __future__ import annotations

import contextlib
import enum
import json
import math
import re
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional

import numpy as np
import pandas as pd
import typer

from .diagnostics import SamplerWarning
from .fit import fit as fit_law
from .formula import FormulaError
from .io import load_fit
from .laws import LawError, law_names, list_laws, load_law
from .priors import PriorError
from .runs import RunsValidationError, check_runs_for_law, load_runs
from .units import DEFAULT_FLOPS_PER_TOKEN, parse_size_suffix

__all__ = ["app", "main", "demo_runs", "EXIT_OK", "EXIT_INVALID_INPUT", "EXIT_DIAGNOSTICS"]

EXIT_OK = 0
EXIT_INVALID_INPUT = 2
EXIT_DIAGNOSTICS = 3

#: The law and truth of the embedded demo dataset (used when the shipped CSV is absent).
DEMO_LAW = "chinchilla"
DEMO_TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
DEMO_TOKENS_PER_PARAM = 20.0
DEMO_BUDGETS = (10.0, 100.0, 1000.0)  # multiples of the largest compute in the data

_HELP = f"""Bayesian scaling-law fitting: posteriors, credible intervals and predictions
for training-budget decisions.

Exit codes: {EXIT_OK} success;
{EXIT_INVALID_INPUT} invalid input or usage (bad runs table, unknown law or prior preset, unreadable
file, bad option value; the problem is printed on stderr);
{EXIT_DIAGNOSTICS} the fit's sampler diagnostics are not ok (the fit is still saved; pass
--allow-warnings to exit {EXIT_OK}).
"""

app = typer.Typer(name="bayes-scaling", help=_HELP, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False, rich_markup_mode=None)

# Errors that mean "the user's input is wrong" while reading and validating input
# (the package's own errors subclass ValueError; OSError covers unreadable files).
_INPUT_ERRORS = (RunsValidationError, LawError, PriorError, FormulaError, ValueError, TypeError,
                 OSError, KeyError)
# Errors the sampling step may raise for bad input (it re-validates the law and runs).
_FIT_INPUT_ERRORS = (RunsValidationError, LawError, PriorError, FormulaError)


class LikelihoodChoice(str, enum.Enum):
    student_t = "student_t"
    normal = "normal"


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
def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"bayes-scaling {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Show the version and exit.")] = False) -> None:
    pass


@app.command("laws")
def laws_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records instead of a table.")] = False,
) -> None:
    """List the shipped scaling laws: formula, inputs, response, prior presets, citation."""
    with _warnings_to_stderr():
        rows = [{"name": spec.name, "formula": spec.formula.source,
                 "inputs": ", ".join(col if sym == col else f"{sym}={col}" for sym, col in spec.inputs.items()), "response": spec.response,
                 "presets": ", ".join(sorted(spec.presets)) or "-", "citation": spec.citation}
                for spec in list_laws()]
    table = pd.DataFrame(rows, columns=["name", "formula", "inputs", "response", "presets", "citation"])
    if as_json:
        _print_json(records(table))
        return
    typer.echo(text_table(table))


@app.command("fit")
def fit_command(
    runs_path: Annotated[Path, typer.Argument(metavar="RUNS", help="Runs table: .csv, .csv.gz, .tsv or .parquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the fit (NetCDF, e.g. fit.nc).")],
    law: Annotated[str, typer.Option("--law", help=f"Shipped law ({', '.join(law_names())}) or a .toml spec.")] = "chinchilla",
    col: Annotated[Optional[list[str]], typer.Option(
        "--col", metavar="CANON=COLUMN",
        help="Map a canonical column to yours, e.g. --col N=params (repeatable). Canonical: N, D, C, "
             "loss, group, run, step, B, U, B_crit; columns already named so need no mapping.")] = None,
    priors: Annotated[Optional[str], typer.Option("--priors", metavar="PRESET",
                                                  help="Prior preset of the law (see `laws`); default: the spec's weakly informative priors.")] = None,
    likelihood: Annotated[LikelihoodChoice, typer.Option("--likelihood", help="Observation model of log(response); student_t is robust to outliers.")] = LikelihoodChoice.student_t,
    draws: Annotated[int, typer.Option(min=1, help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option(min=1, help="Warm-up steps per chain.")] = 1000,
    chains: Annotated[int, typer.Option(min=1, help="Number of chains.")] = 4,
    seed: Annotated[Optional[int], typer.Option(help="Random seed (drawn and recorded when not given).")] = None,
    target_accept: Annotated[float, typer.Option("--target-accept", help="NUTS target acceptance (raise to ~0.95 on divergences).")] = 0.9,
    flops_per_token: Annotated[float, typer.Option("--flops-per-token", help="k in C = k·N·D.")] = DEFAULT_FLOPS_PER_TOKEN,
    dropna: Annotated[bool, typer.Option("--dropna", help="Drop rows with missing values instead of failing.")] = False,
    prob: Annotated[float, typer.Option(help="Probability of the summary's intervals.")] = 0.9,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide the sampler's progress bar.")] = False,
    allow_warnings: Annotated[bool, typer.Option("--allow-warnings", help=f"Exit {EXIT_OK} even if the diagnostics are not ok.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (summary as records) instead of tables.")] = False,
) -> None:
    """Fit a law to a runs table, save the fit and print the posterior summary."""
    columns = _parse_columns(col)
    if not 0 < prob < 1:
        raise typer.BadParameter(f"{prob} is not in (0, 1)", param_hint="'--prob'")
    if not 0 < target_accept < 1:
        raise typer.BadParameter(f"{target_accept} is not in (0, 1)", param_hint="'--target-accept'")
    _check_output(output)
    with _warnings_to_stderr(SamplerWarning):
        with _user_errors():
            spec = load_law(law).with_priors(priors)
            runs = load_runs(runs_path, flops_per_token=flops_per_token, dropna=dropna, **columns)
            check_runs_for_law(runs, inputs=spec.columns, response=spec.response, n_params=spec.n_params,
                               law=spec.name)
        quiet = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
        with _user_errors(_FIT_INPUT_ERRORS), quiet:
            result = fit_law(runs, law=spec, likelihood=likelihood.value, draws=draws, tune=tune, chains=chains,
                             seed=seed, progress=not no_progress, target_accept=target_accept)
    with _user_errors(context=f"cannot save the fit to {output}: "):
        result.save(output)
    summary = result.summary(prob)
    if as_json:
        _print_json(_fit_payload(result, summary, prob, output=str(output)))
    else:
        _print_fit_header(result, output, "fitted and saved")
        _print_summary_table(summary, prob)
    if not result.diagnostics.ok:
        _err(f"\nThe fit's diagnostics are not ok:\n{_cli_hints(str(result.diagnostics))}")
        if allow_warnings:
            _err(f"warning: continuing because of --allow-warnings; the fit is saved to {output}")
        else:
            _err(f"The fit was still saved to {output}. Inspect it, refit with the advice above, or "
                 f"pass --allow-warnings to accept it (exit code {EXIT_DIAGNOSTICS}).")
            raise typer.Exit(EXIT_DIAGNOSTICS)


@app.command("summary")
def summary_command(
    fit_path: Annotated[Path, typer.Argument(metavar="FIT", help="A saved fit (.nc).")],
    prob: Annotated[float, typer.Option(help="Probability of the equal-tailed intervals.")] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (summary as records) instead of tables.")] = False,
) -> None:
    """Show a saved fit: law, number of runs, diagnostics and posterior summary."""
    fit = _load_fit_file(fit_path)
    with _user_errors(), _warnings_to_stderr():
        summary = fit.summary(prob)
    if as_json:
        _print_json(_fit_payload(fit, summary, prob, path=str(fit_path)))
        return
    _print_fit_header(fit, fit_path, "fit of")
    _print_summary_table(summary, prob)


@app.command("predict")
def predict_command(
    fit_path: Annotated[Path, typer.Argument(metavar="FIT", help="A saved fit (.nc).")],
    N: Annotated[Optional[list[str]], typer.Option("--N", metavar="N", help="Model size(s), e.g. 7e10 or 70B (repeatable).")] = None,
    D: Annotated[Optional[list[str]], typer.Option("--D", metavar="D", help="Training tokens (repeatable).")] = None,
    C: Annotated[Optional[list[str]], typer.Option("--C", metavar="C", help="Training FLOPs (repeatable); any two of N, D, C.")] = None,
    inputs: Annotated[Optional[list[str]], typer.Option(
        "--input", "-i", metavar="NAME=VALUE",
        help="Another input of the law by its runs column, e.g. --input step=1000 (repeatable).")] = None,
    prob: Annotated[float, typer.Option(help="Probability of the equal-tailed intervals.")] = 0.9,
    kind: Annotated[KindChoice, typer.Option(help="mean: uncertainty of the law; predictive: plus run-to-run noise.")] = KindChoice.mean,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the noise draws for --kind predictive.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records instead of a table.")] = False,
) -> None:
    """Predict the response (median and interval) at new inputs; repeat options for several points.

    Example: predict fit.nc --N 7e10 --N 1e11 --D 1.4e12 --D 2e12
    """
    given: dict[str, Any] = {name: [_parse_number(v, f"--{name}") for v in values]
                             for name, values in (("N", N), ("D", D), ("C", C)) if values}
    for name, values in _parse_inputs(inputs).items():
        if name in given:
            raise typer.BadParameter(f"{name} is given both as --{name} and --input",
                                     param_hint="'--input'")
        given[name] = values
    fit = _load_fit_file(fit_path)
    if not given:
        raise _fail(f"give the inputs to predict at, e.g. --N 7e10 --D 1.4e12 (law {fit.law.name!r} "
                    f"reads {', '.join(fit.law.columns)})")
    with _user_errors(), _warnings_to_stderr():
        table = fit.predict(**given, prob=prob, kind=kind.value, seed=seed)
    far = int((table["decades_beyond_data"] > 1).sum())
    if far:
        _err(f"note: {far} point(s) lie more than 1 decade beyond the fitted data; "
             "the interval assumes the law holds there")
    if not fit.diagnostics.ok:
        _err(f"warning: this fit's diagnostics are not ok ({_diagnostics_line(fit)})")
    if as_json:
        _print_json(records(table))
        return
    typer.echo(f"Predicted {fit.law.response} of law {fit.law.name!r} ({kind.value}, {prob:.0%} interval):")
    typer.echo(format_table(table))


@app.command("demo")
def demo_command(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Save the fit here (a path ending in .nc).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the sampler.")] = 0,
    draws: Annotated[int, typer.Option(min=1, help="Posterior draws per chain.")] = 1000,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide the sampler's progress bar.")] = False,
) -> None:
    """Fit the Chinchilla law to the embedded demo dataset and predict larger budgets."""
    if output is not None:
        if output.suffix.lower() != ".nc":
            raise _fail(f"{output}: HTML reports come in a later version; for now -o saves the fit "
                        "and must end in .nc")
        _check_output(output)
    with _warnings_to_stderr(SamplerWarning):
        frame = demo_runs()
        runs = load_runs(frame[["N", "D", "loss"]])
        typer.echo(f"Demo: law {DEMO_LAW!r} fitted to {len(runs)} runs; data: "
                   f"{frame.attrs.get('source', 'embedded demo dataset')}")
        result = fit_law(runs, law=DEMO_LAW, draws=draws, seed=seed, progress=not no_progress)
    if output is not None:
        with _user_errors(context=f"cannot save the fit to {output}: "):
            result.save(output)
        typer.echo(f"fit saved to {output}")
    typer.echo(f"diagnostics: {_diagnostics_line(result)}")
    if not result.diagnostics.ok:
        _err(f"warning: the demo fit's diagnostics are not ok:\n{_cli_hints(str(result.diagnostics))}")
    summary = result.summary(0.9)[["median", "lower", "upper", "r_hat"]]
    truth = (frame.attrs.get("truth") or {}).get("params")
    if truth:
        summary.insert(0, "truth", [_fmt_number(truth[p]) if p in truth else "" for p in summary.index])
    typer.echo("\nPosterior (median and 90% interval):")
    typer.echo(format_table(summary))
    points = demo_points(runs)
    table = result.predict(N=points["N"].to_numpy(), D=points["D"].to_numpy(), prob=0.9)
    table.insert(0, "budget", points["budget"].to_numpy())
    typer.echo(f"\nPredicted loss at {DEMO_TOKENS_PER_PARAM:g} tokens/parameter, at multiples of the "
               "largest compute in the data (90% interval of the law's mean):")
    typer.echo(format_table(table.set_index("budget")))


if __name__ == "__main__":  # python -m bayes_scaling.cli
    app()
