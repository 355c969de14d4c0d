"""One executor interface, three back-ends: where the runs of a sweep are computed.

An :class:`Executor` submits a task (a top-level function and plain arguments), waits for the
first of some submitted tasks to finish, and says how many tasks to keep in flight (``slots``,
twice its workers: enough to keep every worker busy, few enough that a sweep of 10,000 runs never
holds 10,000 futures). The sweep engine (:mod:`.engine`) has one code path for all of them:

- :class:`PoolExecutor`: a local process pool (``--workers N``; default one per core), processes
  started with ``spawn`` (no state inherited from the parent, as on a cluster);
- :func:`dask_local`: a local Dask cluster started for the sweep and closed after it
  (``--dask-local N``: N worker processes, one thread each);
- :func:`dask_scheduler`: an existing Dask cluster (``--scheduler tcp://HOST:PORT``); its workers
  must have this package installed and see the sweep directory at the same path (a shared
  filesystem) to keep run directories there; ``results.parquet`` is complete either way, since
  each task returns the run's summary.

Dask (``distributed``) is imported only by the Dask back-ends: ``pip install exchange_sim[dask]``.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from exchange_sim.core.errors import ConfigError


class Executor(ABC):
    """What the sweep engine needs from a back-end (an abstract interface)."""

    name = "executor"
    workers = 1

    @property
    def slots(self) -> int:
        return max(2, 2 * self.workers)

    @abstractmethod
    def submit(self, fn: Callable, *args: Any):
        """Start ``fn(*args)`` on a worker; a future."""

    @abstractmethod
    def wait_first(self, futures: Iterable) -> set:
        """The futures of ``futures`` that have finished, after waiting for at least one."""

    @abstractmethod
    def close(self, cancel: bool = False) -> None:
        """Release the workers (cancelling pending tasks with ``cancel``)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self.close(cancel=exc is not None)


class PoolExecutor(Executor):
    name = "process pool"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        context = multiprocessing.get_context("spawn")
        self._pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=context)

    def submit(self, fn: Callable, *args: Any):
        return self._pool.submit(fn, *args)

    def wait_first(self, futures: Iterable) -> set:
        done, _ = concurrent.futures.wait(
            list(futures), return_when=concurrent.futures.FIRST_COMPLETED
        )
        return set(done)

    def close(self, cancel: bool = False) -> None:
        if not cancel:
            self._pool.shutdown(wait=True)
            return
        # Interrupted (the signal reached the workers too): a worker killed while sending a result
        # leaves the pool's result thread waiting for the rest of it for ever, so waiting for the
        # pool can hang. Stop the workers that are left and do not wait for the pool's threads.
        for process in list((getattr(self._pool, "_processes", None) or {}).values()):
            if process.is_alive():
                process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)


class DaskExecutor(Executor):
    """A ``distributed.Client`` (and the local cluster it owns, if any)."""

    def __init__(self, client, cluster=None, name: str = "dask") -> None:
        self._client = client
        self._cluster = cluster
        self.name = name
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))

    def submit(self, fn: Callable, *args: Any):
        return self._client.submit(fn, *args, pure=False)

    def wait_first(self, futures: Iterable) -> set:
        from distributed import wait

        return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def close(self, cancel: bool = False) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ConfigError(
            "--dask", "distributed", "not installed: pip install 'exchange_sim[dask]'"
        ) from None
    return distributed


def dask_local(workers: int) -> DaskExecutor:
    """A local Dask cluster of ``workers`` processes (one thread each), closed with the sweep."""
    if workers < 1:
        raise ConfigError("--dask-local", workers, "must be >= 1")
    distributed = _distributed()
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return DaskExecutor(distributed.Client(cluster), cluster, f"local dask cluster ({workers})")


def dask_scheduler(address: str, timeout_s: float = 10.0) -> DaskExecutor:
    """The Dask cluster whose scheduler is at ``address`` (e.g. ``tcp://10.0.0.5:8786``)."""
    distributed = _distributed()
    try:
        client = distributed.Client(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError("--scheduler", address, f"cannot connect: {exc}") from None
    return DaskExecutor(client, None, f"dask scheduler {address}")


def make_executor(
    workers: int | None = None, dask_local_workers: int | None = None, scheduler: str | None = None
) -> Executor:
    """The back-end the options ask for (at most one of them; the process pool by default)."""
    chosen = [o for o in (workers, dask_local_workers, scheduler) if o is not None]
    if len(chosen) > 1:
        raise ConfigError("--workers", chosen, "choose one of --workers, --dask-local, --scheduler")
    if scheduler is not None:
        return dask_scheduler(scheduler)
    if dask_local_workers is not None:
        return dask_local(dask_local_workers)
    if workers is not None and workers < 1:
        raise ConfigError("--workers", workers, "must be >= 1")
    return PoolExecutor(workers)
