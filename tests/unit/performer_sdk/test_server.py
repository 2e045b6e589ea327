"""The performer SDK served in-process on loopback and called through a real grpc.aio channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2

from hourglass_performer import (
    SERVICE_NAME,
    HealthProbe,
    RunningPerformer,
    Task,
    TaskError,
    TaskHandler,
    TaskValidator,
    start_server,
)
from hourglass_proto.eigenlayer.hourglass.v1.performer import (
    HealthCheckRequest,
    HealthCheckResponse,
    PerformerStatus,
    StartSyncRequest,
    StartSyncResponse,
    TaskRequest,
    TaskResponse,
)

Start = Callable[..., Awaitable[tuple[RunningPerformer, grpc.aio.Channel]]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Start performers on 127.0.0.1:0, each with a channel to it; all closed at the end."""
    opened: list[tuple[RunningPerformer, grpc.aio.Channel]] = []

    async def _start(
        handler: TaskHandler,
        validator: TaskValidator | None = None,
        health: HealthProbe | None = None,
    ) -> tuple[RunningPerformer, grpc.aio.Channel]:
        performer = await start_server(
            handler, host="127.0.0.1", port=0, validator=validator, health=health
        )
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{performer.port}")
        opened.append((performer, channel))
        return performer, channel

    yield _start
    for performer, channel in opened:
        await channel.close()
        await performer.stop(None)


def _rpc(channel: grpc.aio.Channel, method: str, response: Any) -> Any:
    return channel.unary_unary(
        f"/{SERVICE_NAME}/{method}",
        request_serializer=bytes,
        response_deserializer=response.FromString,
    )


async def _execute(channel: grpc.aio.Channel, task_id: bytes, payload: bytes) -> TaskResponse:
    request = TaskRequest(task_id=task_id, payload=payload)
    response: TaskResponse = await _rpc(channel, "ExecuteTask", TaskResponse)(request, timeout=5)
    return response


async def _rpc_error(channel: grpc.aio.Channel, payload: bytes = b"") -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _execute(channel, b"0xfeed", payload)
    return caught.value


async def test_execute_task_echoes_task_id_and_returns_handler_bytes(start: Start) -> None:
    _, channel = await start(lambda task: task.payload[::-1])

    response = await _execute(channel, b"0x" + b"ab" * 32, b"\x01\x02\x03")

    assert response.task_id == b"0x" + b"ab" * 32
    assert response.result == b"\x03\x02\x01"


async def test_async_handler_is_awaited(start: Start) -> None:
    async def handler(task: Task) -> bytes:
        await asyncio.sleep(0)
        return b"async:" + task.task_id

    _, channel = await start(handler)

    assert (await _execute(channel, b"t1", b"")).result == b"async:t1"


async def test_concurrent_tasks_each_get_their_own_result(start: Start) -> None:
    async def handler(task: Task) -> bytes:
        await asyncio.sleep(0.01 * (task.payload[0] % 3))
        return task.payload

    _, channel = await start(handler)

    responses = await asyncio.gather(
        *(_execute(channel, f"t{i}".encode(), bytes([i])) for i in range(30))
    )

    assert [(r.task_id, r.result) for r in responses] == [
        (f"t{i}".encode(), bytes([i])) for i in range(30)
    ]


@pytest.mark.parametrize("error", [TaskError("payload too short"), ValueError("payload too short")])
async def test_task_errors_are_invalid_argument_with_the_message(
    start: Start, error: Exception
) -> None:
    def handler(task: Task) -> bytes:
        raise error

    _, channel = await start(handler)

    rpc_error = await _rpc_error(channel)
    assert rpc_error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rpc_error.details() == "payload too short"


async def test_other_handler_errors_are_internal(start: Start) -> None:
    async def handler(task: Task) -> bytes:
        raise RuntimeError("disk on fire")

    _, channel = await start(handler)

    rpc_error = await _rpc_error(channel)
    assert rpc_error.code() == grpc.StatusCode.INTERNAL
    assert rpc_error.details() == "Failed to handle task: disk on fire"


async def test_a_result_that_is_not_bytes_is_internal(start: Start) -> None:
    _, channel = await start(lambda task: "not bytes")

    rpc_error = await _rpc_error(channel)
    assert rpc_error.code() == grpc.StatusCode.INTERNAL
    assert "handler returned str, not bytes" in (rpc_error.details() or "")


async def test_validator_rejects_before_the_handler_runs(start: Start) -> None:
    handled: list[Task] = []

    def validator(task: Task) -> None:
        if not task.payload:
            raise TaskError("empty payload")

    def handler(task: Task) -> bytes:
        handled.append(task)
        return b"ok"

    _, channel = await start(handler, validator)

    rpc_error = await _rpc_error(channel, b"")
    assert rpc_error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rpc_error.details() == "task is invalid: empty payload"
    assert handled == []
    assert (await _execute(channel, b"t", b"x")).result == b"ok"


async def test_legacy_health_check_is_ready_for_task(start: Start) -> None:
    _, channel = await start(lambda task: b"")

    response = await _rpc(channel, "HealthCheck", HealthCheckResponse)(
        HealthCheckRequest(), timeout=5
    )

    assert response.status == PerformerStatus.READY_FOR_TASK


async def _standard_health(channel: grpc.aio.Channel, service: str = "") -> Any:
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    return (await check(health_pb2.HealthCheckRequest(service=service), timeout=5)).status


async def _legacy_health(channel: grpc.aio.Channel) -> PerformerStatus:
    response = await _rpc(channel, "HealthCheck", HealthCheckResponse)(
        HealthCheckRequest(), timeout=5
    )
    status: PerformerStatus = response.status
    return status


@pytest.mark.parametrize("service", ["", SERVICE_NAME])
async def test_standard_health_check_is_serving(start: Start, service: str) -> None:
    _, channel = await start(lambda task: b"")

    assert await _standard_health(channel, service) == health_pb2.HealthCheckResponse.SERVING


async def test_the_health_probe_is_asked_on_every_check_of_either_service(start: Start) -> None:
    healthy = True
    _, channel = await start(lambda task: b"ok", health=lambda: healthy)

    assert await _legacy_health(channel) == PerformerStatus.READY_FOR_TASK
    assert await _standard_health(channel) == health_pb2.HealthCheckResponse.SERVING

    healthy = False

    assert await _legacy_health(channel) == PerformerStatus.READY_FOR_SYNC
    for service in ("", SERVICE_NAME):
        status = await _standard_health(channel, service)
        assert status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert (await _execute(channel, b"t", b"")).result == b"ok", "tasks are still served"

    healthy = True

    assert await _legacy_health(channel) == PerformerStatus.READY_FOR_TASK


async def test_an_async_health_probe_is_awaited(start: Start) -> None:
    async def unhealthy() -> bool:
        await asyncio.sleep(0)
        return False

    _, channel = await start(lambda task: b"", health=unhealthy)

    assert await _legacy_health(channel) == PerformerStatus.READY_FOR_SYNC
    assert await _standard_health(channel) == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_a_failing_health_probe_counts_as_unhealthy(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> bool:
        raise RuntimeError("probe on fire")

    _, channel = await start(lambda task: b"", health=broken)

    assert await _legacy_health(channel) == PerformerStatus.READY_FOR_SYNC
    assert await _standard_health(channel) == health_pb2.HealthCheckResponse.NOT_SERVING
    assert "probe on fire" in caplog.text


async def test_the_health_probe_does_not_answer_for_unknown_services(start: Start) -> None:
    _, channel = await start(lambda task: b"", health=lambda: False)

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await _standard_health(channel, "no.such.Service")

    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_start_sync_is_a_no_op(start: Start) -> None:
    _, channel = await start(lambda task: b"")

    response = await _rpc(channel, "StartSync", StartSyncResponse)(
        StartSyncRequest(payload=b"anything"), timeout=5
    )

    assert response == StartSyncResponse()


async def test_stop_lets_running_tasks_finish_within_the_grace(start: Start) -> None:
    started = asyncio.Event()

    async def handler(task: Task) -> bytes:
        started.set()
        await asyncio.sleep(0.3)
        return b"done"

    performer, channel = await start(handler)
    running = asyncio.create_task(_execute(channel, b"t", b""))
    await started.wait()

    await performer.stop(grace=5)

    assert (await running).result == b"done"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _execute(channel, b"after", b"")
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_stop_cancels_tasks_still_running_after_the_grace(start: Start) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def handler(task: Task) -> bytes:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return b"never"

    performer, channel = await start(handler)
    running = asyncio.create_task(_execute(channel, b"t", b""))
    await started.wait()

    await asyncio.wait_for(performer.stop(grace=0.1), timeout=5)

    with pytest.raises(grpc.aio.AioRpcError):
        await running
    assert cancelled.is_set()


async def test_a_port_in_use_is_refused(start: Start) -> None:
    first, _ = await start(lambda task: b"")

    with pytest.raises(OSError, match="cannot bind"):
        await start_server(lambda task: b"", host="127.0.0.1", port=first.port)
