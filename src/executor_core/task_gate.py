"""Per-AVS admission control: `workerCount` tasks run, a bounded number wait, others are refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold a worker slot for the body; raise TooManyTasks when the queue is full."""
        if self._admitted >= self._capacity:
            raise TooManyTasks(
                f"{self._running} tasks running and {self.waiting} waiting; the queue is full"
            )
        self._admitted += 1
        try:
            async with self._workers:
                self._running += 1
                try:
                    yield
                finally:
                    self._running -= 1
        finally:
            self._admitted -= 1
