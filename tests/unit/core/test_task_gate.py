"""The admission gate: `workers` run at once, `queue_size` more wait, the rest are refused."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor_core.errors import TooManyTasks
from executor_core.task_gate import TaskGate


async def test_tasks_beyond_workers_and_queue_are_refused_at_once() -> None:
    gate = TaskGate(workers=1, queue_size=1)
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.admit():
            await release.wait()

    running = asyncio.create_task(hold())
    waiting = asyncio.create_task(hold())
    await asyncio.sleep(0)
    assert (gate.running, gate.waiting) == (1, 1)
    with pytest.raises(TooManyTasks, match="queue is full"):
        async with gate.admit():
            pass
    release.set()
    await asyncio.gather(running, waiting)
    assert (gate.running, gate.waiting) == (0, 0)


async def test_a_cancelled_waiter_gives_its_queue_place_back() -> None:
    gate = TaskGate(workers=1, queue_size=1)
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.admit():
            await release.wait()

    running = asyncio.create_task(hold())
    waiting = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert gate.waiting == 0
    release.set()
    await running


@settings(max_examples=30, deadline=None)
@given(
    workers=st.integers(1, 4),
    queue_size=st.integers(0, 4),
    arrivals=st.integers(1, 12),
)
def test_never_more_than_workers_run_and_never_more_than_capacity_is_admitted(
    workers: int, queue_size: int, arrivals: int
) -> None:
    async def scenario() -> tuple[int, int, int]:
        gate = TaskGate(workers=workers, queue_size=queue_size)
        peak = 0
        refused = 0

        async def task() -> None:
            nonlocal peak, refused
            try:
                async with gate.admit():
                    peak = max(peak, gate.running)
                    await asyncio.sleep(0.001)
            except TooManyTasks:
                refused += 1

        await asyncio.gather(*(task() for _ in range(arrivals)))
        return peak, refused, gate.running

    peak, refused, still_running = asyncio.run(scenario())
    assert peak <= workers
    assert refused == max(0, arrivals - workers - queue_size)
    assert still_running == 0


def test_a_gate_needs_at_least_one_worker() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TaskGate(workers=0, queue_size=0)
