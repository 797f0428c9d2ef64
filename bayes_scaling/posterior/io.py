"""Fit <-> NetCDF file (h5netcdf engine; no pickle anywhere).

The file is the fit's DataTree (posterior, sample_stats, observed_data,
constant_data, and log_likelihood when it was computed) plus a ``bayes_scaling``
group holding the runs table (one variable per canonical column, along ``row``,
with the original row labels) and, as attributes, the law spec with its priors (JSON), likelihood,
sampler settings, diagnostics, package versions and the runs' provenance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.runs import Runs
from ..law.spec import spec_from_dict
from ..pymc_model.discrepancy import Discrepancy
from ..pymc_model.structure import Structure
from .diagnostics import Diagnostics
from .record import FitRecord
from .structural import Structural

__all__ = ["save_fit", "load_record", "FORMAT_VERSION"]

FORMAT_VERSION = 2  # 2: the structural term (format 1 files load: they have none)
_GROUP = "bayes_scaling"


def save_fit(fit: FitRecord, path: str | Path) -> Path:
    """Write ``fit`` to ``path`` (NetCDF4/HDF5). Returns the path."""
    import xarray as xr

    path = Path(path)
    tree = _fixed_width_strings(fit.posterior.copy())
    runs = fit.runs
    data = runs.data
    index = data.index
    labels = index.to_numpy()
    if labels.dtype == object:
        labels = labels.astype(str)
    ds = xr.Dataset(coords={"row": np.arange(len(data)), "row_label": ("row", labels)})
    for col in data.columns:
        values = data[col].to_numpy()
        ds[col] = ("row", values.astype(str) if values.dtype == object or col in ("group", "run")
                   else values.astype(float))
    ds.attrs.update({
        "format_version": FORMAT_VERSION,
        "law_spec": fit.law.to_json(),
        "likelihood": fit.likelihood,
        "settings": json.dumps(fit.settings),
        "diagnostics": json.dumps(fit.diagnostics.to_dict()),
        "versions": json.dumps(fit.versions),
        "timings": json.dumps(fit.timings),
        "structure": json.dumps(fit.structure.to_dict()),
        "discrepancy": json.dumps(None if fit.discrepancy is None else fit.discrepancy.to_dict()),
        "structural": json.dumps(None if fit.structural is None else fit.structural.to_dict()),
        "runs_columns": json.dumps(runs.columns),
        "runs_derived": json.dumps(runs.derived),
        "runs_units": json.dumps(runs.units),
        "runs_dropped": int(runs.dropped),
        "runs_index_name": str(index.name) if index.name is not None else "",
        "flops_per_token": float(runs.flops_per_token),
        "runs_sha256": runs.sha256(),
    })
    tree[_GROUP] = xr.DataTree(ds)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.to_netcdf(path, engine="h5netcdf")
    return path


def _fixed_width_strings(tree):
    """Object-dtype labels (e.g. the ``group`` coordinate) as fixed-width unicode, which NetCDF stores."""
    for node in tree.subtree:
        ds = node.to_dataset()
        fixed = {k: v.astype(str) for k, v in {**ds.coords, **ds.data_vars}.items() if v.dtype == object}
        if fixed:
            node.dataset = ds.assign_coords({k: v for k, v in fixed.items() if k in ds.coords}).assign(
                {k: v for k, v in fixed.items() if k in ds.data_vars})
    return tree


def load_record(path: str | Path) -> FitRecord:
    """Restore the record of a fit written by :meth:`bayes_scaling.Fit.save` (:func:`bayes_scaling.load_fit`
    makes it a ``Fit``); its predictions are identical.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no fit file at {path}")
    with xr.open_datatree(path, engine="h5netcdf") as opened:
        tree = opened.load()
    if _GROUP not in tree.children:
        raise ValueError(f"{path} is not a bayes_scaling fit (no '{_GROUP}' group)")
    meta = tree[_GROUP].to_dataset()
    attrs = meta.attrs
    if int(attrs.get("format_version", 0)) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer bayes_scaling (format "
                         f"{attrs['format_version']} > {FORMAT_VERSION}); upgrade to read it")
    law = spec_from_dict(json.loads(attrs["law_spec"]))
    columns = [c for c in meta.data_vars]
    frame = pd.DataFrame({c: meta[c].values for c in columns},
                         index=pd.Index(meta["row_label"].values,
                                        name=attrs.get("runs_index_name") or None))
    for col in ("group", "run"):
        if col in frame:
            frame[col] = frame[col].astype(str)
    runs = Runs(data=frame, columns=json.loads(attrs["runs_columns"]),
                derived=json.loads(attrs["runs_derived"]), flops_per_token=float(attrs["flops_per_token"]),
                units=json.loads(attrs["runs_units"]), dropped=int(attrs.get("runs_dropped", 0)))
    if runs.sha256() != attrs["runs_sha256"]:
        raise ValueError(f"{path}: the stored runs table does not match its checksum (file corrupted?)")
    posterior = tree.copy()
    del posterior[_GROUP]
    diag = Diagnostics(**json.loads(attrs["diagnostics"]))
    return FitRecord(posterior=posterior, runs=runs, law=law, likelihood=str(attrs["likelihood"]),
               settings=json.loads(attrs["settings"]), diagnostics=diag,
               versions=json.loads(attrs["versions"]), timings=json.loads(attrs["timings"]),
               structure=Structure.from_dict(json.loads(attrs.get("structure", "{}"))),
               discrepancy=_discrepancy(json.loads(attrs.get("discrepancy", "null"))),
               structural=_structural(json.loads(attrs.get("structural", "null"))))


def _discrepancy(d) -> Discrepancy | None:
    return None if d is None else Discrepancy.from_dict(d)


def _structural(d) -> Structural | None:
    return None if d is None else Structural.from_dict(d)
