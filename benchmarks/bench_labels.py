"""A hostile label (issue 17): the report of a fit whose group name is 100,000 characters long.

    .venv/bin/python benchmarks/bench_labels.py [--length 100000]

Times ``fit.report`` (HTML, with its figures) for the same mock two-group fit with ordinary group
names (the baseline, measured in the same run) and with one name ``--length`` characters long.
Before labels were shortened for figures, the long name took 142-208 s (issue 17's measurement);
the target is under 10% of that.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.decisions.test_groups import make_grouped_fit  # noqa: E402


def renamed(fit, new: str):
    groups = tuple(new if g == "big_alpha" else g for g in fit.structure.groups)
    post = fit.posterior.copy()
    post["posterior"] = post["posterior"].to_dataset().assign_coords(group=list(groups))
    data = fit.runs.data.assign(group=fit.runs.data["group"].replace({"big_alpha": new}))
    return dataclasses.replace(fit, posterior=post, runs=dataclasses.replace(fit.runs, data=data),
                               structure=dataclasses.replace(fit.structure, groups=groups))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--length", type=int, default=100_000)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    fit = make_grouped_fit()
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        cases = (("ordinary names", fit), (f"a {args.length:,}-character name", renamed(fit, "x" * args.length)))
        for name, f in cases:
            t = time.perf_counter()
            path = f.report(Path(tmp) / "r.html", budgets=[1e24])
            times[name] = time.perf_counter() - t
            size = path.stat().st_size
            print(f"{name:32s} {times[name]:7.1f} s  {size / 1e6:6.2f} MB", flush=True)
    base = times["ordinary names"]
    long = max(times.values())
    print(f"ratio {long / base:.2f}; against issue 17's 142 s: {long / 142:.1%} (target < 10%)")


if __name__ == "__main__":
    main()
