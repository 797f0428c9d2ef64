"""Dataset registry and loader (bs.datasets): the shared mirror, sha256 checks, offline errors, synthetic."""

from __future__ import annotations

import io
import shutil
import urllib.error
import urllib.request

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling import datasets
from bayes_scaling.data.units import CANONICAL_UNITS
from tests.helpers import CHINCHILLA_TRUTH, SHARED_DATA

REAL = ["chinchilla_epoch", "datablations", "porian_isoflop", "gemstones"]


@pytest.fixture
def mirror():
    """The shared data folder, laid out as <name>/<file>; skip when absent."""
    for name in REAL:
        if not (SHARED_DATA / name / datasets.info(name)["file"]).is_file():
            pytest.skip(f"shared data not available at {SHARED_DATA / name}")
    return SHARED_DATA


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No mirror variable, an empty cache, and a network that refuses every request."""
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return calls


def test_list_shows_every_registered_dataset():
    table = bs.datasets.list()
    assert set(table["name"]) == {*REAL, "demo_chinchilla"} == set(datasets.names())
    assert list(table.columns) == ["name", "kind", "n_rows", "licence", "description", "citation"]
    assert table.set_index("name")["n_rows"].to_dict() == {
        "chinchilla_epoch": 245, "datablations": 296, "porian_isoflop": 1745, "gemstones": 1100,
        "demo_chinchilla": 120}
    assert table["citation"].str.len().min() > 20 and table["licence"].str.len().min() > 2


def test_registry_entries_are_honest_about_their_source():
    for name in datasets.names():
        entry = datasets.info(name)
        assert set(entry["units"]) >= set(entry["columns"]) - {"run", "group"}
        assert all(CANONICAL_UNITS[c] == u for c, u in entry["units"].items())
        if entry["kind"] == "public":  # a file of the original repository, at a fixed commit
            assert entry["url"].startswith("https://raw.githubusercontent.com/")
            assert entry["commit"] in entry["url"] and entry["url"].endswith(entry["file"])
        elif entry["kind"] == "derived":  # a curator's table: no download URL pretended
            assert "url" not in entry and entry["derived_from"]
            assert entry["derivation"].startswith("Not a file of the original repository")
    assert datasets.info("datablations")["kind"] == datasets.info("porian_isoflop")["kind"] == "derived"


def test_chinchilla_epoch_245_runs_with_units(mirror):
    runs = bs.datasets.load("chinchilla_epoch", data_home=mirror)
    assert isinstance(runs, bs.Runs) and len(runs) == 245 and runs.dropped == 0
    assert list(runs.data.columns) == ["N", "D", "C", "loss"]
    assert runs.columns == {"N": "Model Size", "C": "Training FLOP", "loss": "loss"}
    assert runs.derived == {"D": "D = C / (6·N)"}
    np.testing.assert_allclose(runs.values("D"), runs.values("C") / (6 * runs.values("N")))
    assert runs.units == {"N": "parameters", "D": "tokens", "C": "FLOPs", "loss": "nats/token"}
    attrs = runs.data.attrs
    assert "arXiv:2404.10102" in attrs["citation"] and attrs["dataset"] == "chinchilla_epoch"
    assert attrs["source"]["sha256"] == datasets.info("chinchilla_epoch")["sha256"]
    assert attrs["cleaning"] == {}


def test_epoch_cleaning_drops_exactly_five_and_records_it(mirror):
    full = bs.datasets.load("chinchilla_epoch", data_home=mirror)
    by_flag = bs.datasets.load("chinchilla_epoch", data_home=mirror, drop_highest_loss=True)
    by_list = bs.datasets.load("chinchilla_epoch", data_home=mirror, clean=["drop_highest_loss"])
    assert by_flag == by_list
    assert len(by_flag) == 240 and by_flag.dropped == 5
    record = by_flag.data.attrs["cleaning"]["drop_highest_loss"]
    assert record["dropped"] == 5 and record["rows"] == [0, 1, 2, 3, 4]
    assert by_flag.values("loss").max() < full.data.loc[record["rows"], "loss"].min()
    with pytest.raises(TypeError, match="drop_highest_loss"):
        bs.datasets.load("chinchilla_epoch", data_home=mirror, drop_lowest_loss=True)


@pytest.mark.parametrize("name, rows, columns, extra", [
    ("datablations", 296, ["N", "D", "C", "loss", "run", "U"], {"U": "unique_tokens", "loss": "val_loss"}),
    ("porian_isoflop", 1745, ["N", "D", "C", "loss", "group"], {"C": "flops", "loss": "loss"}),
    ("gemstones", 1100, ["N", "D", "C", "loss", "run", "step"], {"loss": "final_loss", "step": "step"}),
])
def test_real_datasets_load_with_documented_columns(mirror, name, rows, columns, extra):
    runs = bs.datasets.load(name, data_home=mirror)
    assert len(runs) == rows and list(runs.data.columns) == columns
    assert extra.items() <= runs.columns.items()
    assert runs.units == {c: CANONICAL_UNITS[c] for c in columns if c in CANONICAL_UNITS}
    assert runs.data.attrs["source"]["kind"] == datasets.info(name)["kind"]
    if name == "porian_isoflop":
        assert runs.data["group"].nunique() == 15 and "rw/tuned/short/const/standard/val" in set(runs.data["group"])
    if name == "gemstones":
        assert runs.data["run"].nunique() == 22 and (runs.data.groupby("run").size() == 50).all()


def test_datablations_cleaning_options(mirror):
    runs = bs.datasets.load("datablations", data_home=mirror, drop_misdecoded=True, drop_loss_above_6=True)
    cleaning = runs.data.attrs["cleaning"]
    assert cleaning["drop_misdecoded"]["dropped"] == 1 and cleaning["drop_loss_above_6"]["dropped"] == 20
    assert len(runs) == 275 and runs.dropped == 21 and "4b284b12bc4opt2" not in set(runs.data["run"])


def test_environment_variable_points_at_the_mirror(mirror, offline, monkeypatch):
    monkeypatch.setenv(datasets.ENV_VAR, str(mirror))
    assert len(bs.datasets.load("gemstones")) == 1100 and offline == []


def test_corrupted_mirror_copy_is_refused(mirror, offline, tmp_path):
    entry = datasets.info("chinchilla_epoch")
    bad = tmp_path / "chinchilla_epoch" / entry["file"]
    bad.parent.mkdir()
    data = bytearray((mirror / "chinchilla_epoch" / entry["file"]).read_bytes())
    data[100] = ord("7") if data[100] != ord("7") else ord("8")
    bad.write_bytes(bytes(data))
    with pytest.raises(datasets.DatasetChecksumError) as err:
        bs.datasets.load("chinchilla_epoch", data_home=tmp_path)
    text = str(err.value)
    assert str(bad) in text and entry["sha256"] in text and "expected" in text and offline == []


def test_offline_without_mirror_names_url_and_variable(offline):
    entry = datasets.info("chinchilla_epoch")
    with pytest.raises(datasets.DatasetUnavailableError) as err:
        bs.datasets.load("chinchilla_epoch")
    text = str(err.value)
    assert entry["url"] in text and "BAYES_SCALING_DATA" in text and "data_home=" in text
    assert offline == [entry["url"]]
    with pytest.raises(datasets.DatasetUnavailableError, match="download=False"):
        bs.datasets.load("chinchilla_epoch", download=False)


def test_derived_table_cannot_be_downloaded(offline):
    with pytest.raises(datasets.DatasetUnavailableError) as err:
        bs.datasets.load("datablations")
    text = str(err.value)
    assert "cannot be downloaded" in text and "parametric_fit.ipynb" in text and "BAYES_SCALING_DATA" in text
    assert offline == []  # no request to a URL that does not hold the file


def test_download_is_verified_then_cached(mirror, offline, monkeypatch, tmp_path):
    entry = datasets.info("chinchilla_epoch")
    good = (mirror / "chinchilla_epoch" / entry["file"]).read_bytes()
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(good[:-1] + b"9"))
    with pytest.raises(datasets.DatasetChecksumError, match="downloaded file"):
        datasets.path("chinchilla_epoch")
    cached = datasets.cache_dir() / "chinchilla_epoch" / entry["file"]
    assert not cached.parent.exists() or not any(cached.parent.iterdir())  # nothing half-written kept
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(good))
    assert datasets.path("chinchilla_epoch") == cached and cached.read_bytes() == good
    monkeypatch.setattr(urllib.request, "urlopen", None)  # second load: from the cache, no network
    assert len(bs.datasets.load("chinchilla_epoch")) == 245
    shutil.rmtree(cached.parent)


def test_embedded_demo_needs_no_network(offline):
    runs = bs.datasets.load("demo_chinchilla")
    assert len(runs) == 120 and runs.data.attrs["truth"]["params"] == CHINCHILLA_TRUTH
    assert runs.data.attrs["source"]["kind"] == "embedded" and offline == []


def test_unknown_dataset():
    with pytest.raises(datasets.DatasetError, match="registered: .*chinchilla_epoch"):
        bs.datasets.load("chinchila")


def test_synthetic_groups_and_checkpoints_carry_the_truth():
    frame = bs.datasets.synthetic("chinchilla", CHINCHILLA_TRUTH, 6, noise=0.01, seed=3,
                                  groups={"a": {}, "b": {"alpha": 0.30}}, checkpoints=8)
    assert len(frame) == 2 * 6 * 8 and set(frame["group"]) == {"a", "b"}
    assert frame.groupby("run").size().eq(8).all() and frame["run"].nunique() == 12
    truth = frame.attrs["truth"]
    assert truth["law"] == "chinchilla" and truth["params"] == CHINCHILLA_TRUTH
    assert truth["groups"]["b"]["params"] == {**CHINCHILLA_TRUTH, "alpha": 0.30}
    assert truth["groups"]["a"]["seed"] != truth["groups"]["b"]["seed"]
    assert set(truth["groups"]["b"]["run_effects"]) == set(frame.loc[frame["group"] == "b", "run"])
    runs = bs.load_runs(frame)
    assert {"group", "run", "step", "C"} <= set(runs.data.columns)
    plain = bs.datasets.synthetic("chinchilla", CHINCHILLA_TRUTH, 40, seed=1)
    assert len(plain) == 40 and plain.attrs["truth"]["params"] == CHINCHILLA_TRUTH
    with pytest.raises(ValueError, match="unknown parameter"):
        bs.datasets.synthetic("chinchilla", CHINCHILLA_TRUTH, 5, groups={"x": {"gamma": 1.0}})
