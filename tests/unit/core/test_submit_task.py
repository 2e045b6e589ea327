"""SubmitTask: routing, signing, limits and deadlines, on the in-memory adapters."""

from __future__ import annotations

import asyncio

import pytest

from executor_core.errors import (
    AvsNotFound,
    PerformerTimeout,
    PerformerUnavailable,
    ShuttingDown,
    TaskAlreadyRunning,
    TooManyTasks,
)

from .conftest import AVS, OPERATOR, OTHER_AVS, Harness, make_task

TASK_ID = "0x" + "ab" * 32


def task(n: int = 7, *, avs: str = AVS.value, task_id: str = TASK_ID):  # type: ignore[no-untyped-def]
    return make_task(task_id, avs, n.to_bytes(32, "big"))


async def test_a_task_runs_on_its_avs_performer_and_comes_back_signed(harness: Harness) -> None:
    executor = harness.build()
    await executor.start()
    result = await executor.submit_task(task(7), timeout=5)
    assert int.from_bytes(result.output, "big") == 49
    assert result.task_id.value == TASK_ID
    assert result.operator_address == OPERATOR.lower()  # as the config holds it
    assert result.signature == await harness.signer.sign_result(result.output)
    assert harness.signer.signed[0] == result.output


async def test_the_result_keeps_the_requested_task_id_whatever_the_performer_does(
    harness: Harness,
) -> None:
    seen: list[bytes] = []

    def record(task_id: bytes, payload: bytes) -> bytes:
        seen.append(task_id)
        return b"out"

    harness.handler = record
    executor = harness.build()
    await executor.start()
    result = await executor.submit_task(task(task_id="0x1234taskId"), timeout=5)
    assert result.task_id.value == "0x1234taskId"
    assert seen == [b"0x1234taskId"]


async def test_the_avs_is_found_whatever_the_case_and_echoed_as_sent(harness: Harness) -> None:
    executor = harness.build()
    await executor.start()
    checksummed = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    result = await executor.submit_task(task(avs=checksummed), timeout=5)
    assert result.avs_address == checksummed


async def test_an_unknown_avs_is_not_found(harness: Harness) -> None:
    executor = harness.build()
    await executor.start()
    with pytest.raises(AvsNotFound, match=OTHER_AVS.value):
        await executor.submit_task(task(avs=OTHER_AVS.value), timeout=5)


async def test_no_more_than_worker_count_tasks_reach_the_performer_at_once(
    harness: Harness,
) -> None:
    running = 0
    peak = 0

    async def slow(task_id: bytes, payload: bytes) -> bytes:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1
        return b"ok"

    harness.handler = slow
    executor = harness.build(harness.settings(worker_count=2, queue_size=10))
    await executor.start()
    results = await asyncio.gather(
        *(executor.submit_task(task(task_id=f"0x{i:064x}"), timeout=5) for i in range(8))
    )
    assert len(results) == 8
    assert peak == 2


async def test_tasks_beyond_the_queue_are_refused_with_too_many_tasks(harness: Harness) -> None:
    release = asyncio.Event()

    async def blocked(task_id: bytes, payload: bytes) -> bytes:
        await release.wait()
        return b"ok"

    harness.handler = blocked
    executor = harness.build(harness.settings(worker_count=1, queue_size=1))
    await executor.start()
    first = asyncio.create_task(executor.submit_task(task(task_id="0x01"), timeout=5))
    second = asyncio.create_task(executor.submit_task(task(task_id="0x02"), timeout=5))
    await asyncio.sleep(0.01)
    with pytest.raises(TooManyTasks):
        await executor.submit_task(task(task_id="0x03"), timeout=5)
    release.set()
    assert [r.output for r in await asyncio.gather(first, second)] == [b"ok", b"ok"]


async def test_a_hung_performer_fails_the_task_at_the_callers_deadline(harness: Harness) -> None:
    async def hang(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(60)
        return b""

    harness.handler = hang
    executor = harness.build()
    await executor.start()
    started = asyncio.get_running_loop().time()
    with pytest.raises(PerformerTimeout):
        await executor.submit_task(task(), timeout=0.2)
    assert asyncio.get_running_loop().time() - started < 1.0
    assert executor.in_flight == 0


async def test_without_a_caller_deadline_the_default_task_timeout_applies(
    harness: Harness,
) -> None:
    async def hang(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(60)
        return b""

    harness.handler = hang
    executor = harness.build(timeout=0.2)
    await executor.start()
    with pytest.raises(PerformerTimeout):
        await executor.submit_task(task(), timeout=None)


async def test_a_performer_that_is_down_gives_unavailable(harness: Harness) -> None:
    def down(task_id: bytes, payload: bytes) -> bytes:
        raise PerformerUnavailable("connection refused")

    harness.handler = down
    executor = harness.build()
    await executor.start()
    with pytest.raises(PerformerUnavailable):
        await executor.submit_task(task(), timeout=5)
    assert executor.in_flight == 0


async def test_the_same_task_twice_at_once_is_refused(harness: Harness) -> None:
    release = asyncio.Event()

    async def blocked(task_id: bytes, payload: bytes) -> bytes:
        await release.wait()
        return b"ok"

    harness.handler = blocked
    executor = harness.build()
    await executor.start()
    first = asyncio.create_task(executor.submit_task(task(), timeout=5))
    await asyncio.sleep(0.01)
    with pytest.raises(TaskAlreadyRunning):
        await executor.submit_task(task(), timeout=5)
    release.set()
    await first
    assert (await executor.submit_task(task(), timeout=5)).output == b"ok"


async def test_tasks_are_refused_once_shutdown_begins(harness: Harness) -> None:
    executor = harness.build()
    await executor.start()
    await executor.shutdown(0)
    with pytest.raises(ShuttingDown):
        await executor.submit_task(task(), timeout=5)
