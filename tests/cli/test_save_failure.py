"""A save that fails (a full disk) in the CLI: one line, exit 2, the old fit intact, no partial file."""

from __future__ import annotations

from pathlib import Path

import bayes_scaling as bs
from tests.cli.test_commands import COLS, invoke


def test_a_full_disk_during_save_exits_2_with_one_line(runs_csv, tmp_path, fake_sampler, monkeypatch):
    fake_sampler()
    out = tmp_path / "fit.nc"
    res = invoke("fit", runs_csv, *COLS, "-o", out)
    assert res.exit_code in (0, 3), res.stderr
    before = out.read_bytes()

    def full_disk(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    res = invoke("fit", runs_csv, *COLS, "-o", out)
    monkeypatch.undo()
    assert res.exit_code == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "No space left on device" in lines[0] and str(out) in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["fit.nc", "runs.csv"]
    assert bs.load_fit(out) is not None


def test_an_unexpected_failure_exits_1_with_one_line_and_no_traceback(runs_csv, tmp_path, monkeypatch, capsys):
    import pytest

    from bayes_scaling import cli

    def crash(runs, **kwargs):
        raise RuntimeError("sampler crashed\nwith a long story")

    monkeypatch.setattr(cli.commands, "fit_law", crash)
    with pytest.raises(SystemExit) as info:
        cli.run(["fit", str(runs_csv), *COLS, "-o", str(tmp_path / "f.nc")])
    err = capsys.readouterr().err
    assert info.value.code == cli.EXIT_FAILED == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == ["error: RuntimeError: sampler crashed (this is a failure, not bad input; please report it "
                     "with the command you ran)"], err
