"""The bad-input catalogue: every way of holding the package wrong that it must refuse, with the error
class and the place the message must name. ``tests/test_catalogue.py`` runs every case;
``python -m tests.catalogue --write docs/validation.md`` writes the docs page from it (a test checks
that the page is current).

A case is (area, what, call, error, place): ``call(tmp)`` (``tmp`` a fresh folder) must raise
exactly ``error`` (or a subclass) with a message matching the regular expression ``place``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import bayes_scaling as bs

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
P = {"dist": "LogNormal", "median": 1.5, "sigma": 0.5}


@dataclass(frozen=True)
class Case:
    area: str
    what: str
    call: Callable[[Path], object]
    error: type[BaseException]
    place: str


def runs_frame() -> pd.DataFrame:
    return pd.DataFrame({"N": [1e8, 3e8, 1e9, 3e9], "D": [2e9, 6e9, 2e10, 6e10], "loss": [3.1, 2.8, 2.5, 2.3],
                         "step": [100.0, 200.0, 300.0, 400.0]})


def _with(col: str, value) -> pd.DataFrame:
    frame = runs_frame().astype(object)
    frame.loc[2, col] = value
    return frame


_MOCK = {}


def mock():
    if "fit" not in _MOCK:
        from tests.helpers import mock_fit

        _MOCK["fit"] = mock_fit(draws=25)
    return _MOCK["fit"]


def _law(formula: str, params=None, inputs=None, **extra) -> dict:
    params = params if params is not None else {"E": {"prior": P}, "A": {"prior": P}, "gamma": {"prior": P}}
    return {"name": "mylaw", "inputs": inputs or {"C": "C"}, "formula": formula, "response": "loss",
            "parameters": params, **extra}


# ----------------------------------------------------------------------------- runs tables
def _runs_values() -> list[Case]:
    bad = [("0", 0.0, "must be > 0"), ("-1", -1.0, "must be > 0"), ("inf", np.inf, "infinite"),
           ("-inf", -np.inf, "infinite"), ("NaN", np.nan, "missing values"), ("text 'abc'", "abc", "non-numeric"),
           ("True", True, "non-numeric"), ("10**400 (a Python int)", 10**400, "non-numeric"),
           ("'7B'", "7B", "did you mean 7000000000"), ("None", None, "missing values"),
           ("a list", [1, 2], "non-numeric")]
    out = []
    for col in ("N", "D", "loss", "step"):
        for label, value, text in bad:
            out.append(Case("runs table", f"column {col} holds {label}",
                            lambda tmp, c=col, v=value: bs.load_runs(_with(c, v)),
                            bs.RunsValidationError, rf"column '{col}'.*{text}.*row 2|column '{col}'.*row 2.*"
                                                    rf"|column '{col}' {text}"))
    return out


def _runs_structure() -> list[Case]:
    f = runs_frame()
    dup = pd.concat([f, f.iloc[[0]]], ignore_index=True)
    twice = f.copy()
    twice.columns = ["N", "N", "loss", "step"]
    c_off = f.assign(C=6 * f["N"] * f["D"] * 3)
    rows = [
        ("a mapped column that is absent", lambda t: bs.load_runs(f, N="params"), bs.RunsValidationError,
         "column 'params' \\(N\\) not found; available columns"),
        ("a misspelt mapping", lambda t: bs.load_runs(f.rename(columns={"N": "n_params"}), N="n_param"),
         bs.RunsValidationError, "did you mean 'n_params'"),
        ("no loss column", lambda t: bs.load_runs(f.drop(columns="loss")), bs.RunsValidationError,
         "missing required column 'loss'"),
        ("an unknown keyword", lambda t: bs.load_runs(f, params="N"), bs.InputError, "params"),
        ("a column twice in a DataFrame", lambda t: bs.load_runs(twice), bs.RunsValidationError,
         "column 'N' appears 2 times"),
        ("identical rows", lambda t: bs.load_runs(dup), bs.RunsValidationError, "rows 0 and 4 are identical"),
        ("C disagreeing with 6ND", lambda t: bs.load_runs(c_off), bs.RunsValidationError,
         "column 'C' disagrees with C = 6·N·D"),
        ("derived C overflowing (N = 1e308)", lambda t: bs.load_runs(_with("N", 1e308)), bs.RunsValidationError,
         "column 'C' derived as C = 6·N·D .* not finite.*row 2"),
        ("derived D underflowing to 0 (C = 5e-324)",
         lambda t: bs.load_runs(pd.DataFrame({"N": [1e8, 1e9], "C": [5e-324, 1e19], "loss": [3.0, 2.5]})),
         bs.RunsValidationError, "column 'D' derived as D = C / \\(6·N\\).*row 0"),
        ("a source that is not a table", lambda t: bs.load_runs(42), bs.InputTypeError, "DataFrame or a path"),
        ("a list of rows", lambda t: bs.load_runs([{"N": 1}]), bs.InputTypeError, "DataFrame or a path"),
    ]
    ck = pd.DataFrame({"run": ["a", "a", "a", "b"], "step": [1.0, 2.0, 2.0, 1.0], "N": [1e8] * 4,
                       "D": [1e9, 2e9, 3e9, 1e9], "loss": [3.0, 2.9, 2.8, 3.1]})
    rows += [
        ("group labels 1 and '1'", lambda t: bs.load_runs(f.assign(group=[1, "1", "a", "a"])), bs.RunsValidationError,
         r"column 'group' has labels that read the same but differ in type \('1' and 1\)"),
        ("run labels True and 'True'", lambda t: bs.load_runs(f.assign(run=pd.Series([True, "True", "x", "y"],
                                                                                    dtype=object))),
         bs.RunsValidationError, r"column 'run' has labels that read the same but differ in type \('True' and True\)"),
        ("a group label Decimal('sNaN')", lambda t: bs.load_runs(f.assign(group=[__import__("decimal").Decimal("sNaN"),
                                                                                 "a", "b", "c"])),
         bs.RunsValidationError, "column 'group' has missing values at row 0"),
        ("a checkpoint step repeated within a run", lambda t: bs.load_runs(ck), bs.RunsValidationError,
         "column 'step' repeats a step within a run at rows 1 and 2"),
        ("tokens seen falling as the step rises",
         lambda t: bs.load_runs(ck.assign(step=[1.0, 2.0, 3.0, 1.0], D=[1e9, 3e9, 2e9, 1e9])),
         bs.RunsValidationError, "column 'D' falls while the step rises within a run at row 2"),
        ("no input column mapped", lambda t: bs.load_runs(f.rename(columns={"N": "params", "D": "tokens"})
                                                          .drop(columns="step")),
         bs.RunsValidationError, "no input column found.*'params', 'tokens'"),
    ]
    for label, value in (("None", None), ("-1", -1.0), ("NaN", np.nan), ("text", "x"), ("True", True)):
        rows.append((f"c_rtol = {label}", lambda t, v=value: bs.load_runs(f, c_rtol=v), bs.InputError, "c_rtol"))
    for label, value in (("0", 0.0), ("-6", -6.0), ("inf", np.inf), ("NaN", np.nan), ("text", "six"),
                         ("True", True)):
        rows.append((f"flops_per_token = {label}", lambda t, v=value: bs.load_runs(f, flops_per_token=v),
                     bs.InputError, "flops_per_token"))
    rows.append(("loss_warn_above = NaN", lambda t: bs.load_runs(f, loss_warn_above=np.nan), bs.InputError,
                 "loss_warn_above"))
    return [Case("runs table", *r) for r in rows]


def _write(tmp: Path, name: str, data: bytes | str) -> Path:
    path = tmp / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _runs_files() -> list[Case]:
    good = "N,D,loss\n1e8,2e9,3.1\n3e8,6e9,2.8\n1e9,2e10,2.5\n"
    rows = [
        ("an empty file", lambda t: bs.load_runs(_write(t, "r.csv", "")), bs.RunsFileError,
         r"r\.csv: the file is empty"),
        ("a file of blank lines", lambda t: bs.load_runs(_write(t, "r.csv", "\n\n  \n")), bs.RunsFileError,
         r"r\.csv: the file is empty"),
        ("a header that repeats a column", lambda t: bs.load_runs(_write(t, "r.csv", "N,D,loss,N\n1,2,3,4\n")),
         bs.RunsFileError, r"r\.csv: the header repeats column\(s\) 'N'"),
        ("a ragged line", lambda t: bs.load_runs(_write(t, "r.csv", good + "1e9,2e10,2.5,7,8\n")),
         bs.RunsFileError, r"r\.csv: .*line 5.*as many comma-separated fields as the header"),
        ("Latin-1 bytes", lambda t: bs.load_runs(_write(t, "r.csv", "N,D,loss,\xe9t\xe9\n1,2,3,4\n".encode("latin-1"))),
         bs.RunsFileError, r"r\.csv: not UTF-8 text \(byte 9 is 0xe9"),
        ("a missing file", lambda t: bs.load_runs(t / "nope.csv"), FileNotFoundError, r"nope\.csv"),
        ("an unsupported suffix", lambda t: bs.load_runs(_write(t, "r.xlsx", "x")), bs.InputError,
         r"r\.xlsx.*unsupported file type"),
        ("a damaged parquet file", lambda t: bs.load_runs(_write(t, "r.parquet", os.urandom(200))),
         bs.RunsFileError, r"r\.parquet: not a readable parquet file"),
        ("a damaged .csv.gz", lambda t: bs.load_runs(_write(t, "r.csv.gz", b"\x1f\x8b\x08garbage")),
         bs.RunsFileError, r"r\.csv\.gz"),
        ("a bad value in a file, by file and row",
         lambda t: bs.load_runs(_write(t, "r.csv", good.replace("2.8", "-2.8"))), bs.RunsValidationError,
         r"r\.csv \(rows numbered from 0.*\n.*column 'loss' must be > 0; found -2.8 at row 1"),
        ("a semicolon file with a missing loss column",
         lambda t: bs.load_runs(_write(t, "r.csv", "N;D;los\n1e8;2e9;3.1\n")), bs.RunsValidationError,
         r"r\.csv.*missing required column 'loss'"),
    ]
    return [Case("runs file", *r) for r in rows]


# ----------------------------------------------------------------------------- laws and formulas
def _laws() -> list[Case]:
    rows = []
    for name in ("sigma", "nu", "run_sd", "run_effect", "run_z", "log_A", "gp_x", "A_ref", "A_tau", "A_z"):
        params = {"E": {"prior": P}, name: {"prior": P}, "gamma": {"prior": P}}
        rows.append((f"a parameter named {name}", lambda t, p=params, n=name: bs.load_law(_law(f"E + {n}/C**gamma", p)),
                     bs.LawError, rf"law 'mylaw'.*\['{name}'\] are reserved"))
    for formula, text in (("E + A/C**gamma + 1/0", "1/0"), ("E + A/C**gamma + E/(1-1)", "E/\\(1-1\\)"),
                          ("E + A/(2-2)/C**gamma", "A/\\(2-2\\)"), ("E + A/C**gamma + 1/0.0", "1/0.0")):
        rows.append((f"division by zero: {formula}", lambda t, f=formula: bs.load_law(_law(f)), bs.LawError,
                     f"division by zero in '{text}'"))
    for const in ("log(0)", "log(-1)", "sqrt(-1)", "10**400", "exp(1000)", "(-8)**0.5"):
        rows.append((f"a constant with no finite value: {const}",
                     lambda t, c=const: bs.load_law(_law(f"E + A/C**gamma + {c}")), bs.LawError,
                     "has no finite real value"))
    for piece, text in (("E.real", "attribute access"), ("E[0]", "subscript"), ("(lambda x: x)(E)", "call of"),
                        ("open(E)", "unknown function 'open'"), ("log(E, base=2)", "keyword"),
                        ("(E > 1)", "Compare"), ("(E and A)", "BoolOp"), ("'E'", "constant"), ("True", "constant"),
                        ("[E]", "List"), ("(E if A else A)", "IfExp"), ("log(E, A)", "log takes 1 argument"),
                        ("E % 2", "operator Mod"), ("E // 2", "operator FloorDiv"), ("~E", "operator Invert"),
                        ("F", "unknown name 'F'"), ("__import__('os')", "unknown function '__import__'")):
        rows.append((f"formula with {piece}", lambda t, p=piece: bs.load_law(_law(f"E + A/C**gamma + {p}")),
                     bs.LawError, f"law 'mylaw'.*{text}"))
    rows += [
        ("a formula over 2000 characters", lambda t: bs.load_law(_law("E + A/C**gamma" + " + E" * 700)),
         bs.LawError, "longer than 2000 characters"),
        ("a formula nested 900 levels", lambda t: bs.load_law(_law("E + A/C**gamma + " + "-" * 900 + "E")),
         bs.LawError, "nested 903 levels deep"),
        ("an empty formula", lambda t: bs.load_law(_law("  ")), bs.LawError, "non-empty string"),
        ("a formula that is not text", lambda t: bs.load_law(_law(3)), bs.LawError, "non-empty string"),
        ("a syntax error", lambda t: bs.load_law(_law("E + A/C**")), bs.LawError, "not a valid expression"),
        ("an input missing from the formula", lambda t: bs.load_law(_law("E + A/gamma")), bs.LawError,
         r"input\(s\) \['C'\] do not appear"),
        ("a name both input and parameter",
         lambda t: bs.load_law(_law("C + A/C**gamma", {"C": {"prior": P}, "A": {"prior": P}, "gamma": {"prior": P}})),
         bs.LawError, r"both as input and parameter: \['C'\]"),
        ("no parameters", lambda t: bs.load_law(_law("C", {})), bs.LawError, "parameters must be a non-empty table"),
        ("a missing field", lambda t: bs.load_law({"name": "mylaw", "formula": "E"}), bs.LawError,
         "missing field 'inputs'"),
        ("an unknown field", lambda t: bs.load_law(_law("E + A/C**gamma", colour="red")), bs.LawError,
         r"unknown field\(s\) \['colour'\]"),
        ("an unknown shipped law", lambda t: bs.load_law("chinchila"), bs.LawError, "chinchila"),
        ("an unknown prior distribution",
         lambda t: bs.load_law(_law("E + A/C**gamma", {"E": {"prior": {"dist": "Cauchy2"}}, "A": {"prior": P},
                                                       "gamma": {"prior": P}})), bs.LawError,
         "prior of 'E': unknown distribution 'Cauchy2'"),
        ("a prior with a negative scale",
         lambda t: bs.load_law(_law("E + A/C**gamma", {"E": {"prior": {"dist": "LogNormal", "median": 1.5,
                                                                       "sigma": -1}},
                                                       "A": {"prior": P}, "gamma": {"prior": P}})),
         bs.LawError, "prior of 'E': LogNormal sigma must be > 0"),
        ("an unknown prior preset", lambda t: bs.load_law("chinchilla").with_priors("hoffmann2099"), bs.LawError,
         "hoffmann2099"),
    ]
    return [Case("law", *r) for r in rows]


# ----------------------------------------------------------------------------- fit files
def _saved(tmp: Path) -> Path:
    return mock().save(tmp / "fit.nc")


def _edit(tmp: Path, edit) -> Path:
    import xarray as xr

    with xr.open_datatree(_saved(tmp), engine="h5netcdf") as opened:
        tree = opened.load()
    edit(tree)
    out = tmp / "edited.nc"
    tree.to_netcdf(out, engine="h5netcdf")
    return out


def _set_attr(key, value):
    def edit(tree):
        tree["bayes_scaling"].attrs[key] = value
    return edit


def _scale(node, var, factor):
    def edit(tree):
        import xarray as xr

        ds = tree[node].to_dataset()
        tree[node] = xr.DataTree(ds.assign({var: ds[var] * factor}))
    return edit


def _fit_files() -> list[Case]:
    def damaged(tmp, how):
        path = _saved(tmp)
        data = path.read_bytes()
        path.write_bytes({"truncated": data[:3000], "random": os.urandom(4000), "empty": b"",
                          "flipped": data[:5000] + bytes(b ^ 0xFF for b in data[5000:5400]) + data[5400:]}[how])
        return bs.load_fit(path)

    rows = [(f"a {how} fit file", lambda t, h=how: damaged(t, h), bs.FitFileError, r"fit\.nc: ")
            for how in ("truncated", "random", "empty")]
    rows.append(("a fit file with flipped bytes", lambda t: damaged(t, "flipped"), bs.FitFileError, r"fit\.nc"))
    spec = json.loads(mock().law.to_json())
    edits = {
        "the formula edited": _set_attr("law_spec", json.dumps({**spec, "formula": spec["formula"] + " + 1"})),
        "the settings edited": _set_attr("settings", json.dumps({"sampler": "edited"})),
        "the likelihood edited": _set_attr("likelihood", "normal"),
        "the diagnostics edited": _set_attr("diagnostics", json.dumps({**mock().diagnostics.to_dict(),
                                                                       "verdict": "pass"})),
        "a posterior draw edited": _scale("posterior", "E", 1.0001),
        "the noise scale edited": _scale("posterior", "sigma", 2.0),
        "an observed loss edited": _scale("observed_data", "log_loss_obs", 1.001),
    }
    rows += [(f"a fit file with {what}", lambda t, e=e: bs.load_fit(_edit(t, e)), bs.FitFileError,
              r"edited\.nc: the file's contents do not match its integrity record") for what, e in edits.items()]
    for key in ("law_spec", "runs_columns", "diagnostics", "settings", "likelihood"):
        rows.append((f"a fit file without its '{key}' record",
                     lambda t, k=key: bs.load_fit(_edit(t, lambda tree: tree["bayes_scaling"].attrs.pop(k)),
                                                  verify=False), bs.FitFileError, rf"edited\.nc.*'{key}' record"))
    rows += [
        ("a fit file from a newer version", lambda t: bs.load_fit(_edit(t, _set_attr("format_version", 99))),
         bs.FitFileError, r"edited\.nc was written by a newer bayes_scaling"),
        ("a non-integer format version", lambda t: bs.load_fit(_edit(t, _set_attr("format_version", "three")),
                                                               verify=False), bs.FitFileError,
         r"edited\.nc.*'format_version' record"),
        ("a NetCDF file that is not a fit",
         lambda t: bs.load_fit(_write_netcdf(t)), bs.FitFileError, r"other\.nc is not a bayes_scaling fit"),
        ("a fit path that does not exist", lambda t: bs.load_fit(t / "none.nc"), FileNotFoundError, r"none\.nc"),
        ("an edited runs table", lambda t: bs.load_fit(_edit(t, _scale("bayes_scaling", "loss", 1.01)),
                                                       verify=False), bs.FitFileError, "runs table does not match"),
    ]
    return [Case("fit file", *r) for r in rows]


def _write_netcdf(tmp: Path) -> Path:
    import xarray as xr

    path = tmp / "other.nc"
    xr.DataTree(xr.Dataset({"a": ("x", [1.0])})).to_netcdf(path, engine="h5netcdf")
    return path


# ----------------------------------------------------------------------------- decisions and predictions
def _decisions() -> list[Case]:
    budgets = (("0", 0.0), ("-1e20", -1e20), ("inf", np.inf), ("NaN", np.nan), ("an empty list", []),
               ("True", True), ("text", "1e20x"), ("a list with a 0", [1e20, 0.0]))
    calls = {"allocate": lambda v: mock().allocate(v), "recommend": lambda v: mock().recommend(v),
             "allocate_draws": lambda v: mock().allocate_draws(v),
             "allocate (lifetime)": lambda v: mock().allocate(v, inference_tokens=1e12)}
    rows = [(f"{name} with a budget {label}", lambda t, c=call, v=value: c(v), bs.DecisionInputError, r"C ")
            for name, call in calls.items() for label, value in budgets]
    for label, value in (("0", 0.0), ("-1", -1.0), ("NaN", np.nan), ("inf", np.inf), ("an empty list", [])):
        rows.append((f"next_runs with a total budget {label}",
                     lambda t, v=value: mock().next_runs(at=1e23, budget=v), bs.DecisionInputError, "budget"))
        rows.append((f"lifetime_plan with a target loss {label}",
                     lambda t, v=value: mock().lifetime_plan(v, 1e12), bs.DecisionInputError, "target_loss"))
        rows.append((f"compute_for_target with a target {label}",
                     lambda t, v=value: mock().compute_for_target(v), bs.DecisionInputError, "target"))
    for value in (0, 1, -0.1, 1.5, True):
        rows.append((f"recommend with tolerance {value!r}", lambda t, v=value: mock().recommend(1e22, tolerance=v),
                     bs.DecisionInputError, "tolerance must be in \\(0, 1\\)"))
    for value in ("median", "q0", "q100", "q", "90", "Q90"):
        rows.append((f"recommend with risk {value!r}", lambda t, v=value: mock().recommend(1e22, risk=v),
                     bs.DecisionInputError, "risk must be 'mean' or 'q<percent>'"))
    for value in (0, -1, 1.5, True, "3"):
        rows.append((f"next_runs with k = {value!r}", lambda t, v=value: mock().next_runs(at=1e23, budget=1e20, k=v),
                     bs.DecisionInputError, "k must be an integer >= 1"))
    rows += [
        ("a plan with both N and tokens per parameter",
         lambda t: mock().recommend(1e22, plans={"x": {"N": 1e9, "tokens_per_param": 20}}), bs.DecisionInputError,
         "plan 'x' must be"),
        ("a plan with a negative N", lambda t: mock().recommend(1e22, plans={"x": {"N": -1}}), bs.DecisionInputError,
         "plan 'x' N"),
        ("candidates above the per-run budget",
         lambda t: mock().next_runs(at=1e23, budget=1e20, candidates=pd.DataFrame({"N": [1e12], "D": [1e12]})),
         bs.DecisionInputError, r"candidate row\(s\) \[0\] cost more than the per-run budget"),
        ("candidates without D",
         lambda t: mock().next_runs(at=1e23, budget=1e20, candidates=pd.DataFrame({"N": [1e9]})),
         bs.DecisionInputError, "candidates need columns N and D"),
        ("an unknown next_runs target", lambda t: mock().next_runs("width", at=1e23, budget=1e20),
         bs.DecisionInputError, "target must be one of"),
        ("prob_below target without a plan", lambda t: mock().next_runs("prob_below", budget=1e20),
         bs.DecisionInputError, "needs threshold="),
        ("a price without a throughput", lambda t: bs.Hardware(price_per_hour=2.0), bs.BudgetError,
         "needs peak_flops"),
        ("an MFU above 1", lambda t: bs.Hardware(peak_flops=1e15, mfu=1.5), bs.BudgetError, "mfu is a fraction"),
        ("a negative peak", lambda t: bs.Hardware(peak_flops=-1), bs.BudgetError, "peak_flops must be"),
        ("an unknown accelerator", lambda t: bs.Hardware.preset("Z80"), bs.BudgetError, "unknown accelerator 'Z80'"),
        ("GPU-hours without hardware", lambda t: mock().allocate(gpu_hours=100), bs.BudgetError, "needs hardware"),
        ("dollars without a price", lambda t: mock().allocate(dollars=100, hardware=bs.Hardware(1e15)),
         bs.BudgetError, "price_per_hour"),
        ("a budget given twice", lambda t: mock().recommend(1e22, gpu_hours=10), bs.BudgetError,
         "give the budget once"),
        ("negative inference tokens", lambda t: mock().allocate(1e22, inference_tokens=-1), bs.BudgetError,
         "inference_tokens must be"),
        ("a cost model that is not one", lambda t: mock().allocate(1e22, cost="6ND"), bs.BudgetError,
         "cost must be a bs.CostModel"),
        ("n_layer without d_model", lambda t: bs.CostModel(n_ctx=2048, n_layer=80), bs.BudgetError,
         "both n_layer and d_model"),
        ("a power law of compute without recorded C", lambda t: bs.CostModel.fit_power_law(mock().runs),
         bs.BudgetError, "recorded compute"),
    ]
    for label, kwargs, text in (
            ("N = True", dict(N=True, D=1e9), "input 'N' got a boolean"),
            ("N as text", dict(N="7B", D=1e9), "input 'N' must be numbers"),
            ("N = 0", dict(N=0.0, D=1e9), "input 'N' must be finite and > 0"),
            ("D = -1", dict(N=1e9, D=-1.0), "input 'D' must be finite and > 0"),
            ("N = inf", dict(N=np.inf, D=1e9), "input 'N' must be finite"),
            ("N = NaN", dict(N=np.nan, D=1e9), "input 'N' must be finite"),
            ("C contradicting N and D", dict(N=1e9, D=2e10, C=1.0), "N, D and C disagree"),
            ("a derived C overflowing", dict(N=1e300, D=1e300), "input 'C' \\(derived"),
            ("a derived D underflowing", dict(N=1e9, C=5e-324), "input 'D' \\(derived"),
            ("an unknown input", dict(N=1e9, D=2e10, step=3), "takes no input \\['step'\\]"),
            ("arrays of different lengths", dict(N=[1e9, 2e9], D=[1e10, 2e10, 3e10]), "one common length"),
            ("N alone", dict(N=1e9), "needs input\\(s\\)")):
        rows.append((f"predict with {label}", lambda t, k=kwargs: mock().predict(**k), bs.DecisionInputError, text))
        rows.append((f"prob_below with {label}", lambda t, k=kwargs: mock().prob_below(2.5, **k),
                     bs.DecisionInputError, text))
    return [Case("decision", *r) for r in rows]


# ----------------------------------------------------------------------------- fitting options
def _fit_options() -> list[Case]:
    runs = bs.load_runs(bs.simulate("chinchilla", TRUTH, bs.synthetic.chinchilla_design(12, seed=1), seed=1))
    rows = []
    for name, values in (("seed", (-1, 2**64, 1.5, True, "1")), ("draws", (0, -5, 1.5, True)),
                         ("chains", (0, -1, 2.5)), ("tune", (0, -1, 2.5)), ("target_accept", (0.0, 1.0, 1.5, -0.2))):
        for value in values:
            rows.append((f"fit with {name} = {value!r}", lambda t, n=name, v=value: bs.fit(runs, **{n: v}),
                         bs.InputError, name))
    rows += [
        ("fit with an unknown sampler", lambda t: bs.fit(runs, sampler="gibbs"), bs.InputError, "sampler must be"),
        ("fit with an unknown likelihood", lambda t: bs.fit(runs, likelihood="cauchy"), bs.BayesScalingError,
         "likelihood"),
        ("fit with an unknown discrepancy", lambda t: bs.fit(runs, discrepancy="spline"), bs.BayesScalingError,
         "discrepancy"),
        ("fit with an unknown adaptation", lambda t: bs.fit(runs, adaptation="full"), bs.InputError, "adaptation"),
        ("fit with remedy = 'yes'", lambda t: bs.fit(runs, remedy="yes"), bs.InputError, "remedy"),
        ("fit of a law whose inputs the runs lack", lambda t: bs.fit(runs, law="kaplan_s"), bs.BayesScalingError,
         "kaplan_s|step|S"),
    ]
    return [Case("fit options", *r) for r in rows]


# ----------------------------------------------------------------------------- command line and report
class CliExit(Exception):
    """The CLI refused with exit code 2 and one ``error:`` line (the message is that line)."""


def cli(*args) -> None:
    from typer.testing import CliRunner

    from bayes_scaling import cli as app

    res = CliRunner().invoke(app.app, [str(a) for a in args])
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    if res.exit_code == 2 and "Traceback" not in res.stderr and not res.exception or isinstance(res.exception,
                                                                                                  SystemExit):
        if res.exit_code == 2 and lines:
            raise CliExit(lines[-1])
    raise AssertionError(f"exit {res.exit_code}, stderr {res.stderr!r}, exception {res.exception!r}")


def _runs_csv(tmp: Path, text: str | None = None) -> Path:
    return _write(tmp, "runs.csv", text or "N,D,loss\n1e8,2e9,3.1\n3e8,6e9,2.8\n1e9,2e10,2.5\n3e9,6e10,2.3\n")


_EIGHT_RUNS = "N,D,loss\n" + "".join(f"{n:g},{20 * n * (1 + i % 3):g},{2 + 1 / (i + 1):.3f}\n"
                                      for i, n in enumerate([1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10, 3e10]))


def _cli_cases() -> list[Case]:
    rows = [
        ("fit: an empty runs file", lambda t: cli("fit", _runs_csv(t, " "), "-o", t / "f.nc"),
         "runs.csv: the file is empty"),
        ("fit: a repeated header", lambda t: cli("fit", _runs_csv(t, "N,N,loss\n1,2,3\n"), "-o", t / "f.nc"),
         "runs.csv: the header repeats"),
        ("fit: a negative loss", lambda t: cli("fit", _runs_csv(t, "N,D,loss\n1e8,2e9,-3\n1e9,2e10,2\n"), "-o",
                                               t / "f.nc"), "column 'loss' must be > 0; found -3 at row 0"),
        ("fit: an unknown law", lambda t: cli("fit", _runs_csv(t), "--law", "nope", "-o", t / "f.nc"), "nope"),
        ("fit: seed -1", lambda t: cli("fit", _runs_csv(t, _EIGHT_RUNS), "--seed", "-1", "-o", t / "f.nc"), "seed"),
        ("fit: output is a folder", lambda t: cli("fit", _runs_csv(t), "-o", t), "is a directory"),
        ("summary: a damaged fit file", lambda t: cli("summary", _write(t, "f.nc", os.urandom(300))),
         r"f\.nc"),
        ("summary: an edited fit file", lambda t: cli("summary", _edit(t, _scale("posterior", "E", 1.01))),
         "integrity record"),
        ("allocate: a negative budget", lambda t: cli("allocate", _saved(t), "--C", "-1e22"), "C must be finite"),
        ("allocate: dollars without hardware", lambda t: cli("allocate", _saved(t), "--dollars", "1e6"),
         "needs hardware"),
        ("recommend: a price without a throughput",
         lambda t: cli("recommend", _saved(t), "--C", "1e22", "--price-per-hour", "2"), "needs a throughput"),
        ("recommend: tolerance 2", lambda t: cli("recommend", _saved(t), "--C", "1e22", "--tolerance", "2"),
         "tolerance must be in"),
        ("recommend: a bad risk", lambda t: cli("recommend", _saved(t), "--C", "1e22", "--risk", "worst"),
         "risk must be"),
        ("next: k = 0", lambda t: cli("next", _saved(t), "--at", "1e23", "--budget", "1e20", "--k", "0", "-o",
                                      t / "n.csv"), "k must be an integer"),
        ("next: a budget that is not a number", lambda t: cli("next", _saved(t), "--at", "1e23", "--budget", "lots",
                                                              "-o", t / "n.csv"), "not a number"),
        ("predict: N = 0", lambda t: cli("predict", _saved(t), "--N", "0", "--D", "1e9"), "must be finite and > 0"),
        ("report: a path that is not .html or .md", lambda t: cli("report", _saved(t), "-o", t / "r.pdf"),
         r"r\.pdf"),
    ]
    return [Case("command line", what, call, CliExit, place) for what, call, place in rows]


def _report_cases() -> list[Case]:
    rows = [
        ("a report path with another suffix", lambda t: mock().report(t / "r.pdf"), bs.InputError, r"r\.pdf"),
        ("a report at a negative budget", lambda t: mock().report(t / "r.md", budgets=[-1e22]), bs.DecisionInputError,
         "C must be finite"),
        ("report next_runs with k = 0", lambda t: mock().report(t / "r.md", budgets=[1e22], next_runs={"k": 0}),
         bs.DecisionInputError, "k must be an integer"),
    ]
    return [Case("report", *r) for r in rows]


def cases() -> list[Case]:
    return [*_runs_values(), *_runs_structure(), *_runs_files(), *_laws(), *_fit_files(), *_decisions(),
            *_fit_options(), *_cli_cases(), *_report_cases()]


def markdown(all_cases: list[Case]) -> str:
    """The docs page: what the package validates and refuses, by area (generated from the catalogue)."""
    lines = ["# What bayes_scaling validates and refuses", "",
             "Generated from the test suite's bad-input catalogue (`tests/catalogue.py`; "
             "`python -m tests.catalogue --write docs/validation.md`). Every case below is a test: the call "
             "raises exactly the error class shown, and the message names the place (column and row, file, "
             "parameter, option). Every error the package raises on purpose derives from "
             "`bs.BayesScalingError`; the command line answers each with one `error:` line and exit code 2.",
             "", f"{len(all_cases)} cases.", ""]
    for area in dict.fromkeys(c.area for c in all_cases):
        part = [c for c in all_cases if c.area == area]
        lines += [f"## {area[0].upper() + area[1:]} ({len(part)})", "", "| input | refused with |", "|---|---|"]
        for c in part:
            name = "exit 2, one `error:` line" if c.error is CliExit else f"`{c.error.__name__}`"
            lines.append(f"| {c.what.replace('|', '/')} | {name} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="write the validation docs page from the catalogue")
    ap.add_argument("--write", default=None)
    args = ap.parse_args()
    text = markdown(cases())
    if args.write:
        Path(args.write).write_text(text)
    else:
        print(text)
