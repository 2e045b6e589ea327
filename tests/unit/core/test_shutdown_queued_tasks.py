"""Shutdown waits for every accepted task, also those still queued for a worker.

Regression test for what tests/e2e/test_shutdown_under_load_e2e.py found: the performer's idle
flag goes up for a moment between two queued tasks (the last running one releases its worker
before the next waiter has resumed), and a shutdown that waited on that flag alone removed the
container under the tasks still waiting ("client for performer ... was closed during the call").
"""

from __future__ import annotations

import asyncio

from executor_core.tasks import TaskResult
from tests.unit.core.conftest import AVS, Harness, make_task


async def test_tasks_waiting_for_a_worker_at_shutdown_all_finish(harness: Harness) -> None:
    async def slow(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(0.02)
        return b"done " + task_id

    harness.handler = slow
    executor = harness.build(harness.settings(worker_count=1, queue_size=8))
    await executor.start()
    tasks = [
        asyncio.create_task(executor.submit_task(make_task(f"0x{i:02x}", AVS.value), timeout=5))
        for i in range(1, 7)
    ]
    await asyncio.sleep(0.005)  # the first one runs, five wait for the only worker
    await executor.shutdown(grace=5)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [r.output if isinstance(r, TaskResult) else r for r in results] == [
        f"done 0x{i:02x}".encode() for i in range(1, 7)
    ]
    assert list(harness.runtime.containers) == []


async def test_the_grace_period_still_bounds_the_wait_for_queued_tasks(harness: Harness) -> None:
    async def hang(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(60)
        return b""

    harness.handler = hang
    executor = harness.build(harness.settings(worker_count=1, queue_size=4))
    await executor.start()
    tasks = [
        asyncio.create_task(executor.submit_task(make_task(f"0x{i:02x}", AVS.value), timeout=30))
        for i in range(1, 4)
    ]
    await asyncio.sleep(0.005)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await executor.shutdown(grace=0.2)
    assert loop.time() - started < 2
    assert list(harness.runtime.containers) == []
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
