"""Unit tests for bayes_scaling.data.runs: mapping, derivation, no silent change, Runs, law checks (fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_scaling.data.runs import (
    Problem,
    Runs,
    RunsValidationError,
    check_runs_for_law,
    load_runs,
    runs_from_frame,
)


def canonical_frame(n: int = 8, index=None) -> pd.DataFrame:
    """A valid chinchilla-style table with canonical names: N, D, C = 6ND, loss, run."""
    N = np.array([1e8, 2e8, 4e8, 8e8] * (n // 4 + 1))[:n]
    D = np.array([2e9] * 4 + [8e9] * 4 + [3e10] * (n))[:n]
    loss = 1.7 + 400 / N**0.34 + 410 / D**0.28
    return pd.DataFrame({"N": N, "D": D, "C": 6 * N * D, "loss": loss,
                         "run": [f"r{i}" for i in range(n)]}, index=index)


def user_frame(n: int = 8, index=None) -> pd.DataFrame:
    """The same table under user column names (no D column)."""
    frame = canonical_frame(n, index)
    return pd.DataFrame({"Model Size": frame["N"], "Training FLOP": frame["C"], "Final loss": frame["loss"]})


USER_MAP = {"N": "Model Size", "C": "Training FLOP", "loss": "Final loss"}


def problems_of(excinfo) -> list[Problem]:
    return excinfo.value.problems


# ----------------------------------------------------------------------------- mapping and derivation
def test_mapping_user_columns_and_deriving_D():
    frame = user_frame()
    runs = load_runs(frame, **USER_MAP)
    assert list(runs.data.columns) == ["N", "D", "C", "loss"]
    assert runs.columns == USER_MAP
    assert runs.derived == {"D": "D = C / (6·N)"}
    assert runs.source_name("N") == "Model Size" and runs.source_name("D") == "D"
    assert runs.units == {"N": "parameters", "D": "tokens", "C": "FLOPs", "loss": "nats/token"}
    np.testing.assert_allclose(runs.values("D"), canonical_frame()["D"].to_numpy(), rtol=1e-15)
    assert runs.values("N").dtype == np.float64 and len(runs) == 8


def test_derive_C_from_N_and_D_with_custom_flops_per_token():
    frame = canonical_frame().drop(columns="C")
    runs = load_runs(frame, flops_per_token=8.0)
    assert runs.derived == {"C": "C = 8·N·D"} and runs.flops_per_token == 8.0
    np.testing.assert_array_equal(runs.values("C"), 8.0 * frame["N"].to_numpy() * frame["D"].to_numpy())
    assert "C" not in runs.columns


def test_derive_D_from_C_with_custom_flops_per_token():
    frame = canonical_frame().drop(columns="D")
    runs = load_runs(frame, flops_per_token=2.5)
    assert runs.derived == {"D": "D = C / (2.5·N)"}
    np.testing.assert_allclose(runs.values("D"), frame["C"] / (2.5 * frame["N"]), rtol=1e-15)


def test_derive_N_from_C_and_D():
    frame = canonical_frame().drop(columns="N")
    assert load_runs(frame).derived == {"N": "N = C / (6·D)"}
    runs = load_runs(frame, flops_per_token=4.0)
    assert runs.derived == {"N": "N = C / (4·D)"}
    np.testing.assert_allclose(runs.values("N"), 1.5 * canonical_frame()["N"], rtol=1e-12)


def test_no_N_D_C_is_fine_at_load_time():
    runs = load_runs(pd.DataFrame({"B_crit": [1e5, 2e5, 4e5], "loss": [3.0, 2.5, 2.2]}))
    assert runs.derived == {} and list(runs.data.columns) == ["loss", "B_crit"]


@pytest.mark.parametrize("bad", [0, -6, float("nan"), float("inf")])
def test_flops_per_token_must_be_positive_finite(bad):
    with pytest.raises(ValueError, match="flops_per_token must be finite and > 0"):
        load_runs(canonical_frame(), flops_per_token=bad)


def test_unknown_canonical_keyword_suggests():
    with pytest.raises(ValueError) as excinfo:
        load_runs(canonical_frame(), los="loss")
    text = str(excinfo.value)
    assert "'los'" in text and "did you mean 'loss'" in text and "N, D, C, loss, group, run" in text


def test_mapped_column_not_found_lists_available_and_suggests():
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(user_frame(), N="Model Sise", C="Training FLOP", loss="Final loss")
    (problem,) = problems_of(excinfo)
    assert problem.column == "Model Sise" and problem.canonical == "N"
    assert "column 'Model Sise' (N) not found" in problem.message
    assert "'Model Size', 'Training FLOP', 'Final loss'" in problem.message
    assert "did you mean 'Model Size'?" in problem.message


def test_missing_loss_is_a_problem():
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(canonical_frame().drop(columns="loss"))
    (problem,) = problems_of(excinfo)
    assert "missing required column 'loss' (map yours with loss='your column'" in problem.message


def test_canonical_column_used_without_mapping():
    frame = user_frame().rename(columns={"Final loss": "loss"})
    runs = load_runs(frame, N="Model Size", C="Training FLOP")
    assert runs.columns["loss"] == "loss"
    np.testing.assert_array_equal(runs.values("loss"), frame["loss"].to_numpy())


def test_repeated_source_column_is_a_problem():
    frame = pd.DataFrame([[1e8, 3.0, 3.1], [2e8, 2.9, 3.0]], columns=["N", "loss", "loss"])
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame)
    assert "column 'loss' appears 2 times" in str(excinfo.value)


# ----------------------------------------------------------------------------- no silent changes
def test_user_dataframe_is_not_modified():
    frame = user_frame(index=range(100, 108)).astype({"Model Size": object})
    frame.loc[101, "Model Size"] = " 2e8 "
    frame["Final loss"] = frame["Final loss"].astype(str)
    before = frame.copy(deep=True)
    runs = load_runs(frame, dropna=True, **USER_MAP)
    pd.testing.assert_frame_equal(frame, before, check_exact=True)
    assert runs.values("N")[1] == 2e8 and runs.data["loss"].dtype == np.float64


def test_index_labels_and_order_preserved():
    index = [107, 103, 100, 105, 101, 106, 102, 104]
    frame = user_frame(index=index)
    runs = load_runs(frame, **USER_MAP)
    assert runs.data.index.tolist() == index
    np.testing.assert_array_equal(runs.values("N"), frame["Model Size"].to_numpy())


def test_numeric_strings_are_converted():
    frame = canonical_frame().astype({"N": object, "loss": object})
    frame.loc[0, "N"] = "1e8"
    frame.loc[3, "loss"] = f" {frame.loc[3, 'loss']!r} "
    runs = load_runs(frame)
    np.testing.assert_array_equal(runs.values("N"), canonical_frame()["N"].to_numpy())
    np.testing.assert_array_equal(runs.values("loss"), canonical_frame()["loss"].to_numpy())


def test_labels_are_strings():
    frame = canonical_frame()
    frame["group"] = [1, 1, 2, 2, 3, 3, 4, 4]
    runs = load_runs(frame)
    assert runs.data["group"].tolist() == ["1", "1", "2", "2", "3", "3", "4", "4"]
    assert runs.values("run")[0] == "r0"


# ----------------------------------------------------------------------------- Runs methods
def test_sha256_stable_and_sensitive():
    runs = load_runs(user_frame(), **USER_MAP)
    again = load_runs(user_frame(), **USER_MAP)
    assert runs.sha256() == again.sha256() and len(runs.sha256()) == 64
    int(runs.sha256(), 16)
    changed = user_frame()
    changed.loc[5, "Final loss"] = np.nextafter(changed.loc[5, "Final loss"], 10.0)
    assert load_runs(changed, **USER_MAP).sha256() != runs.sha256()
    relabelled = user_frame(index=range(1, 9))
    assert load_runs(relabelled, **USER_MAP).sha256() != runs.sha256()


def test_describe_table():
    runs = load_runs(user_frame(), **USER_MAP)
    table = runs.describe()
    assert table.index.tolist() == ["N", "D", "C", "loss"]
    assert table.loc["N", "source"] == "Model Size" and table.loc["D", "source"] == "D = C / (6·N)"
    assert table.loc["C", "unit"] == "FLOPs" and table.loc["N", "min"] == 1e8
    assert table.loc["N", "max"] == 8e8 and table.loc["N", "n_distinct"] == 4


def test_values_of_absent_column_raises_clear_key_error():
    runs = load_runs(canonical_frame())
    with pytest.raises(KeyError, match="no column 'U'.*U='your column'"):
        runs.values("U")
    assert runs.has("C") and not runs.has("U")


def test_runs_from_frame_round_trip_and_revalidates():
    runs = load_runs(user_frame(index=range(100, 108)), **USER_MAP)
    rebuilt = runs_from_frame(runs.data, columns=runs.columns, derived=runs.derived,
                              flops_per_token=runs.flops_per_token)
    assert rebuilt == runs and rebuilt.data.index.tolist() == list(range(100, 108))
    broken = runs.data.copy()
    broken.loc[104, "N"] = -3.0
    expected = r"column 'Model Size' \(N\) must be > 0; found -3 at row 104"
    with pytest.raises(RunsValidationError, match=expected):
        runs_from_frame(broken, columns=runs.columns, derived=runs.derived)
    with pytest.raises(ValueError, match="canonical column names"):
        runs_from_frame(runs.data.rename(columns={"N": "Model Size"}))


# ----------------------------------------------------------------------------- check_runs_for_law
def test_law_check_passes_for_suitable_runs():
    runs = load_runs(canonical_frame())
    assert check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=5, law="chinchilla") is None


def test_law_check_missing_column_with_derivation_hint():
    runs = load_runs(canonical_frame().drop(columns=["D", "C"]))
    with pytest.raises(RunsValidationError) as excinfo:
        check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=5, law="chinchilla")
    (problem,) = problems_of(excinfo)
    assert str(excinfo.value).startswith("Runs cannot be fitted with law 'chinchilla' (1 problem):")
    assert "law 'chinchilla' needs column 'D'" in problem.message
    assert "load_runs(..., D='your column')" in problem.message
    assert "also map C=" in problem.message and "D = C / (6·N)" in problem.message


def test_law_check_too_few_runs():
    runs = load_runs(canonical_frame(5))
    with pytest.raises(RunsValidationError) as excinfo:
        check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=6, law="chinchilla")
    assert [p.message for p in problems_of(excinfo)] == [
        "law 'chinchilla' has 6 parameters; need at least 8 runs, got 5"]


def test_law_check_single_valued_input():
    frame = canonical_frame(12, index=range(100, 112))
    frame["D"], frame["C"] = 1e9, 6e9 * frame["N"]
    runs = load_runs(frame.rename(columns={"D": "tokens"}), D="tokens")
    with pytest.raises(RunsValidationError) as excinfo:
        check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=5, law="chinchilla")
    (problem,) = problems_of(excinfo)
    assert problem.column == "tokens"
    assert problem.message.startswith("column 'tokens' (D) has a single value 1e9 in all 12 rows")
    assert "rows 100, 101, 102, 103, 104 and 7 more" in problem.message
    assert "cannot separate its effect" in problem.message


def test_law_check_reports_all_problems_together():
    runs = load_runs(pd.DataFrame({"N": [1e8, 1e8, 1e8], "loss": [3.0, 2.9, 2.8]}))
    with pytest.raises(RunsValidationError) as excinfo:
        check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=5, law="chinchilla")
    canon = [p.canonical for p in problems_of(excinfo)]
    assert canon == ["D", "loss", "N"]
    assert "(3 problems)" in str(excinfo.value).splitlines()[0]


def test_law_check_rejects_non_canonical_names():
    runs = load_runs(canonical_frame())
    with pytest.raises(ValueError, match="unknown column"):
        check_runs_for_law(runs, inputs=("params",), response="loss", n_params=2, law="x")


def test_runs_is_frozen():
    runs = load_runs(canonical_frame())
    assert isinstance(runs, Runs)
    with pytest.raises(AttributeError):
        runs.dropped = 3
