"""Each second-generation task runs once per AVS; repeats get the first run's signed result.

Aggregators retry, and a retry whose first answer was lost must still get a result. So a task
id that completed returns the stored TaskResult (the same bytes on the wire), and a repeat that
arrives while the first run is in progress waits for it and gets its result. Failures are not
kept: if the first run fails, a waiting repeat runs the task itself. A request that reuses a
task id with a different signed message is refused instead of being answered with a result it
did not ask for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import attrs

from executor_core.addresses import AvsAddress
from executor_core.errors import TaskAlreadyProcessed, TaskAlreadyRunning
from executor_core.ports import ProcessedTask, ProcessedTasks
from executor_core.tasks import TaskResult

__all__ = ["TaskDeduplicator"]

_Key = tuple[AvsAddress, str]


@attrs.define(eq=False)
class _Run:
    fingerprint: bytes
    done: asyncio.Future[TaskResult] | None = None
    """Made only when a repeat arrives to wait on it: most tasks are never repeated."""

    def waitable(self) -> asyncio.Future[TaskResult]:
        if self.done is None:
            self.done = asyncio.get_running_loop().create_future()
        return self.done

    def finish(self, result: TaskResult | None, error: BaseException | None) -> None:
        if self.done is None:
            return
        if error is None:
            assert result is not None
            self.done.set_result(result)
        else:
            self.done.set_exception(
                error if isinstance(error, Exception) else RuntimeError("cancelled")
            )
            self.done.exception()  # retrieved: the waiters may have gone


class TaskDeduplicator:
    """Runs a task's work at most once at a time per (AVS, task id), and keeps what succeeded."""

    def __init__(self, store: ProcessedTasks) -> None:
        self._store = store
        self._running: dict[_Key, _Run] = {}

    async def run_once(
        self,
        avs: AvsAddress,
        task_id: str,
        fingerprint: bytes,
        work: Callable[[], Awaitable[TaskResult]],
    ) -> tuple[TaskResult, bool]:
        """The task's result, and whether it came from an earlier run (True) or from `work`."""
        key = (avs, task_id)
        while True:
            stored = await self._store.get(avs, task_id)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise TaskAlreadyProcessed(
                        f"task_id: task {task_id} of AVS {avs} was already processed for a "
                        "different request"
                    )
                return stored.result, True
            running = self._running.get(key)
            if running is None:
                break
            if running.fingerprint != fingerprint:
                raise TaskAlreadyRunning(
                    f"task_id: task {task_id} of AVS {avs} is running for a different request"
                )
            try:
                return await asyncio.shield(running.waitable()), True
            except Exception:  # the first run failed, and failures are not kept: run it here
                continue
        run = _Run(fingerprint)
        self._running[key] = run
        try:
            result = await work()
            await self._store.put(avs, task_id, ProcessedTask(fingerprint, result))
        except BaseException as exc:
            run.finish(None, exc)
            raise
        else:
            run.finish(result, None)
        finally:
            del self._running[key]
        return result, False
