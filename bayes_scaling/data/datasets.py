"""Public scaling-law datasets (a registry) and synthetic ones with known truth.

Each dataset is one TOML file in the shipped ``datasets/`` folder (format in
``datasets/README.md``): where its file came from (URL at a fixed commit, or the
URLs it was derived from), its sha256, licence, citation, column mapping, units
and the named cleaning options it offers (all off unless asked for).

Where the file is looked for, in order:

1. a read-only mirror: ``data_home=`` if given, else ``$BAYES_SCALING_DATA``
   (several folders separated by ``os.pathsep``), laid out as ``<name>/<file>``;
2. the download cache ``$XDG_CACHE_HOME/bayes_scaling/data`` (default
   ``~/.cache/bayes_scaling/data``), same layout;
3. a download from the original URL into the cache (``download=True``).

Every file is checked against its registered sha256 before it is read; a
mismatch is an error, never a silent re-download. ``load`` returns a
:class:`~bayes_scaling.data.runs.Runs`; its ``data.attrs`` carry ``dataset``,
``citation``, ``licence``, ``source`` (URL or derived-from URLs, sha256, path)
and ``cleaning`` (each option applied, with the rows it dropped), and
``Runs.drops`` records each option with the rows it removed.

:func:`synthetic` is :func:`bayes_scaling.data.synthetic.simulate` (runs with known truth).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import tempfile
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import DatasetChecksumError, DatasetError, DatasetUnavailableError, InputTypeError
from ..core.resources import shipped_dir
from .drops import record_drop
from .runs import Runs, load_runs
from .synthetic import simulate as synthetic
from .units import CANONICAL_UNITS

__all__ = [
    "DOWNLOAD_TIMEOUT",
    "ENV_VAR",
    "cache_dir",
    "info",
    "list_datasets",
    "load",
    "names",
    "path",
    "synthetic",
]

#: Environment variable naming local mirror folder(s) (``<name>/<file>`` layout).
ENV_VAR = "BAYES_SCALING_DATA"
#: Seconds before a download attempt gives up.
DOWNLOAD_TIMEOUT = 60.0

_KINDS = ("public", "derived", "embedded")
_REQUIRED = ("name", "description", "kind", "file", "sha256", "licence", "citation", "columns", "units")
_READERS = {"csv": lambda p: pd.read_csv(p), "tsv": lambda p: pd.read_csv(p, sep="\t"),
            "jsonl": lambda p: pd.read_json(p, lines=True), "json": lambda p: pd.read_json(p)}


# ----------------------------------------------------------------------------- registry
def _check_entry(entry: dict, stem: str) -> dict:
    where = f"datasets/{stem}.toml"
    missing = [k for k in _REQUIRED if k not in entry]
    need = {"public": "url", "derived": "derived_from"}.get(entry.get("kind"))
    if need and need not in entry:
        missing.append(need)
    if missing:
        raise DatasetError(f"{where}: missing field(s) {', '.join(missing)}")
    if entry["name"] != stem or entry["kind"] not in _KINDS:
        raise DatasetError(f"{where}: name must be {stem!r} and kind one of {_KINDS}")
    if not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]):
        raise DatasetError(f"{where}: sha256 must be 64 lowercase hex digits")
    wrong = {c: u for c, u in entry["units"].items() if CANONICAL_UNITS.get(c, u) != u}
    if wrong:
        raise DatasetError(f"{where}: units {wrong} differ from bayes_scaling's "
                           f"{ {c: CANONICAL_UNITS[c] for c in wrong} }; convert the column instead")
    if entry.get("read", {}).get("format", "csv") not in _READERS:
        raise DatasetError(f"{where}: read.format must be one of {', '.join(_READERS)}")
    return entry


@lru_cache(maxsize=1)
def _registry() -> dict[str, dict]:
    entries = {}
    for file in sorted(shipped_dir("datasets").glob("*.toml")):
        entries[file.stem] = _check_entry(tomllib.loads(file.read_text(encoding="utf-8")), file.stem)
    return entries


def _entry(name: str) -> dict:
    registry = _registry()
    if name not in registry:
        raise DatasetError(f"unknown dataset {name!r}; registered: {', '.join(registry)}")
    return registry[name]


def names() -> list[str]:
    """Names of the registered datasets."""
    return sorted(_registry())


def list_datasets() -> pd.DataFrame:
    """One row per registered dataset: name, kind, n_rows, licence, description, citation."""
    rows = [{"name": e["name"], "kind": e["kind"], "n_rows": e.get("rows"), "licence": e["licence"],
             "description": e["description"], "citation": e["citation"]} for e in _registry().values()]
    return pd.DataFrame(rows, columns=["name", "kind", "n_rows", "licence", "description", "citation"])


def info(name: str) -> dict:
    """The registry entry of ``name`` (a copy): URLs, file, sha256, licence, citation, columns, cleaning, ..."""
    return copy.deepcopy(_entry(name))


# ----------------------------------------------------------------------------- files
def cache_dir() -> Path:
    """Where downloads go: ``$XDG_CACHE_HOME/bayes_scaling/data`` or ``~/.cache/bayes_scaling/data``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bayes_scaling" / "data"


def _mirrors(data_home: str | os.PathLike | None) -> list[Path]:
    if data_home is not None:
        return [Path(data_home).expanduser()]
    return [Path(p).expanduser() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(file: Path, entry: dict, what: str) -> Path:
    actual = _sha256(file)
    if actual != entry["sha256"]:
        raise DatasetChecksumError(
            f"{what} {file} for dataset {entry['name']!r} has sha256 {actual}, expected {entry['sha256']}: "
            "the file is corrupt, truncated or a different version. Replace it with the original file "
            f"({entry.get('url') or 'see info(' + repr(entry['name']) + ')'}) or delete it; nothing was read.")
    return file


def _place_hint(entry: dict) -> str:
    rel = f"{entry['name']}/{entry['file']}"
    return (f"put the file at <mirror>/{rel} (sha256 {entry['sha256']}) and set {ENV_VAR}=<mirror> or pass "
            f"data_home=<mirror>")


def _download(entry: dict, target: Path) -> Path:
    url = entry["url"]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DatasetUnavailableError(
                f"could not download dataset {entry['name']!r} from {url} ({reason}). Offline or behind a "
                f"firewall? {_place_hint(entry)}.") from exc
        _verify(Path(tmp), entry, "downloaded file")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def path(name: str, data_home: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """The local, sha256-verified file of dataset ``name``, downloading it into the cache if needed.

    Raises
    ------
    DatasetChecksumError
        A mirror, cached or downloaded copy has the wrong sha256.
    DatasetUnavailableError
        Not in any mirror nor the cache, and the download failed, was not allowed
        (``download=False``) or is impossible (a derived table).
    """
    entry = _entry(name)
    if entry["kind"] == "embedded":
        return _verify(shipped_dir("datasets") / entry["file"], entry, "embedded file")
    places = [root / name / entry["file"] for root in _mirrors(data_home)]
    places.append(cache_dir() / name / entry["file"])
    for place in places:
        if place.is_file():
            return _verify(place, entry, "mirror file" if place != places[-1] else "cached file")
    looked = "; looked in " + ", ".join(str(p) for p in places)
    if not data_home and not os.environ.get(ENV_VAR):
        looked += f" (no mirror: neither data_home= nor ${ENV_VAR} is set)"
    if entry["kind"] == "derived":
        raise DatasetUnavailableError(
            f"dataset {name!r} is not a file of its original repository but a table derived from "
            f"{', '.join(entry['derived_from'])} (see info({name!r})['derivation']), so it cannot be "
            f"downloaded: {_place_hint(entry)}{looked}.")
    if not download:
        raise DatasetUnavailableError(f"dataset {name!r} is not available locally and download=False; "
                                      f"its original URL is {entry['url']}; {_place_hint(entry)}{looked}.")
    return _download(entry, places[-1])


# ----------------------------------------------------------------------------- loading
def _choose_cleaning(entry: dict, clean: str | Iterable[str] | None, flags: Mapping[str, Any]) -> list[str]:
    options = entry.get("cleaning", {})
    known = "; ".join(f"{k}: {o['description']}" for k, o in options.items()) or "none"
    chosen = {k for k, o in options.items() if o.get("default", False)}
    asked = [clean] if isinstance(clean, str) else [*(clean or ())]
    for key, value in [*((k, True) for k in asked), *flags.items()]:
        if key not in options:
            raise InputTypeError(f"load({entry['name']!r}): unknown option {key!r}; cleaning options of this "
                            f"dataset: {known}")
        (chosen.add if value else chosen.discard)(key)
    return [k for k in options if k in chosen]


def _drop_mask(frame: pd.DataFrame, option: dict) -> pd.Series:
    col, kind = frame[option["column"]], option["kind"]
    if kind == "drop_largest":
        return frame.index.isin(col.nlargest(int(option["count"]), keep="first").index)
    if kind == "drop_above":
        return (col > float(option["threshold"])).to_numpy()
    if kind == "drop_values":
        return col.isin(option["values"]).to_numpy()
    raise DatasetError(f"unknown cleaning kind {kind!r} (drop_largest, drop_above, drop_values)")


def load(name: str, *, data_home: str | os.PathLike | None = None, download: bool = True,
         clean: str | Iterable[str] | None = None, **cleaning: bool) -> Runs:
    """Load registered dataset ``name`` as validated :class:`Runs`.

    Parameters
    ----------
    name : str
        A registered dataset (:func:`names`).
    data_home : path, optional
        A local mirror (``<name>/<file>`` layout) to read instead of ``$BAYES_SCALING_DATA``.
    download : bool, default True
        Download the original file into the cache when no local copy exists.
    clean : str or list of str, optional
        Cleaning options to apply (see ``info(name)["cleaning"]``); the same as
        passing ``option=True``.  ``option=False`` turns off a default-on option.

    Returns
    -------
    Runs
        ``runs.units`` from the registry; ``runs.drops`` records the rows that
        cleaning dropped, and why; ``runs.data.attrs`` holds ``dataset``, ``citation``,
        ``licence``, ``source``, ``cleaning`` (and ``truth`` for synthetic data).
    """
    entry = _entry(name)
    chosen = _choose_cleaning(entry, clean, cleaning)
    file = path(name, data_home, download=download)
    frame = _READERS[entry.get("read", {}).get("format", "csv")](file)
    mapping = {}
    for canonical, source in entry["columns"].items():
        if not isinstance(source, str):  # a list of columns: one label joined with "/"
            label = "/".join(source)
            frame[label] = frame[source].astype(str).agg("/".join, axis=1)
            source = label
        mapping[canonical] = source
    applied = {}
    for key in chosen:
        option = entry["cleaning"][key]
        mask = np.asarray(_drop_mask(frame, option), dtype=bool)
        applied[key] = {"description": option["description"], "dropped": int(mask.sum()),
                        "rows": frame.index[mask].tolist()}
        frame = frame.loc[~mask]
    runs = load_runs(frame, **entry.get("load", {}), **mapping)
    runs = replace(runs, units={c: entry["units"].get(c, u) for c, u in runs.units.items()})
    for key, done in applied.items():
        runs = record_drop(runs, f"the loader's cleaning option {key} ({done['description']})", done["rows"])
    source = {"kind": entry["kind"], "file": entry["file"], "sha256": entry["sha256"], "path": str(file)}
    source.update({k: entry[k] for k in ("url", "derived_from", "repository", "commit") if k in entry})
    runs.data.attrs.update({"dataset": name, "citation": entry["citation"], "licence": entry["licence"],
                            "source": source, "cleaning": applied})
    if "truth" in entry:
        runs.data.attrs["truth"] = copy.deepcopy(entry["truth"])
    return runs


# ----------------------------------------------------------------------------- compatibility
def __getattr__(name: str):
    """``bs.datasets.list()`` is :func:`list_datasets` (an attribute only: it never shadows the builtin)."""
    if name == "list":
        return list_datasets
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
