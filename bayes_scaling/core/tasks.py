"""Many independent fits on any ``concurrent.futures.Executor``: local processes, a dask cluster, a Ray pool.

Every many-fit workload (:func:`bayes_scaling.sbc`, :func:`bayes_scaling.backtest`) maps a module-level
function over tasks made of plain data (a runs table, a law spec, settings) and gets plain data back.
:func:`run_tasks` runs them on ``executor`` (``dask.distributed.Client(...).get_executor()`` for a cluster;
none given: ``workers`` local processes, or this process when ``workers`` is 1), retries a task that
failed once (a worker killed mid-run, a lost connection), and reports a task that failed twice as a
:class:`TaskFailure` in its place, never dropping it.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass

from .errors import InputTypeError

__all__ = ["TaskFailure", "run_tasks", "check_executor"]

SPAWN_HINT = (" (a local worker process died; run from a script, the call must sit under "
              "`if __name__ == \"__main__\":`, since each spawned worker imports the script again)")


@dataclass(frozen=True)
class TaskFailure:
    """A task that failed on every attempt: where it was in the list and the last error, in words."""

    index: int
    error: str
    attempts: int


def check_executor(executor) -> None:
    """Raise :class:`InputTypeError` unless ``executor`` is None or has ``submit`` (a futures executor)."""
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise InputTypeError(f"executor must be a concurrent.futures.Executor (e.g. dask's "
                             f"client.get_executor()), got {type(executor).__name__}")


def local_executor(workers: int) -> Executor:
    """``workers`` spawned processes (spawn, not fork: nutpie and numba start threads, and forking a
    threaded process is unsafe)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def run_tasks(func: Callable, tasks: Sequence, *, executor: Executor | None = None, workers: int = 1,
              retries: int = 1) -> list:
    """``[func(t) for t in tasks]``, in order, on ``executor``; an entry is a :class:`TaskFailure` for a task
    that raised on all ``1 + retries`` attempts there.

    With no executor and ``workers`` 1 the tasks run in this process, one after the other, and an
    exception propagates as it is (a bad input is not worth a retry). Otherwise ``func`` and the tasks
    must pickle (a module-level function and plain data).
    """
    check_executor(executor)
    if executor is None and (workers <= 1 or len(tasks) <= 1):
        return [func(t) for t in tasks]
    owned = executor is None
    pool = local_executor(workers) if owned else executor
    try:
        futures: dict[int, Future] = {i: _submit(pool, func, t) for i, t in enumerate(tasks)}
        results, attempts = {}, dict.fromkeys(futures, 1)
        while futures:
            i, future = next(iter(futures.items()))
            error = _error_of(future)
            if error is not None and attempts[i] <= retries:
                if owned and getattr(pool, "_broken", False):  # a killed local worker breaks its whole pool
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = local_executor(workers)
                attempts[i] += 1
                futures[i] = _submit(pool, func, tasks[i])
                continue
            if error is not None and owned and "BrokenProcessPool" in error:
                error += SPAWN_HINT
            results[i] = future.result() if error is None else TaskFailure(i, error, attempts[i])
            del futures[i]
    finally:
        if owned:
            pool.shutdown(cancel_futures=True)
    return [results[i] for i in range(len(tasks))]


def _submit(pool: Executor, func: Callable, task) -> Future:
    try:
        return pool.submit(func, task)
    except Exception as exc:  # noqa: BLE001 - a broken pool: the task fails, the others are still reported
        failed: Future = Future()
        failed.set_exception(exc)
        return failed


def _error_of(future: Future) -> str | None:
    try:
        exc = future.exception()
    except Exception as err:  # noqa: BLE001 - a cancelled or lost future counts as a failed attempt
        exc = err
    return None if exc is None else f"{type(exc).__name__}: {exc}"
