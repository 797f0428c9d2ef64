"""The decision commands: ``allocate`` (the compute-optimal N and D), ``recommend`` (the plan to pick at a
budget) and ``next`` (the runs to train next).

Budgets are FLOPs (``--C``), or accelerator-hours (``--gpu-hours``) or money (``--dollars``) on
an accelerator (``--accelerator H100`` or ``--peak-flops``, with ``--mfu`` and ``--price-per-hour``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..api import plan
from ..core.intervals import DEFAULT_PROB
from ..core.progress import lines_to_stderr
from ..data.runs import load_runs
from ..decisions.cost import CostModel, Hardware, ShapeRule
from . import commands
from .support import (
    check_output,
    diagnostics_line,
    err,
    fail,
    format_table,
    load_fit_file,
    parse_columns,
    parse_number,
    print_json,
    records,
    user_errors,
    warnings_to_stderr,
)

__all__ = ["allocate_command", "recommend_command", "next_command"]

app = commands.app

_Accelerator = Annotated[str | None, typer.Option(
    "--accelerator", help="Accelerator preset for budgets in hours or money (A100, H100, H200, B200, 'TPU v5p').")]
_Peak = Annotated[float | None, typer.Option("--peak-flops", help="Peak FLOP/s per accelerator (instead of a preset).")]
_Mfu = Annotated[float, typer.Option("--mfu", help="Model FLOPs utilisation, a fraction of the peak.")]
_Price = Annotated[float | None, typer.Option("--price-per-hour", help="Price per accelerator-hour (for --dollars).")]


def _hardware(accelerator: str | None, peak: float | None, mfu: float, price: float | None) -> Hardware | None:
    if accelerator is None and peak is None:
        if price is not None:
            raise fail("--price-per-hour needs a throughput: --accelerator NAME or --peak-flops FLOP/s")
        return None
    with user_errors():
        if accelerator is not None:
            return Hardware.preset(accelerator, mfu=mfu, price_per_hour=price)
        return Hardware(peak, mfu, price)


def _budgets(C: list[str] | None, gpu_hours: list[str] | None, dollars: list[str] | None) -> dict:
    given = {name: [parse_number(v, f"--{name.replace('_', '-')}") for v in values]
             for name, values in (("C", C), ("gpu_hours", gpu_hours), ("dollars", dollars)) if values}
    if len(given) != 1:
        raise fail("give the budget once: --C FLOPs, --gpu-hours or --dollars (repeatable)")
    return given


@app.command("allocate")
def allocate_command(
    fit_path: Annotated[Path, typer.Argument(metavar="FIT", help="A saved fit (.nc).")],
    C: Annotated[list[str] | None, typer.Option("--C", metavar="C", help="Budget(s) in FLOPs (repeatable).")] = None,
    gpu_hours: Annotated[list[str] | None, typer.Option("--gpu-hours", help="Budget(s) in accelerator-hours.")] = None,
    dollars: Annotated[list[str] | None, typer.Option("--dollars", help="Budget(s) in money.")] = None,
    accelerator: _Accelerator = None, peak_flops: _Peak = None, mfu: _Mfu = 0.4, price_per_hour: _Price = None,
    inference_tokens: Annotated[float | None, typer.Option(
        "--inference-tokens", help="Tokens the model will serve: the budget then pays 2·N FLOPs per token.")] = None,
    prob: Annotated[float, typer.Option(help="Probability of the equal-tailed intervals.")] = DEFAULT_PROB,
    group: Annotated[str | None, typer.Option(help="The group (family), for fits with per-group parameters.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records instead of a table.")] = False,
) -> None:
    """Compute-optimal N, D, tokens per parameter and loss for each budget, with intervals.

    Example: allocate fit.nc --C 1e23 --C 1e24, or allocate fit.nc --dollars 1e6 --accelerator H100 --price-per-hour 2
    """
    budgets = _budgets(C, gpu_hours, dollars)
    hardware = _hardware(accelerator, peak_flops, mfu, price_per_hour)
    fit = load_fit_file(fit_path)
    with user_errors(), warnings_to_stderr():
        target = fit.for_group(group) if group is not None else fit
        table = target.allocate(prob=prob, hardware=hardware, inference_tokens=inference_tokens, **budgets)
    far = int((table["decades_beyond_data"] > 1).sum())
    if far:
        err(f"note: {far} budget(s) lie more than 1 decade beyond the fitted compute range")
    if table["n_not_interior"].any():
        err(f"note: up to {int(table['n_not_interior'].max())} draws have no interior optimum (see n_not_interior)")
    if not fit.diagnostics.ok:
        err(f"warning: this fit's diagnostics are not ok ({diagnostics_line(fit)})")
    if as_json:
        print_json(records(table))
        return
    cols = [c for c in ("C", "gpu_hours", "dollars") if c in table] + [
        f"{v}_{s}" for v in ("N_opt", "D_opt", "tokens_per_param", "loss_opt") for s in ("median", "lower", "upper")
    ] + ["a_median", "n_not_interior", "decades_beyond_data"]
    typer.echo(f"Compute-optimal allocation, law {fit.law.name!r} ({table.attrs['method']}, {prob:.0%} interval; "
               f"{table.attrs['cost']}):")
    typer.echo(format_table(table[cols]))


@app.command("recommend")
def recommend_command(
    fit_path: Annotated[Path, typer.Argument(metavar="FIT", help="A saved fit (.nc).")],
    C: Annotated[list[str] | None, typer.Option("--C", metavar="C", help="Budget(s) in FLOPs (repeatable).")] = None,
    gpu_hours: Annotated[list[str] | None, typer.Option("--gpu-hours", help="Budget(s) in accelerator-hours.")] = None,
    dollars: Annotated[list[str] | None, typer.Option("--dollars", help="Budget(s) in money.")] = None,
    accelerator: _Accelerator = None, peak_flops: _Peak = None, mfu: _Mfu = 0.4, price_per_hour: _Price = None,
    risk: Annotated[str, typer.Option(help="mean, or a quantile of the loss such as q90.")] = "mean",
    tolerance: Annotated[float, typer.Option(help="The flat range: risk within this fraction of the best.")] = 0.005,
    inference_tokens: Annotated[float | None, typer.Option(
        "--inference-tokens", help="Tokens the model will serve: the budget then pays 2·N FLOPs per token.")] = None,
    prob: Annotated[float, typer.Option(help="Probability of the intervals.")] = DEFAULT_PROB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records instead of a table.")] = False,
) -> None:
    """The plan to pick at each budget: the Bayes-action N, its flat range, the regret of other plans.

    Example: recommend fit.nc --C 5.76e23, or recommend fit.nc --gpu-hours 1e6 --accelerator H100
    """
    budgets = _budgets(C, gpu_hours, dollars)
    hardware = _hardware(accelerator, peak_flops, mfu, price_per_hour)
    fit = load_fit_file(fit_path)
    with user_errors(), warnings_to_stderr():
        table = fit.recommend(**budgets, hardware=hardware, risk=risk, tolerance=tolerance, prob=prob,
                              inference_tokens=inference_tokens)
    if not fit.diagnostics.ok:
        err(f"warning: this fit's diagnostics are not ok ({diagnostics_line(fit)})")
    if as_json:
        print_json(records(table))
        return
    typer.echo(f"The plan to pick ({table.attrs['cost']}; risk {risk}; flat range within {tolerance:g}):")
    keep = [c for c in ("group", "C", "gpu_hours", "dollars", "plan", "N", "D", "tokens_per_param", "loss_median",
                        "regret_mean", "regret_upper", "N_flat_lower", "N_flat_upper", "decades_beyond_data")
            if c in table]
    typer.echo(format_table(table[keep]))


@app.command("next")
def next_command(
    runs_path: Annotated[Path, typer.Argument(metavar="RUNS", help="Runs table (.csv, .parquet, ...) or a fit (.nc).")],
    at: Annotated[str, typer.Option("--at", help="The budget (FLOPs) the target is about, e.g. 5.76e23.")],
    budget: Annotated[str, typer.Option("--budget", help="Total FLOPs for the next runs.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The next runs, as a CSV to launch.")],
    k: Annotated[int, typer.Option("--k", help="At most this many runs.")] = 3,
    target: Annotated[str, typer.Option(help="N_opt, loss or regret (at --at).")] = "N_opt",
    per_run: Annotated[str | None, typer.Option("--per-run", help="Most FLOPs of one run (default: --budget).")] = None,
    law: Annotated[str, typer.Option("--law", help="The law to fit a runs table with.")] = "chinchilla",
    col: Annotated[list[str] | None, typer.Option("--col", metavar="CANON=COLUMN", help="As in `fit`.")] = None,
    aspect_ratio: Annotated[float, typer.Option(help="The shape rule: d_model / n_layer.")] = 128.0,
    n_ctx: Annotated[float | None, typer.Option("--n-ctx", help="Add Kaplan's attention FLOPs (context).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the fit and of the simulated outcomes.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records instead of a table.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines on stderr.")] = False,
) -> None:
    """Fit the runs, choose the next runs to train (preposterior analysis), write them as a CSV.

    Example: next runs.csv --at 5.76e23 --budget 1e21 --k 3 -o next_runs.csv
    """
    check_output(output)
    numbers = {"at": parse_number(at, "--at"), "budget": parse_number(budget, "--budget"),
               "per_run": None if per_run is None else parse_number(per_run, "--per-run")}
    if runs_path.suffix == ".nc":
        fitted = load_fit_file(runs_path)
    else:
        with user_errors(), warnings_to_stderr(), lines_to_stderr(not quiet):
            runs = load_runs(runs_path, **parse_columns(col))
            fitted = commands.fit_law(runs, law=law, seed=seed, progress=False)
    with user_errors(), warnings_to_stderr():
        cost = CostModel(flops_per_token=fitted.runs.flops_per_token, n_ctx=n_ctx)
        table = plan(fitted, target=target, k=k, output=output, shape=ShapeRule(aspect_ratio=aspect_ratio),
                     cost=cost, seed=seed, **numbers)
    if not fitted.diagnostics.ok:
        err(f"warning: the fit's diagnostics are not ok ({diagnostics_line(fitted)})")
    if as_json:
        print_json(records(table))
        return
    typer.echo(f"Next runs for {table.attrs['target']} ({table.attrs['measure']} now "
               f"{table.attrs['uncertainty_now']:.3g}); written to {output}:")
    typer.echo(format_table(table))
