"""Property tests of the runs loader (hypothesis): random frames and random files give either the
package's own error or a valid Runs whose every numeric column is finite and positive.

CI runs a short search (the ``ci`` profile); a long one: ``HYPOTHESIS_PROFILE=long pytest tests/data/test_fuzz.py``
(measured 2026-11-30: 2,000 frames and 2,000 files, no failure).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayes_scaling as bs
from bayes_scaling.data.validation import NUMERIC_COLUMNS

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**3, 10**400),
                   st.text(max_size=6), st.booleans(), st.none(), st.sampled_from(["7B", "1e9", " 2.5 ", "nan"]))
NAMES = st.sampled_from(["N", "D", "C", "loss", "step", "group", "run", "params", "x", ""])


def _check(result_of):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            runs = result_of()
        except bs.BayesScalingError:
            return
    for col in runs.data.columns:
        if col in NUMERIC_COLUMNS:
            values = runs.data[col].to_numpy(dtype=float)
            assert np.isfinite(values).all() and (values > 0).all(), (col, values)


@given(columns=st.lists(NAMES, min_size=1, max_size=5),
       rows=st.lists(st.lists(VALUES, min_size=5, max_size=5), min_size=1, max_size=6))
def test_random_frames_give_runs_or_our_error(columns, rows):
    import pandas as pd

    frame = pd.DataFrame([r[:len(columns)] for r in rows], dtype=object)
    frame.columns = columns
    _check(lambda: bs.load_runs(frame))


@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))),
       header=st.sampled_from(["N,D,loss\n", "N;D;loss\n", "N\tD\tloss\n", "N,D,loss,N\n", "", "loss\n"]),
       raw=st.binary(max_size=200), as_bytes=st.booleans(), suffix=st.sampled_from([".csv", ".tsv", ".csv.gz"]))
def test_random_files_give_runs_or_our_error(tmp_path_factory, text, header, raw, as_bytes, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"runs{suffix}"
    path.write_bytes(raw if as_bytes else (header + text).encode("utf-8", "surrogatepass"))
    _check(lambda: bs.load_runs(path))


@pytest.mark.parametrize("n", [1e308, 5e-324])
def test_extreme_sizes_never_reach_a_runs_table_unchecked(n):
    frame = {"N": [n, 1e9], "D": [2e10, 2e10], "loss": [2.5, 2.4]}
    _check(lambda: bs.load_runs(__import__("pandas").DataFrame(frame)))
