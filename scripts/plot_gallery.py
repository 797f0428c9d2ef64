#!/usr/bin/env python
"""Write every plot of ``bayes_scaling.plots`` as PNGs, for looking at them.

By default the plots are drawn for mock fits (posteriors centred on known parameters, built
without the sampler, so this takes seconds): a Chinchilla fit, Kaplan L(N), L(C) and L(N, S)
fits and a hierarchical Chinchilla fit with three families. ``--fit FILE`` adds the plots of
a saved fit (``fit.save("fit.nc")``).

    python scripts/plot_gallery.py gallery/            # then open gallery/*.png
    python scripts/plot_gallery.py gallery/ --fit fit.nc
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import bayes_scaling as bs  # noqa: E402
from bayes_scaling import plots  # noqa: E402

CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
FAMILIES = {"base": dict(E=1.69, alpha=0.34), "wide": dict(E=1.75, alpha=0.37), "code": dict(E=1.60, alpha=0.31)}


def _posterior(law, runs, truth, *, structure=None, groups=None, draws=500, chains=4, rel_sd=0.01, seed=0):
    """A DataTree shaped like a sampled posterior, centred on ``truth`` (no sampler)."""
    import xarray as xr

    from bayes_scaling.posterior.inference import complete_tree
    from bayes_scaling.pymc_model.build import ref_name

    rng = np.random.default_rng(seed)
    shape = (chains, draws)
    post, coords = {}, {"chain": np.arange(chains), "draw": np.arange(draws)}
    varying = structure.varying if structure is not None else ()
    for name, p in law.parameters.items():
        if name in varying:
            vals = np.stack([groups[g][name] * np.exp(rel_sd * rng.standard_normal(shape))
                             for g in structure.groups], -1)
            post[name] = (("chain", "draw", "group"), vals)
            post[f"{name}_mu"] = (("chain", "draw"), np.exp(np.log(vals).mean(-1)))
            coords["group"] = list(structure.groups)
        else:
            post[name] = (("chain", "draw"), truth[name] * np.exp(rel_sd * rng.standard_normal(shape)))
            if p.reference is not None:
                post[ref_name(name)] = (("chain", "draw"), np.log(post[name][1]))
    post["sigma"] = (("chain", "draw"), 0.01 * np.exp(0.05 * rng.standard_normal(shape)))
    post["nu"] = (("chain", "draw"), 10 * np.exp(0.05 * rng.standard_normal(shape)))
    tree = xr.DataTree()
    tree["posterior"] = xr.DataTree(xr.Dataset(post, coords=coords))
    tree["sample_stats"] = xr.DataTree(xr.Dataset({"diverging": (("chain", "draw"), np.zeros(shape, bool))},
                                                  coords={k: coords[k] for k in ("chain", "draw")}))
    return complete_tree(tree, law, runs, "student_t", structure)


def mock_fit(law_name, truth, design, *, noise=0.01, seed=0, groups=None, pooled=None):
    from bayes_scaling import Fit
    from bayes_scaling.posterior.diagnostics import diagnose
    from bayes_scaling.pymc_model.structure import Structure, resolve_structure

    law = bs.load_law(law_name)
    if groups is None:
        frame = bs.simulate(law, truth, design, noise=noise, seed=seed)
    else:
        frame = pd.concat([bs.simulate(law, {**truth, **p}, design, noise=noise, seed=seed + i).assign(group=g)
                           for i, (g, p) in enumerate(groups.items())], ignore_index=True)
    runs = bs.load_runs(frame)
    structure = resolve_structure(runs, law, pooled, run_effect=False) if pooled else Structure()
    tree = _posterior(law, runs, truth, structure=structure, groups=groups, seed=seed)
    names = [v for v in tree["posterior"].data_vars]
    return Fit(posterior=tree, runs=runs, law=law, likelihood="student_t",
               settings={"sampler": "mock", "seed": seed}, diagnostics=diagnose(tree, names), structure=structure)


def mock_fits() -> dict[str, bs.Fit]:
    from bayes_scaling.data.synthetic import chinchilla_design, log_grid

    design = chinchilla_design(60, N=(5e7, 5e9), tokens_per_param=(3.0, 150.0), seed=1)
    kaplan_ns = pd.DataFrame({"N": np.repeat(log_grid(1e6, 1e9, 8), 12),
                              "step": np.tile(log_grid(1e3, 2e5, 12), 8)})
    return {
        "chinchilla": mock_fit("chinchilla", CHINCHILLA, design),
        "kaplan_n": mock_fit("kaplan_n", {"alpha_N": 0.076, "Nc": 8.8e13}, {"N": log_grid(1e6, 1e10, 20)}),
        "kaplan_c": mock_fit("kaplan_c", {"alpha_C": 0.05, "Cc": 2.6e8 * 8.64e19},
                             {"C": log_grid(1e17, 1e21, 20)}),
        "kaplan_ns": mock_fit("kaplan_ns", {"alpha_N": 0.076, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}, kaplan_ns),
        "families": mock_fit("chinchilla", CHINCHILLA, chinchilla_design(25, seed=2), groups=FAMILIES,
                             pooled=["alpha", "E"]),
    }


def write(fig, path: Path, dpi: int) -> None:
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    print(f"  {path}")


def gallery(fits: dict, out: Path, dpi: int) -> None:
    budgets = [1e21, 1e22, 5.76e23]
    for name, fit in fits.items():
        print(f"{name}:")
        t = time.perf_counter()
        nd = {"N", "D"} <= set(fit.law.inputs.values())
        write(plots.plot_fit(fit, budgets=budgets if nd or "C" in fit.law.inputs.values() else None),
              out / f"{name}_fit.png", dpi)
        if nd:
            write(plots.plot_isoflop(fit, [1e19, 1e20, 1e21, 1e22]), out / f"{name}_isoflop.png", dpi)
            write(plots.plot_frontier(fit, budgets=budgets), out / f"{name}_frontier.png", dpi)
        write(plots.plot_residuals(fit), out / f"{name}_residuals.png", dpi)
        write(plots.plot_posterior(fit), out / f"{name}_posterior.png", dpi)
        write(plots.plot_ppc(fit), out / f"{name}_ppc.png", dpi)
        if name in ("chinchilla", "families", "kaplan_ns") or name.startswith("saved"):
            write(plots.plot_prior_posterior(fit), out / f"{name}_prior_posterior.png", dpi)
        if fit.structure.varying:
            write(plots.plot_families(fit, C=1e23), out / f"{name}_families.png", dpi)
            write(plots.plot_fit(fit, group=fit.groups[0]), out / f"{name}_fit_{fit.groups[0]}.png", dpi)
        print(f"  ({time.perf_counter() - t:.1f} s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the PNGs (created)")
    parser.add_argument("--fit", type=Path, action="append", default=[], help="a saved fit (.nc) to plot too")
    parser.add_argument("--dpi", type=int, default=110)
    parser.add_argument("--only-saved", action="store_true", help="skip the mock fits")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    fits = {} if args.only_saved else mock_fits()
    for i, path in enumerate(args.fit):
        fits[f"saved{i}_{path.stem}"] = bs.load_fit(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        gallery(fits, args.out, args.dpi)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
