"""Command-line interface: ``bayes-scaling laws | fit | summary | predict | allocate | compare | report | demo``.

Every command is a thin wrapper around the Python API (:func:`bayes_scaling.fit`,
:meth:`Fit.summary`, :meth:`Fit.predict`, :func:`bayes_scaling.load_fit`).
Human output is a pandas table; ``--json`` prints JSON only on stdout
(warnings and notes always go to stderr).

Exit codes: 0 success, 2 (:data:`EXIT_INVALID_INPUT`) invalid input or usage,
3 (:data:`EXIT_DIAGNOSTICS`) the sampler's diagnostics are not ok.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from ..api import fit as fit_law
from ..checks.compare import compare
from ..core.errors import SamplerWarning
from ..core.formatting import fmt_number
from ..core.intervals import DEFAULT_PROB
from ..core.progress import lines_to_stderr
from ..data.runs import check_runs_for_law, load_runs
from ..data.units import DEFAULT_FLOPS_PER_TOKEN
from ..law.spec import law_names, list_laws, load_law
from .demo import DEMO_LAW, DEMO_TOKENS_PER_PARAM, demo_points, demo_runs
from .support import (
    EXIT_DIAGNOSTICS,
    EXIT_INVALID_INPUT,
    EXIT_OK,
    FIT_INPUT_ERRORS,
    DiscrepancyChoice,
    KindChoice,
    LikelihoodChoice,
    check_output,
    cli_hints,
    diagnostics_line,
    err,
    fail,
    fit_payload,
    format_table,
    load_fit_file,
    parse_columns,
    parse_inputs,
    parse_number,
    print_fit_header,
    print_json,
    print_summary_table,
    record_blocks,
    records,
    user_errors,
    warnings_to_stderr,
)

__all__ = ["app", "main", "EXIT_OK", "EXIT_INVALID_INPUT", "EXIT_DIAGNOSTICS"]

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

def _version(value: bool) -> None:
    if value:
        from ..core import __version__

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
    with warnings_to_stderr():
        rows = [{"name": spec.name, "formula": spec.formula.source,
                 "inputs": ", ".join(col if sym == col else f"{sym}={col}" for sym, col in spec.inputs.items()),
                 "response": spec.response,
                 "presets": ", ".join(sorted(spec.presets)) or "-", "citation": spec.citation}
                for spec in list_laws()]
    table = pd.DataFrame(rows, columns=["name", "formula", "inputs", "response", "presets", "citation"])
    if as_json:
        print_json(records(table))
        return
    typer.echo(record_blocks(table))


@app.command("fit")
def fit_command(
    runs_path: Annotated[Path, typer.Argument(metavar="RUNS", help="Runs table: .csv, .csv.gz, .tsv or .parquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the fit (NetCDF, e.g. fit.nc).")],
    law: Annotated[str, typer.Option(
        "--law", help=f"Shipped law ({', '.join(law_names())}) or a .toml spec.")] = "chinchilla",
    col: Annotated[list[str] | None, typer.Option(
        "--col", metavar="CANON=COLUMN",
        help="Map a canonical column to yours, e.g. --col N=params (repeatable). Canonical: N, D, C, "
             "loss, group, run, step, B, U, B_crit; columns already named so need no mapping.")] = None,
    priors: Annotated[str | None, typer.Option(
        "--priors", metavar="PRESET",
        help="Prior preset of the law (see `laws`); default: the spec's weakly informative priors.")] = None,
    likelihood: Annotated[LikelihoodChoice, typer.Option(
        "--likelihood",
        help="Observation model of log(response); student_t is robust to outliers; auto: student_t, or normal "
             "(run offsets integrated out) with run effects on >= 20,000 rows.")] = LikelihoodChoice.auto,
    discrepancy: Annotated[DiscrepancyChoice, typer.Option(
        "--discrepancy",
        help="What the law's form gets wrong. auto (default) = modular: a structural term fitted to the law's "
             "residuals, carried by predictions and decisions; none: trust the law's form; gp: a "
             "Gaussian process sampled with the law (laws of 1-2 inputs; predictions only).")] = DiscrepancyChoice.auto,
    draws: Annotated[int, typer.Option(min=1, help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int | None, typer.Option(
        min=1, help="Warm-up steps per chain (default 1000; 2000 with --discrepancy gp).")] = None,
    chains: Annotated[int, typer.Option(min=1, help="Number of chains.")] = 4,
    seed: Annotated[int | None, typer.Option(help="Random seed (drawn and recorded when not given).")] = None,
    target_accept: Annotated[float | None, typer.Option(
        "--target-accept",
        help="NUTS target acceptance (default 0.9; 0.95 with --discrepancy gp; "
             "raise to ~0.95 on divergences).")] = None,
    flops_per_token: Annotated[float, typer.Option(
        "--flops-per-token", help="k in C = k·N·D.")] = DEFAULT_FLOPS_PER_TOKEN,
    dropna: Annotated[bool, typer.Option("--dropna", help="Drop rows with missing values instead of failing.")] = False,
    prob: Annotated[float, typer.Option(help="Probability of the summary's intervals.")] = DEFAULT_PROB,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide the sampler's progress bar.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines (nor bar) on stderr.")] = False,
    allow_warnings: Annotated[bool, typer.Option(
        "--allow-warnings", help=f"Exit {EXIT_OK} even if the diagnostics are not ok.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (summary as records) instead of tables.")] = False,
) -> None:
    """Fit a law to a runs table, save the fit and print the posterior summary."""
    columns = parse_columns(col)
    if not 0 < prob < 1:
        raise typer.BadParameter(f"{prob} is not in (0, 1)", param_hint="'--prob'")
    if target_accept is not None and not 0 < target_accept < 1:
        raise typer.BadParameter(f"{target_accept} is not in (0, 1)", param_hint="'--target-accept'")
    check_output(output)
    with warnings_to_stderr(SamplerWarning):
        with user_errors():
            spec = load_law(law).with_priors(priors)
            runs = load_runs(runs_path, flops_per_token=flops_per_token, dropna=dropna, **columns)
            check_runs_for_law(runs, inputs=spec.columns, response=spec.response, n_params=spec.n_params,
                               law=spec.name)
        stdout = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
        with user_errors(FIT_INPUT_ERRORS), stdout, lines_to_stderr(not quiet):
            result = fit_law(runs, law=spec, likelihood=likelihood.value, draws=draws, tune=tune, chains=chains,
                             discrepancy=None if discrepancy is DiscrepancyChoice.none else discrepancy.value,
                             seed=seed, progress=False if no_progress or quiet else None,
                             target_accept=target_accept)
    _save_and_show(result, output, prob, as_json, allow_warnings)


def _save_and_show(result, output: Path, prob: float, as_json: bool, allow_warnings: bool) -> None:
    """Save a new fit, print its summary (or JSON), and exit 3 when its diagnostics are not ok."""
    with user_errors(context=f"cannot save the fit to {output}: "):
        result.save(output)
    summary = result.summary(prob)
    if as_json:
        print_json(fit_payload(result, summary, prob, output=str(output)))
    else:
        print_fit_header(result, output, "fitted and saved")
        print_summary_table(summary, prob)
    if not result.diagnostics.ok:
        err(f"\nThe fit's diagnostics are not ok:\n{cli_hints(str(result.diagnostics))}")
        if allow_warnings:
            err(f"warning: continuing because of --allow-warnings; the fit is saved to {output}")
        else:
            err(f"The fit was still saved to {output}. Inspect it, refit with the advice above, or "
                f"pass --allow-warnings to accept it (exit code {EXIT_DIAGNOSTICS}).")
            raise typer.Exit(EXIT_DIAGNOSTICS)


@app.command("summary")
def summary_command(
    fit_path: Annotated[Path, typer.Argument(metavar="FIT", help="A saved fit (.nc).")],
    prob: Annotated[float, typer.Option(help="Probability of the equal-tailed intervals.")] = DEFAULT_PROB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (summary as records) instead of tables.")] = False,
) -> None:
    """Show a saved fit: law, number of runs, diagnostics and posterior summary."""
    fit = load_fit_file(fit_path)
    with user_errors(), warnings_to_stderr():
        summary = fit.summary(prob)
    if as_json:
        print_json(fit_payload(fit, summary, prob, path=str(fit_path)))
        return
    print_fit_header(fit, fit_path, "fit of")
    print_summary_table(summary, prob)


@app.command("predict")
def predict_command(
    fit_path: Annotated[Path, typer.Argument(metavar="FIT", help="A saved fit (.nc).")],
    N: Annotated[list[str] | None, typer.Option(
        "--N", metavar="N", help="Model size(s), e.g. 7e10 or 70B (repeatable).")] = None,
    D: Annotated[list[str] | None, typer.Option("--D", metavar="D", help="Training tokens (repeatable).")] = None,
    C: Annotated[list[str] | None, typer.Option(
        "--C", metavar="C", help="Training FLOPs (repeatable); any two of N, D, C.")] = None,
    inputs: Annotated[list[str] | None, typer.Option(
        "--input", "-i", metavar="NAME=VALUE",
        help="Another input of the law by its runs column, e.g. --input step=1000 (repeatable).")] = None,
    prob: Annotated[float, typer.Option(help="Probability of the equal-tailed intervals.")] = DEFAULT_PROB,
    kind: Annotated[KindChoice, typer.Option(
        help="mean: uncertainty of the law; predictive: plus run-to-run noise.")] = KindChoice.mean,
    seed: Annotated[int | None, typer.Option(help="Seed of the noise draws for --kind predictive.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records instead of a table.")] = False,
) -> None:
    """Predict the response (median and interval) at new inputs; repeat options for several points.

    Example: predict fit.nc --N 7e10 --N 1e11 --D 1.4e12 --D 2e12
    """
    given: dict[str, Any] = {name: [parse_number(v, f"--{name}") for v in values]
                             for name, values in (("N", N), ("D", D), ("C", C)) if values}
    for name, values in parse_inputs(inputs).items():
        if name in given:
            raise typer.BadParameter(f"{name} is given both as --{name} and --input",
                                     param_hint="'--input'")
        given[name] = values
    fit = load_fit_file(fit_path)
    if not given:
        raise fail(f"give the inputs to predict at, e.g. --N 7e10 --D 1.4e12 (law {fit.law.name!r} "
                    f"reads {', '.join(fit.law.columns)})")
    with user_errors(), warnings_to_stderr():
        table = fit.predict(**given, prob=prob, kind=kind.value, seed=seed)
    far = int((table["decades_beyond_data"] > 1).sum())
    if far:
        err(f"note: {far} point(s) lie more than 1 decade beyond the fitted data; "
             "the interval assumes the law holds there")
    if not fit.diagnostics.ok:
        err(f"warning: this fit's diagnostics are not ok ({diagnostics_line(fit)})")
    if as_json:
        print_json(records(table))
        return
    typer.echo(f"Predicted {fit.law.response} of law {fit.law.name!r} ({kind.value}, {prob:.0%} interval):")
    typer.echo(format_table(table))


@app.command("compare")
def compare_command(
    fit_paths: Annotated[list[Path], typer.Argument(
        metavar="FIT...", help="Two or more saved fits (.nc) of the same runs.")],
    holdout: Annotated[float, typer.Option(
        help="Fraction of largest-compute runs held out (or a FLOP threshold if > 1).")] = 0.2,
    refit: Annotated[bool, typer.Option(help="Refit without the largest runs for the leave-largest-out score.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records instead of a table.")] = False,
) -> None:
    """Compare laws fitted to the same runs: PSIS-LOO and the leave-largest-out score.

    Example: compare chinchilla.nc kaplan_nd.nc
    """
    if len(fit_paths) < 2:
        raise fail("give at least two fit files to compare")
    fits = [load_fit_file(p) for p in fit_paths]
    names = [p.stem for p in fit_paths]
    with user_errors(), warnings_to_stderr():
        table = compare(fits, names=names, holdout=holdout, refit=refit)
    if as_json:
        print_json(records(table.reset_index()))
        return
    typer.echo("Law comparison (elpd: higher is better; llo: leave-largest-out):")
    typer.echo(format_table(table.reset_index()))


@app.command("report")
def report_command(
    fit_path: Annotated[Path, typer.Argument(metavar="FIT", help="A saved fit (.nc).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The report: a path ending in .html or .md.")],
    budget: Annotated[list[str] | None, typer.Option(
        "--budget", metavar="C", help="Budget(s) in FLOPs (repeatable); default 10x and 100x the data.")] = None,
    target_loss: Annotated[float | None, typer.Option(help="Also answer: the compute for this loss.")] = None,
    prob: Annotated[float, typer.Option(help="Probability of the equal-tailed intervals.")] = DEFAULT_PROB,
    title: Annotated[str | None, typer.Option(help="Title of the report.")] = None,
    compare_with: Annotated[list[Path] | None, typer.Option(
        "--compare-with", help="Other fits of the same runs (repeatable).")] = None,
) -> None:
    """Write a self-contained report of a saved fit (HTML with inline plots, or Markdown).

    Example: report fit.nc --budget 1e24 -o report.html
    """
    if output.suffix.lower() not in (".html", ".htm", ".md"):
        raise fail(f"{output}: the report path must end in .html or .md")
    check_output(output)
    fit = load_fit_file(fit_path)
    others = [load_fit_file(p) for p in compare_with or []]
    budgets = [parse_number(v, "--budget") for v in budget] if budget else None
    with user_errors(), warnings_to_stderr():
        fit.report(output, budgets=budgets, target_loss=target_loss, prob=prob, title=title,
                   compare_with=others or None)
    if not fit.diagnostics.ok:
        err(f"warning: this fit's diagnostics are not ok ({diagnostics_line(fit)})")
    typer.echo(f"report written to {output}")


@app.command("demo")
def demo_command(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the report (.html or .md) or save the fit (.nc) here.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the sampler.")] = 0,
    draws: Annotated[int, typer.Option(min=1, help="Posterior draws per chain.")] = 1000,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide the sampler's progress bar.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines (nor bar) on stderr.")] = False,
) -> None:
    """Fit the Chinchilla law to the embedded demo dataset, predict larger budgets, write the report."""
    if output is not None:
        if output.suffix.lower() not in (".nc", ".html", ".htm", ".md"):
            raise fail(f"{output}: -o takes a report (.html or .md) or a fit file (.nc)")
        check_output(output)
    with warnings_to_stderr(SamplerWarning):
        frame = demo_runs()
        runs = load_runs(frame[["N", "D", "loss"]])
        typer.echo(f"Demo: law {DEMO_LAW!r} fitted to {len(runs)} runs; data: "
                   f"{frame.attrs.get('source', 'embedded demo dataset')}")
        with lines_to_stderr(not quiet):
            result = fit_law(runs, law=DEMO_LAW, draws=draws, seed=seed,
                             progress=False if no_progress or quiet else None)
    if output is not None and output.suffix.lower() == ".nc":
        with user_errors(context=f"cannot save the fit to {output}: "):
            result.save(output)
        typer.echo(f"fit saved to {output}")
    elif output is not None:
        with user_errors(context=f"cannot write the report to {output}: "), warnings_to_stderr():
            result.report(output, title="bayes_scaling demo: Chinchilla law on the embedded synthetic runs")
        typer.echo(f"report written to {output}")
    typer.echo(f"diagnostics: {diagnostics_line(result)}")
    if not result.diagnostics.ok:
        err(f"warning: the demo fit's diagnostics are not ok:\n{cli_hints(str(result.diagnostics))}")
    summary = result.summary(DEFAULT_PROB)[["median", "lower", "upper", "r_hat"]]
    truth = (frame.attrs.get("truth") or {}).get("params")
    if truth:
        summary.insert(0, "truth", [fmt_number(truth[p]) if p in truth else "" for p in summary.index])
    typer.echo("\nPosterior (median and 90% interval):")
    typer.echo(format_table(summary))
    points = demo_points(runs)
    table = result.predict(N=points["N"].to_numpy(), D=points["D"].to_numpy(), prob=DEFAULT_PROB)
    table.insert(0, "budget", points["budget"].to_numpy())
    typer.echo(f"\nPredicted loss at {DEMO_TOKENS_PER_PARAM:g} tokens/parameter, at multiples of the "
               "largest compute in the data (90% interval of the law's mean):")
    typer.echo(format_table(table.set_index("budget")))


