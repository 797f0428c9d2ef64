"""Run the benchmarks with generated tables and rewrite their sections of benchmarks/README.md.

    .venv/bin/python benchmarks/run_all.py                 # all of them (about 60-90 min on 2 cores)
    .venv/bin/python benchmarks/run_all.py calibration sbc # some of them
    .venv/bin/python benchmarks/run_all.py --print         # print, leave the README alone

Each benchmark prints Markdown; it replaces the text between the ``<!-- begin: NAME -->`` and
``<!-- end: NAME -->`` markers of its README section (the section, with a heading, is appended
at the end of the README the first time). Everything outside the markers is left as it is.
Arguments after ``--`` go to every benchmark (e.g. ``-- --data ../shared/data``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
BENCHMARKS = {
    "checkpoints": ("bench_checkpoints.py", "Checkpoints: 10^5 rows, time to a converged posterior and peak memory"),
    "calibration": ("bench_calibration.py",
                    "Calibration: backtest on Epoch's Chinchilla data, ours vs Huber + bootstrap"),
    "sbc": ("bench_sbc.py", "Simulation-based calibration of chinchilla and kaplan_nd"),
    "trust": ("bench_trust.py", "Trustworthy by default: convergence, coverage beyond the data, allocation, SBC"),
    "accept": ("bench_accept.py", "Target acceptance after the Laplace start: leapfrog steps, ESS and R-hat"),
    "floor": ("bench_floor.py", "One gradient of the 10^5-row Student-t fit: before, now, a floor, the Normal fit's"),
    "mixture": ("bench_mixture.py", "Student-t as a scale mixture: Gibbs on the latent precisions against NUTS"),
    "cli": ("bench_cli.py", "An instant CLI: the reading commands on a saved fit against `import pandas, xarray`"),
}
ISSUES = {"checkpoints": 7, "calibration": 7, "sbc": 7, "trust": 15, "cli": 19, "accept": 19, "floor": 19,
          "mixture": 19}
_DATA_ARGS = {"calibration", "trust"}  # benchmarks that take --data


def run(name: str, extra: list[str]) -> str:
    script, _ = BENCHMARKS[name]
    args = [a for a in extra if name in _DATA_ARGS or not a.startswith("--data")]
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True,
                         cwd=HERE.parent, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seconds = time.perf_counter() - t0
    stamp = (f"_Generated {datetime.date.today().isoformat()} by `python benchmarks/run_all.py {name}` "
             f"({seconds / 60:.1f} min) on {platform.machine()} with {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, {_versions()}._")
    body = out.stdout.strip()
    if out.returncode != 0:
        tail = "\n".join(out.stderr.strip().splitlines()[-15:])
        body += f"\n\n**The benchmark failed (exit code {out.returncode}):**\n\n```\n{tail}\n```"
    return f"{stamp}\n\n{body}\n"


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for pkg in ("pymc", "nutpie", "jax", "numpyro", "dask"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            pass
    return ", ".join(parts)


def replace_section(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- begin: {name} -->", f"<!-- end: {name} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    block = f"{begin}\n{body}{end}"
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    script, title = BENCHMARKS[name]
    head = (f"\n## `{script}` — {title} (issue {ISSUES[name]})\n\n```bash\n.venv/bin/python benchmarks/{script}\n"
            "```\n\n")
    return text.rstrip("\n") + "\n" + head + block + "\n"


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--print", action="store_true", help="print the results; do not touch the README")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    if unknown := [n for n in names if n not in BENCHMARKS]:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    for name in names:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        body = run(name, extra)
        if args.print:
            print(body)
            continue
        README.write_text(replace_section(README.read_text(), name, body))  # re-read: others may edit it
        print(f"== {name}: README section rewritten", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
