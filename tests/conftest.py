"""Shared fixtures (the helpers they use are in :mod:`tests.helpers`)."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

from tests.helpers import mock_fit, shared_file  # noqa: E402

# No timed assertions (benchmarks/ measure time): hypothesis' per-example deadline is one, and under
# `pytest -n 2` a test shares the cores with a sampler, so it is off for every test.
settings.register_profile("no_deadline", deadline=None)
settings.load_profile("no_deadline")


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist's ``--dist loadgroup`` (the README's test command) the real-sampler tests run
    one after another on one worker while the other worker takes the fast tests: two samplers at once
    would each run their chains on one core. Without xdist the marker does nothing."""
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group("sampler"))


@pytest.fixture(autouse=True)
def _no_third_party_stderr_from_the_cli(monkeypatch):
    """Every CLI call in any test (typer's CliRunner) fails its test if a library writes to stderr."""
    from typer.testing import CliRunner

    from tests.helpers import third_party_lines

    original = CliRunner.invoke

    def invoke(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        chatter = third_party_lines(result.stderr)
        assert not chatter, f"third-party output on the CLI's stderr: {chatter[:5]}"
        return result

    monkeypatch.setattr(CliRunner, "invoke", invoke)


@pytest.fixture
def chinchilla_mock_fit():
    return mock_fit()


@pytest.fixture(scope="session")
def epoch_frame() -> pd.DataFrame:
    return pd.read_csv(shared_file("chinchilla_epoch", "svg_extracted_data.csv"))


def pytest_terminal_summary(terminalreporter):
    """Say why tests were skipped in the summary itself (not only under ``-rs``): one line per reason,
    e.g. the shared data that is not beside this checkout, and how to get it."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.write_sep("-", f"{len(skipped)} skipped, and why")
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        hint = " (or put the project's shared/data folder beside this checkout)" if "shared data" in reason else ""
        terminalreporter.write_line(f"{count:4d} x {reason}{hint}")
