"""A CLI fit piped to a file says what it is doing, one line per phase on stderr; ``--quiet`` silences
it; nothing else reaches stderr (no PyMC or numpy chatter). Real sampler, fresh process (issue 18)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _fit(runs_csv, tmp_path, *extra):
    cmd = [sys.executable, "-m", "bayes_scaling.cli", "fit", str(runs_csv), "-o", str(tmp_path / "fit.nc"),
           "--col", "N=params", "--col", "D=tokens", "--col", "loss=val_loss",
           "--seed", "1", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_piped_fit_prints_a_line_per_phase_and_quiet_silences(runs_csv, tmp_path):
    out = _fit(runs_csv, tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert lines and all(line.startswith("bayes-scaling: ") for line in lines), out.stderr
    text = "\n".join(lines)
    assert "compiled in" in text and "sampling 4 chains x (1000 tune + 1000 draws), 30 runs..." in text
    assert "sampling 4 chains x (1000 tune + 1000 draws), 30 runs: done in" in text
    start, tuned = text.index("30 runs..."), text.index("tuning done in")  # a line per phase: tune, then draws
    assert start < tuned < text.index("30 runs: done in") and "; drawing..." in text
    assert "diagnostics: " in text and "structural term" in text
    quiet = _fit(runs_csv, tmp_path, "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.startswith("fitted and saved law 'chinchilla'")
