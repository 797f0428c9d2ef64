"""Fit -> a self-contained report (HTML with inline images, or Markdown): one call, table plus prose.

Sections: the question and the answer in two sentences, the data with units
and ranges, the sampler's verdict, parameters, extrapolation and allocation
tables, budget questions (with ``target_loss`` or ``plans``), family
comparison (with groups), law comparison (with ``compare_with``), the plots,
caveats (decades beyond the data, non-interior optima, sampler problems) and
a reproducibility footer (versions, seed, sha256 of the runs, law spec).

Templates are files in ``bayes_scaling/templates`` rendered with jinja2;
every user-provided string is escaped (HTML autoescape; a Markdown filter
that escapes HTML and table pipes).
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .fit import Fit

__all__ = ["write_report", "report_context"]

_TEMPLATES = Path(__file__).with_name("templates")


def fmt(x: Any, digits: int = 3) -> str:
    """A number for prose and tables: 3 significant digits, exponent for large/small values."""
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


def _interval(row, name: str) -> str:
    return f"{fmt(row[name + '_median'])} ({fmt(row[name + '_lower'])}–{fmt(row[name + '_upper'])})"


def _table(frame: pd.DataFrame, index: bool = False) -> dict[str, Any]:
    """A DataFrame as header + rows of strings (formatted numbers; escaping is the template's job)."""
    frame = frame.reset_index() if index else frame
    return {"header": [str(c) for c in frame.columns],
            "rows": [[fmt(v) for v in row] for row in frame.itertuples(index=False, name=None)]}


def _intervals(frame: pd.DataFrame, first: list[str], names: list[str], last: list[str],
               rename: dict[str, str] | None = None) -> pd.DataFrame:
    """A compact table: ``first`` columns, each ``name`` as "median (lower–upper)", then ``last``."""
    out = frame[first].copy()
    for name in names:
        out[(rename or {}).get(name, name)] = [_interval(r, name) for _, r in frame.iterrows()]
    return pd.concat([out, frame[last]], axis=1)


def _figure_png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _plots(fit: "Fit", budgets: Sequence[float], has_nd: bool) -> list[dict[str, Any]]:
    """Each plot as {title, png bytes} or {title, error} (a plot that fails never sinks the report)."""
    from . import plots

    jobs = [("Fit to the data and extrapolation", lambda: plots.plot_fit(fit, budgets=budgets))]
    if has_nd and not fit.structure.varying:
        jobs += [("IsoFLOP curves", lambda: plots.plot_isoflop(fit, budgets)),
                 ("Compute-optimal frontier", lambda: plots.plot_frontier(fit, budgets=budgets))]
    if fit.structure.varying:
        jobs.append(("Families", lambda: plots.plot_families(fit, C=max(budgets))))
    jobs += [("Posterior of the parameters", lambda: plots.plot_posterior(fit)),
             ("Prior and posterior", lambda: plots.plot_prior_posterior(fit)),
             ("Posterior predictive check", lambda: plots.plot_ppc(fit)),
             ("Residuals", lambda: plots.plot_residuals(fit))]
    out = []
    for title, make in jobs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append({"title": title, "png": _figure_png(make())})
        except Exception as exc:  # noqa: BLE001 - reported in the report's caveats
            out.append({"title": title, "error": f"{type(exc).__name__}: {exc}"})
    return out


def report_context(fit: "Fit", *, budgets=None, target_loss=None, plans=None, prob: float = 0.9,
                   title: str | None = None, compare_with: Sequence["Fit"] | None = None,
                   plots: bool = True) -> dict[str, Any]:
    """Everything the templates show, computed once (numbers, tables, prose, plot images)."""
    from .decisions import DecisionWarning

    runs = fit.runs
    has_nd = {"N", "D"} <= set(fit.law.inputs.values())
    c_obs = (runs.values("C") if runs.has("C") else
             runs.flops_per_token * runs.values("N") * runs.values("D") if has_nd else None)
    if budgets is None:
        budgets = [10 * c_obs.max(), 100 * c_obs.max()] if c_obs is not None else []
    budgets = [float(b) for b in np.atleast_1d(budgets)]
    ctx: dict[str, Any] = {"title": title or f"Scaling-law report: {fit.law.title}", "prob": prob,
                           "prob_pct": f"{prob:.0%}", "law": fit.law, "fit": fit, "caveats": []}
    d = fit.diagnostics
    ctx["verdict"], ctx["diagnostics"] = d.verdict, str(d).splitlines()
    if not d.ok:
        ctx["caveats"].append(f"The sampler's diagnostics are {d.verdict.upper()}: {str(d).splitlines()[0]}. "
                              "Treat every number below with care until it passes.")
    ctx["caveats"] += [f"Model check: {c}" for c in d.checks]
    ctx["likelihood_choice"] = fit.settings.get("likelihood_choice", "")
    ctx["data"] = _table(runs.describe(), index=True)
    ctx["n_runs"], ctx["dropped"] = len(runs), runs.dropped
    ctx["groups"] = list(fit.structure.groups)
    ctx["parameters"] = _table(fit.summary(prob), index=True)
    target = fit if not fit.structure.varying and fit.discrepancy is None else None
    if fit.discrepancy is not None:
        ctx["caveats"].append("This fit has a model discrepancy (a Gaussian process beside the law): its "
                              "predictions allow for the law's form being off, but the allocation and the "
                              "other decisions, which optimise the law alone, are not shown.")
    answer = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DecisionWarning)
        if has_nd and target is not None and budgets:
            alloc = target.allocate(budgets, prob=prob)
            ctx["allocation"] = _table(_intervals(alloc, ["C"], ["N_opt", "D_opt", "tokens_per_param", "loss_opt"],
                                                  ["n_not_interior", "decades_beyond_data"]))
            ctx["exponents"] = {k: _interval(alloc.iloc[0], k) for k in ("a", "b")}
            first = alloc.iloc[0]
            answer.append(f"At {fmt(first['C'])} FLOPs the compute-optimal model has {_interval(first, 'N_opt')} "
                          f"parameters trained on {_interval(first, 'D_opt')} tokens, and reaches loss "
                          f"{_interval(first, 'loss_opt')} ({prob:.0%} intervals).")
            pred = target.predict(N=alloc["N_opt_median"].to_numpy(), D=alloc["D_opt_median"].to_numpy(), prob=prob)
            predictive = target.predict(N=alloc["N_opt_median"].to_numpy(), D=alloc["D_opt_median"].to_numpy(),
                                        prob=prob, kind="predictive")
            extra = pred[["N", "D", "C"]].assign(
                loss=[_interval(r, "loss") for _, r in pred.iterrows()],
                loss_new_run=[_interval(r, "loss") for _, r in predictive.iterrows()],
                decades_beyond_data=pred["decades_beyond_data"])
            ctx["extrapolation"] = _table(extra)
            far = float(alloc["decades_beyond_data"].max())
            if far > 0:
                ctx["caveats"].append(f"The largest budget lies {far:.1f} decades beyond the observed compute; "
                                      "the intervals assume the law holds out there.")
            if alloc["n_not_interior"].any():
                ctx["caveats"].append(f"Up to {int(alloc['n_not_interior'].max())} posterior draws have no interior "
                                      "optimum at some budget; they are left out of the allocation intervals.")
        if target_loss is not None and has_nd and target is not None:
            try:
                need = target.compute_for_target(target_loss, prob=prob)
                r = need.iloc[0]
                ctx["budget_target"] = _table(_intervals(need, ["target", "prob", "C", "N", "D"],
                                                         ["C", "N_opt", "D_opt"],
                                                         ["frac_unreachable", "decades_beyond_data"],
                                                         rename={"C": "C (law uncertainty)"}))
                answer.append(f"Reaching loss ≤ {fmt(r['target'])} with probability {prob:.0%} needs "
                              f"{fmt(r['C'])} FLOPs (N = {fmt(r['N'])}, D = {fmt(r['D'])}); the law's uncertainty "
                              f"alone spans {fmt(r['C_lower'])}–{fmt(r['C_upper'])} FLOPs.")
            except ValueError as exc:
                ctx["caveats"].append(f"Target loss {fmt(target_loss)}: {exc}")
        if plans is not None and has_nd and target is not None:
            cmp = target.compare_plans(plans, prob=prob)
            head = [c for c in cmp.columns if c in ("name", "N", "D", "C", "tokens_per_param")
                    or not any(c.startswith(p) for p in ("loss_", "regret_", "p_best", "N_opt", "n_not", "decades"))]
            ctx["plans"] = _table(_intervals(cmp, list(dict.fromkeys(head)), ["loss", "regret"],
                                             ["p_best", "regret_mean", "decades_beyond_data"]))
    for w in caught:
        if issubclass(w.category, DecisionWarning):
            ctx["caveats"].append(str(w.message))
    if fit.structure.varying:
        c_top = max(budgets) if budgets else None
        point = {"C": c_top, "N": np.sqrt(c_top / runs.flops_per_token / 20)} if has_nd and c_top else None
        if point:
            ctx["families"] = _table(fit.rank_groups(**point, prob=prob))
            ranks = fit.rank_groups(**point, prob=prob)
            best = ranks.iloc[0]
            answer.append(f"At {fmt(c_top)} FLOPs (20 tokens per parameter) family {best['group']} is best with "
                          f"probability {best['p_best']:.0%}.")
    if compare_with:
        from .compare import compare

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = compare([fit, *compare_with], refit=False)
        ctx["laws"] = _table(table, index=True)
    if not answer:
        pred = fit.predict(**{c: runs.values(c)[-1:] for c in fit.law.inputs.values()}, prob=prob)
        answer.append(f"The fitted law reproduces the last run's {fit.law.response} as "
                      f"{_interval(pred.iloc[0], fit.law.response)}.")
    ctx["answer"] = answer
    plot_budgets = budgets or ([10 * float(c_obs.max())] if c_obs is not None else [])
    ctx["plots"] = _plots(fit, plot_budgets, has_nd) if plots else []
    for p in ctx["plots"]:
        if "png" in p:
            p["data_uri"] = "data:image/png;base64," + base64.b64encode(p["png"]).decode("ascii")
        else:
            ctx["caveats"].append(f"Plot '{p['title']}' could not be drawn: {p['error']}")
    ctx["footer"] = {"versions": fit.versions, "seed": fit.settings.get("seed"), "sha256": runs.sha256(),
                     "law_spec": json.dumps(json.loads(fit.law.to_json()), indent=2),
                     "likelihood": fit.likelihood, "structure": json.dumps(fit.structure.to_dict()),
                     "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    return ctx


def _md_escape(text: Any) -> str:
    s = str(text)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        s = s.replace(a, b)
    return s


def write_report(fit: "Fit", path: str | Path, **kwargs) -> Path:
    """Write the report for ``fit``: self-contained HTML, or Markdown (``.md``, images beside it).

    Keyword arguments are those of :func:`report_context` (``budgets``,
    ``target_loss``, ``plans``, ``prob``, ``title``, ``compare_with``).
    """
    import jinja2

    path = Path(path)
    kind = "md" if path.suffix.lower() in (".md", ".markdown") else "html"
    if kind == "html" and path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"report path must end in .html or .md, got {path.name!r}")
    ctx = report_context(fit, **kwargs)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]) if kind == "html" else False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = _md_escape
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "md":
        folder = path.with_name(path.stem + "_files")
        folder.mkdir(exist_ok=True)
        for i, p in enumerate(ctx["plots"]):
            if "png" in p:
                name = f"plot{i + 1}.png"
                (folder / name).write_bytes(p["png"])
                p["file"] = f"{folder.name}/{name}"
        text = env.get_template("report.md.j2").render(**ctx)
    else:
        text = env.get_template("report.html.j2").render(**ctx)
    path.write_text(text, encoding="utf-8")
    return path
