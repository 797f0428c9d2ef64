"""The shipped models/ and datasets/ folders are found in a checkout (and in a wheel)."""

from __future__ import annotations

import pytest

from bayes_scaling.core.resources import shipped_dir


def test_shipped_folders_hold_the_laws_and_datasets():
    assert (shipped_dir("models") / "chinchilla.toml").is_file()
    assert (shipped_dir("datasets") / "demo_chinchilla.toml").is_file()


def test_unknown_folder_is_refused():
    with pytest.raises(ValueError, match="unknown shipped folder"):
        shipped_dir("secrets")
