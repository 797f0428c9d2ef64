"""Shared fixtures (the helpers they use are in :mod:`tests.helpers`)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from tests.helpers import mock_fit, shared_file  # noqa: E402


@pytest.fixture
def chinchilla_mock_fit():
    return mock_fit()


@pytest.fixture(scope="session")
def epoch_frame() -> pd.DataFrame:
    return pd.read_csv(shared_file("chinchilla_epoch", "svg_extracted_data.csv"))
