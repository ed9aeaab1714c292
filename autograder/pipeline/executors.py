"""Where grading tasks run, and how a run stops: a local process pool or a Dask cluster, behind one interface.

SIGTERM and SIGINT (Ctrl-C) while grading stop the workers and their sandboxed
kernels at once, not after their notebooks; what the coordinator recorded before
is kept (``grading_state.json``), and the next run grades the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .model import GradingTask
from .workers import warm_up


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@dataclass
class Executor:
    """Where grading tasks run: a local process pool or a Dask cluster, behind one interface."""

    submit: Callable  # (fn, task) -> future
    as_completed: Callable  # futures -> iterator over them as they finish


@contextmanager
def open_executor(tasks: int, workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """An :class:`Executor` for up to ``tasks`` submissions: ``workers`` local processes (default: one per core),
    or the Dask cluster at ``scheduler``; local workers start (and import nbgrader) at once.

    Started before the first submission is ready, a worker's start-up (a
    process that imports nbgrader) overlaps the coordinator's own set-up.
    """
    if scheduler:
        from distributed import Client, as_completed

        client = Client(scheduler)

        def submit(fn, task: GradingTask):
            return client.submit(fn, task, pure=False, key=f"grade-{task.student}-{task.assignment}-{os.urandom(4).hex()}")

        try:
            yield Executor(submit, as_completed)
        finally:
            client.close()
        return
    import concurrent.futures as cf
    import multiprocessing

    workers = workers or default_workers()
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(min(workers, tasks)):
        pool.submit(warm_up)  # its result does not matter: a worker that cannot import fails its tasks with the reason
    try:
        yield Executor(pool.submit, cf.as_completed)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): stop the workers and their kernels now, not after their notebooks
        stop_process_tree()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True, cancel_futures=True)


def stop_process_tree(grace_s: float = 5.0) -> None:
    """Terminate every process this one started (workers, their sandboxes and kernels), then kill what is left."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


class GradingInterrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT while grading: what was graded is kept (grading_state.json), the rest is graded on the next run."""


@contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGTERM into :class:`GradingInterrupted` (SIGINT already raises KeyboardInterrupt) while grading, in the main thread."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise GradingInterrupted(f"stopped by signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
