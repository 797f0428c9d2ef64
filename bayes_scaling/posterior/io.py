"""Fit <-> NetCDF file (h5netcdf engine; no pickle anywhere).

The file is the fit's DataTree (posterior, sample_stats, observed_data and
constant_data; not the pointwise log_likelihood, which is most of a fit's size, about a
quarter of the time to open it, and recomputed exactly when needed by
:meth:`~bayes_scaling.posterior.record.FitRecord.with_log_likelihood`) plus a ``bayes_scaling``
group holding the runs table (one variable per canonical column, along ``row``,
with the original row labels) and, as attributes, the law spec with its priors (JSON), likelihood,
sampler settings, diagnostics, package versions and the runs' provenance.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import FitFileError, FitFileWarning
from ..core.files import write_bytes_atomic
from ..data.runs import Runs
from ..law.spec import spec_from_dict
from ..pymc_model.discrepancy import Discrepancy
from ..pymc_model.structure import Structure
from .diagnostics import Diagnostics, convergence_table
from .integrity import DIGEST_KEY, tree_digest
from .record import FitRecord
from .structural import Structural

__all__ = ["save_fit", "load_record", "FORMAT_VERSION"]

# the sampler statistics a file keeps (arviz's standard ones): nutpie records a dozen more of its
# own (mass-matrix bookkeeping, divergence locations); each variable costs ~10 ms to open in h5netcdf
SAMPLE_STATS_KEPT = ("diverging", "energy", "energy_error", "step_size", "n_steps", "depth", "maxdepth_reached",
                     "logp", "mean_tree_accept")
FORMAT_VERSION = 3  # 2: the structural term; 3: the integrity record (older files load without it)
_GROUP = "bayes_scaling"


def save_fit(fit: FitRecord, path: str | Path) -> Path:
    """Write ``fit`` to ``path`` (NetCDF4/HDF5) with its integrity record. Returns the path.

    The file is built in memory and written atomically (a temporary file beside ``path``, fsync,
    rename): on any failure, a full disk included, an old file at ``path`` is intact and no partial
    file remains.
    """
    import xarray as xr

    path = Path(path)
    tree = _fixed_width_strings(fit.posterior.copy())
    if "log_likelihood" in tree.children:  # recomputed on demand (the module's docstring)
        del tree["log_likelihood"]
    if "sample_stats" in tree.children:
        stats = tree["sample_stats"].to_dataset()
        tree["sample_stats"] = xr.DataTree(stats[[v for v in stats.data_vars if v in SAMPLE_STATS_KEPT]])
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
        "diagnostics": json.dumps(_with_convergence(fit).to_dict()),
        "versions": json.dumps(fit.versions),
        "timings": json.dumps(fit.timings),
        "structure": json.dumps(fit.structure.to_dict()),
        "discrepancy": json.dumps(None if fit.discrepancy is None else fit.discrepancy.to_dict()),
        "structural": json.dumps(None if fit.structural is None else fit.structural.to_dict()),
        "runs_columns": json.dumps(runs.columns),
        "runs_derived": json.dumps(runs.derived),
        "runs_units": json.dumps(runs.units),
        "runs_dropped": int(runs.dropped),
        "runs_drops": json.dumps([[reason, list(rows)] for reason, rows in runs.drops]),
        "runs_index_name": str(index.name) if index.name is not None else "",
        "flops_per_token": float(runs.flops_per_token),
        "runs_sha256": runs.sha256(),
    })
    tree[_GROUP] = xr.DataTree(ds)
    tree[_GROUP].attrs[DIGEST_KEY] = tree_digest(tree)
    payload = bytes(tree.to_netcdf(engine="h5netcdf"))  # in memory: no HDF5 handle on the disk to leak
    return write_bytes_atomic(path, payload)


def _with_convergence(fit: FitRecord) -> Diagnostics:
    """The diagnostics with each summary row's ESS, R-hat and MCSE (arviz, computed here once, not at fit
    time): kept in the file, a saved fit's summary needs no arviz import."""
    d = fit.diagnostics
    return d if d.by_parameter else replace(d, by_parameter=convergence_table(fit.posterior, fit.parameter_names))


def _fixed_width_strings(tree):
    """Object-dtype labels (e.g. the ``group`` coordinate) as fixed-width unicode, which NetCDF stores."""
    for node in tree.subtree:
        ds = node.to_dataset()
        fixed = {k: v.astype(str) for k, v in {**ds.coords, **ds.data_vars}.items() if v.dtype == object}
        if fixed:
            node.dataset = ds.assign_coords({k: v for k, v in fixed.items() if k in ds.coords}).assign(
                {k: v for k, v in fixed.items() if k in ds.data_vars})
    return tree


def _open(path: Path):
    import xarray as xr

    if not path.is_file():
        raise FileNotFoundError(f"no fit file at {path}")
    try:
        with xr.open_datatree(path, engine="h5netcdf") as opened:
            tree = opened.load()
    except Exception as exc:  # h5py, h5netcdf and xarray raise many kinds for a damaged file
        raise FitFileError(f"{path}: not a readable fit file ({type(exc).__name__}: {exc}); it may be "
                           "truncated or not a NetCDF file: save the fit again, or refit") from exc
    if _GROUP not in tree.children:
        raise FitFileError(f"{path} is not a bayes_scaling fit (no '{_GROUP}' group)")
    return tree


def _check_integrity(path: Path, tree, attrs, verify: bool) -> None:
    stored = attrs.get(DIGEST_KEY)
    if stored is None:
        return  # format 1-2 files: only the runs table has a checksum
    if tree_digest(tree) == str(stored):
        return
    text = (f"{path}: the file's contents do not match its integrity record (edited or damaged since it "
            "was saved: posterior, runs, law spec, priors or settings)")
    if verify:
        raise FitFileError(text + "; load_fit(path, verify=False) loads it anyway, with a warning")
    warnings.warn(text + "; loaded anyway (verify=False)", FitFileWarning, stacklevel=4)


def _meta(path: Path, attrs, key: str, parse=json.loads):
    try:
        return parse(attrs[key])
    except KeyError:
        raise FitFileError(f"{path}: the fit file lacks its '{key}' record (damaged, or not written by "
                           "bayes_scaling): save the fit again, or refit") from None
    except (ValueError, TypeError) as exc:
        raise FitFileError(f"{path}: the fit file's '{key}' record cannot be read ({exc})") from None


def load_record(path: str | Path, *, verify: bool = True) -> FitRecord:
    """Restore the record of a fit written by :meth:`bayes_scaling.Fit.save` (:func:`bayes_scaling.load_fit`
    makes it a ``Fit``); its predictions are identical.

    Raises :class:`~bayes_scaling.core.errors.FitFileError` for a file that is not a readable fit,
    lacks a part, comes from a newer version, or whose contents do not match the integrity record
    written with it (``verify=False``: load it anyway, with a ``FitFileWarning``).
    """
    path = Path(path)
    tree = _open(path)
    attrs = tree[_GROUP].to_dataset().attrs
    version = _meta(path, attrs, "format_version", int) if "format_version" in attrs else 0
    if version > FORMAT_VERSION:
        raise FitFileError(f"{path} was written by a newer bayes_scaling (format {version} > {FORMAT_VERSION}); "
                           "upgrade to read it")
    _check_integrity(path, tree, attrs, verify)
    try:
        return _record(path, tree, attrs)
    except FitFileError:
        raise
    except (KeyError, ValueError, TypeError) as exc:
        raise FitFileError(f"{path}: a part of the fit file cannot be restored ({type(exc).__name__}: {exc}); "
                           "save the fit again, or refit") from exc


def _record(path: Path, tree, attrs) -> FitRecord:
    meta = tree[_GROUP].to_dataset()
    law = spec_from_dict(_meta(path, attrs, "law_spec"))
    columns = [c for c in meta.data_vars]
    frame = pd.DataFrame({c: meta[c].values for c in columns},
                         index=pd.Index(meta["row_label"].values,
                                        name=attrs.get("runs_index_name") or None))
    for col in ("group", "run"):
        if col in frame:
            frame[col] = frame[col].astype(str)
    runs = Runs(data=frame, columns=_meta(path, attrs, "runs_columns"), derived=_meta(path, attrs, "runs_derived"),
                flops_per_token=_meta(path, attrs, "flops_per_token", float),
                units=_meta(path, attrs, "runs_units"), dropped=int(attrs.get("runs_dropped", 0)),
                drops=tuple((reason, tuple(rows)) for reason, rows in json.loads(attrs.get("runs_drops", "[]"))))
    if runs.sha256() != attrs.get("runs_sha256"):
        raise FitFileError(f"{path}: the stored runs table does not match its checksum (file corrupted?)")
    posterior = tree.copy()
    del posterior[_GROUP]
    diag = Diagnostics(**_meta(path, attrs, "diagnostics"))
    return FitRecord(posterior=posterior, runs=runs, law=law, likelihood=str(_meta(path, attrs, "likelihood", str)),
                     settings=_meta(path, attrs, "settings"), diagnostics=diag,
                     versions=_meta(path, attrs, "versions"), timings=_meta(path, attrs, "timings"),
                     structure=Structure.from_dict(json.loads(attrs.get("structure", "{}"))),
                     discrepancy=_discrepancy(json.loads(attrs.get("discrepancy", "null"))),
                     structural=_structural(json.loads(attrs.get("structural", "null"))))


def _discrepancy(d) -> Discrepancy | None:
    return None if d is None else Discrepancy.from_dict(d)


def _structural(d) -> Structural | None:
    return None if d is None else Structural.from_dict(d)
