"""An instant CLI (issue 19): the reading commands on a saved fit against `import pandas, xarray`.

    .venv/bin/python benchmarks/bench_cli.py [--fit fit.nc] [--repeats 11]

Without ``--fit`` it first fits Epoch's Chinchilla runs (the default fit: law + structural term,
``BAYES_SCALING_DATA`` or ``../shared/data`` as the mirror) and saves it. Then each command runs
``--repeats`` times in a fresh process (the console script, as a user's shell runs it), alternated
with the baseline ``python -c "import pandas, xarray"``; the table shows medians and the ratio to the
baseline's median from the same run (target: at most 2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "bayes-scaling"
TARGET = 2.0


def commands(fit: Path) -> dict[str, list[str]]:
    return {
        "`python -c \"import pandas, xarray\"` (baseline)": [sys.executable, "-c", "import pandas, xarray"],
        "`bayes-scaling --help`": [str(BIN), "--help"],
        "`laws`": [str(BIN), "laws"],
        "`summary fit.nc`": [str(BIN), "summary", str(fit)],
        "`predict fit.nc --N 7e10 --D 1.4e12`": [str(BIN), "predict", str(fit), "--N", "7e10", "--D", "1.4e12"],
        "`allocate fit.nc --C 5.76e23`": [str(BIN), "allocate", str(fit), "--C", "5.76e23"],
    }


#: As on a user's machine, Python caches bytecode (this sandbox sets PYTHONDONTWRITEBYTECODE=1, with which
#: every fresh process compiles the package's changed sources again); the same for every command here.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=ENV)
    return time.perf_counter() - t0


def make_fit(folder: Path) -> Path:
    import bayes_scaling as bs

    os.environ.setdefault("BAYES_SCALING_DATA", str(ROOT.parent / "shared" / "data"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(bs.datasets.load("chinchilla_epoch"), law="chinchilla", seed=1, progress=False)
    return fit.save(folder / "epoch.nc")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", type=Path, help="a saved fit (default: fit Epoch's runs first)")
    ap.add_argument("--repeats", type=int, default=11)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fit = args.fit or make_fit(Path(tmp))
        cmds = commands(fit)
        for cmd in cmds.values():  # warm the OS file cache and the bytecode once
            timed(cmd)
        times = {name: [] for name in cmds}
        for _ in range(args.repeats):
            for name, cmd in cmds.items():
                times[name].append(timed(cmd))
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = next(iter(medians.values()))
    print(f"Medians of {args.repeats} fresh processes each, interleaved; the ratio is to the baseline's median "
          f"in this run (target <= {TARGET:g}).\n")
    print("| command | median s | range s | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for i, (name, m) in enumerate(medians.items()):
        verdict = "" if i == 0 else ("met" if m / base <= TARGET else "missed")
        print(f"| {name} | {m:.2f} | {min(times[name]):.2f}-{max(times[name]):.2f} | {m / base:.2f} | {verdict} |")


if __name__ == "__main__":
    main()
