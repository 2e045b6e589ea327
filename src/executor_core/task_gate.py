"""Per-AVS admission control: `workerCount` tasks run, a bounded number wait, others are refused."""

from __future__ import annotations

import asyncio

from executor_core.errors import TooManyTasks


class TaskGate:
    """Bounds concurrency so one AVS's burst cannot starve its performer or the executor's memory.

    Waiting tasks keep their caller's deadline: the caller wraps `admit()` in its own timeout.
    """

    def __init__(self, workers: int, queue_size: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if queue_size < 0:
            raise ValueError("queue_size must not be negative")
        self._workers = asyncio.Semaphore(workers)
        self._capacity = workers + queue_size
        self._admitted = 0
        self._running = 0

    @property
    def running(self) -> int:
        """Tasks holding a worker slot now."""
        return self._running

    @property
    def waiting(self) -> int:
        """Tasks admitted but still waiting for a worker."""
        return self._admitted - self._running

    def admit(self) -> _Admission:
        """An async context that holds a worker slot; entering raises TooManyTasks when full."""
        return _Admission(self)


class _Admission:
    """`async with gate.admit():` as a plain class: the hot path avoids a generator per task."""

    __slots__ = ("_gate", "_holds_worker")

    def __init__(self, gate: TaskGate) -> None:
        self._gate = gate
        self._holds_worker = False

    async def __aenter__(self) -> None:
        gate = self._gate
        if gate._admitted >= gate._capacity:
            raise TooManyTasks(
                f"{gate._running} tasks running and {gate.waiting} waiting; the queue is full"
            )
        gate._admitted += 1
        try:
            await gate._workers.acquire()
        except BaseException:
            gate._admitted -= 1
            raise
        self._holds_worker = True
        gate._running += 1

    async def __aexit__(self, *exc_info: object) -> None:
        gate = self._gate
        if self._holds_worker:
            self._holds_worker = False
            gate._running -= 1
            gate._workers.release()
            gate._admitted -= 1
