"""SBC and backtests on a dask cluster (issue 19): the same numbers as the local default for the same seed,
and a worker killed mid-run does not lose the run. Real sampler, tiny fits; a 2-worker LocalCluster."""

import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.core.tasks import run_tasks
from tests.core.test_tasks import kill_worker_once
from tests.helpers import CHINCHILLA_TRUTH

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extras")
pytestmark = pytest.mark.slow

TINY = {"draws": 200, "tune": 200, "chains": 2}


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as c:
        yield c


def test_sbc_on_a_cluster_gives_the_local_ranks(client):
    kwargs = {"n_sims": 4, "design": 24, "seed": 3, "rank_draws": 50, "band_simulations": 200, **TINY}
    local = bs.sbc("chinchilla", max_workers=1, **kwargs)
    remote = bs.sbc("chinchilla", executor=client.get_executor(), **kwargs)
    pd.testing.assert_frame_equal(local.ranks, remote.ranks)
    assert remote.settings["executor"] == "ClientExecutor" and remote.settings["failed_fits"] == {}


def test_backtest_on_a_cluster_gives_the_local_table(client):
    runs = bs.simulate("chinchilla", CHINCHILLA_TRUTH, 30, noise=0.01, seed=2)
    kwargs = {"split": "compute", "holdout": 0.2, "baseline": False, "seed": 5, "discrepancy": None, **TINY}
    local = bs.backtest(runs, "chinchilla", **kwargs)
    remote = bs.backtest(runs, "chinchilla", executor=client.get_executor(), **kwargs)
    pd.testing.assert_frame_equal(local.table, remote.table)
    assert remote.fits["all"].diagnostics.verdict == local.fits["all"].diagnostics.verdict


def test_a_worker_killed_mid_run_is_retried_and_the_run_completes(client, tmp_path):
    tasks = [{"marker": str(tmp_path / "killed"), "value": v} for v in range(6)]
    assert run_tasks(kill_worker_once, tasks, executor=client.get_executor()) == [10 * v for v in range(6)]
    assert (tmp_path / "killed").exists()
    assert len(client.scheduler_info()["workers"]) >= 1  # the cluster goes on with the others


def test_fit_separately_on_a_cluster_gives_the_local_fits(client):
    runs = bs.simulate("chinchilla", CHINCHILLA_TRUTH, 24, noise=0.01, seed=4,
                       groups={"a": {}, "b": {"alpha": 0.30}})
    kwargs = {"seed": 7, "discrepancy": None, "progress": False, **TINY}
    local = bs.fit_separately(runs, "chinchilla", **kwargs)
    remote = bs.fit_separately(runs, "chinchilla", executor=client.get_executor(), **kwargs)
    assert list(remote) == list(local) == ["a", "b"]
    for g in local:
        pd.testing.assert_frame_equal(local[g].summary(), remote[g].summary())
        assert isinstance(remote[g], bs.Fit)


def test_compare_refits_on_a_cluster_give_the_local_scores(client):
    runs = bs.simulate("chinchilla", CHINCHILLA_TRUTH, 30, noise=0.01, seed=6)
    fits = [bs.fit(runs, "chinchilla", likelihood=lik, seed=8, discrepancy=None, progress=False, **TINY)
            for lik in ("student_t", "normal")]
    local = bs.compare(fits, names=["t", "normal"], warn=False)
    remote = bs.compare(fits, names=["t", "normal"], warn=False, executor=client.get_executor())
    pd.testing.assert_frame_equal(local, remote)
