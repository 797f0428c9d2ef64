"""Atomic file writes (bayes_scaling.core.files)."""

import pytest

from bayes_scaling.core.files import atomic_write


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    atomic_write(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new" and len(list(tmp_path.iterdir())) == 1


def test_a_new_file_gets_the_umask_permissions_and_an_old_file_keeps_its_own(tmp_path):
    import os
    import stat

    from bayes_scaling.core.files import write_bytes_atomic

    umask = os.umask(0o022)
    try:
        new = write_bytes_atomic(tmp_path / "report.html", b"<html></html>")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644  # not mkstemp's 0600
        os.chmod(new, 0o600)
        write_bytes_atomic(new, b"again")
        assert stat.S_IMODE(new.stat().st_mode) == 0o600 and new.read_bytes() == b"again"
    finally:
        os.umask(umask)
