"""Many tasks on any executor: order kept, a failed task retried once, then reported, never dropped."""

import os
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from bayes_scaling import InputTypeError
from bayes_scaling.core.tasks import TaskFailure, run_tasks


def square(x):
    return x * x


def kill_worker_once(task):
    """Kill the worker process running it the first time (a marker file remembers), then return."""
    marker, value = Path(task["marker"]), task["value"]
    if value == 2 and not marker.exists():
        marker.write_text("killed")
        os._exit(1)
    return value * 10


class FlakyExecutor(Executor):
    """Runs tasks at once; the tasks listed in ``fail`` raise on their first ``times`` submissions."""

    def __init__(self, fail, times=1):
        self.fail, self.times, self.seen = set(fail), times, {}

    def submit(self, fn, task):
        future = Future()
        self.seen[task] = self.seen.get(task, 0) + 1
        if task in self.fail and self.seen[task] <= self.times:
            future.set_exception(ConnectionError(f"worker lost running {task}"))
        else:
            future.set_result(fn(task))
        return future


def test_in_this_process_in_order_and_errors_propagate():
    assert run_tasks(square, [3, 1, 2]) == [9, 1, 4]
    with pytest.raises(TypeError):
        run_tasks(square, ["a"])  # a bad input is not retried or hidden


def test_any_executor_keeps_the_order():
    with ThreadPoolExecutor(2) as pool:
        assert run_tasks(square, list(range(10)), executor=pool) == [i * i for i in range(10)]


def test_a_failed_task_is_retried_once_then_reported():
    flaky = FlakyExecutor(fail={2}, times=1)
    assert run_tasks(square, [1, 2, 3], executor=flaky) == [1, 4, 9]
    assert flaky.seen == {1: 1, 2: 2, 3: 1}
    twice = FlakyExecutor(fail={2}, times=2)
    out = run_tasks(square, [1, 2, 3], executor=twice)
    assert out[0] == 1 and out[2] == 9
    assert isinstance(out[1], TaskFailure) and out[1].index == 1 and out[1].attempts == 2
    assert "ConnectionError: worker lost running 2" in out[1].error


def test_not_an_executor_is_a_named_error():
    with pytest.raises(InputTypeError, match="concurrent.futures.Executor"):
        run_tasks(square, [1], executor="dask")


def test_a_killed_local_worker_is_replaced_and_its_task_retried(tmp_path):
    tasks = [{"marker": str(tmp_path / "killed"), "value": v} for v in range(4)]
    assert run_tasks(kill_worker_once, tasks, workers=2) == [0, 10, 20, 30]
    assert (tmp_path / "killed").read_text() == "killed"  # the worker was killed once


def die(task):
    os._exit(1)


def test_a_pool_that_keeps_breaking_is_reported_with_the_likely_cause():
    out = run_tasks(die, [1, 2], workers=2)
    assert all(isinstance(r, TaskFailure) and r.attempts == 2 for r in out)
    assert "BrokenProcessPool" in out[0].error and 'if __name__ == "__main__":' in out[0].error
