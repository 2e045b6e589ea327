"""The example AVS: its square function, and `serve` running it as a process until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2

from hourglass_performer import SERVICE_NAME, Task, TaskError
from hourglass_proto.eigenlayer.hourglass.v1.performer import (
    HealthCheckRequest,
    HealthCheckResponse,
    PerformerStatus,
    TaskRequest,
    TaskResponse,
)
from tests.docker_support import free_port
from tests.example_performer import APP_PATH, example_app, word

REPO = APP_PATH.parents[2]
app = example_app()


@pytest.mark.parametrize(
    ("x", "expected"),
    [(0, 0), (3, 9), (2**128, 0), (2**256 - 1, 1), (2**200 + 5, (2**200 + 5) ** 2 % 2**256)],
)
def test_square_is_modulo_2_256(x: int, expected: int) -> None:
    assert app.square(word(x)) == word(expected)


@pytest.mark.parametrize("payload", [b"", b"\x01" * 31, b"\x01" * 33])
def test_square_needs_exactly_32_bytes(payload: bytes) -> None:
    with pytest.raises(TaskError, match="exactly 32 bytes"):
        app.square(payload)


async def _wait_until_serving(
    channel: grpc.aio.Channel, process: asyncio.subprocess.Process
) -> None:
    check = channel.unary_unary(
        f"/{SERVICE_NAME}/HealthCheck",
        request_serializer=bytes,
        response_deserializer=HealthCheckResponse.FromString,
    )
    for _ in range(100):
        assert process.returncode is None, "the performer process exited early"
        try:
            await check(HealthCheckRequest(), timeout=1)
            return
        except grpc.aio.AioRpcError:
            await asyncio.sleep(0.1)
    pytest.fail("the performer process did not start serving")


async def test_sigterm_drains_the_running_task_then_exits_cleanly() -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "PERFORMER_HOST": "127.0.0.1",
        "PERFORMER_PORT": str(port),
        "TASK_DELAY_MS": "500",
        "PERFORMER_VERSION": "v7",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(APP_PATH), env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await _wait_until_serving(channel, process)
            execute = channel.unary_unary(
                f"/{SERVICE_NAME}/ExecuteTask",
                request_serializer=bytes,
                response_deserializer=TaskResponse.FromString,
            )
            running = asyncio.ensure_future(
                execute(TaskRequest(task_id=b"0x01", payload=word(7)), timeout=10)
            )
            await asyncio.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            response = await running
        assert response.result == word(49)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    log = stderr.decode()
    assert "example performer v7 starting" in log
    assert "SIGTERM: stopping" in log
    assert "performer stopped" in log


async def test_the_result_tag_follows_the_square() -> None:
    handle = app.make_handler(result_tag=b"v2")

    assert await handle(Task(task_id=b"t", payload=word(3))) == word(9) + b"v2"


async def test_without_a_tag_the_result_is_the_bare_square() -> None:
    assert await app.make_handler()(Task(task_id=b"t", payload=word(3))) == word(9)


def test_without_unhealthy_after_there_is_no_health_probe() -> None:
    assert app.make_health(None) is None


def test_the_health_probe_turns_false_after_the_given_seconds() -> None:
    now = [100.0]
    healthy = app.make_health(4, clock=lambda: now[0])
    assert healthy is not None

    readings = []
    for t in (100.0, 103.9, 104.0, 250.0):
        now[0] = t
        readings.append(healthy())

    assert readings == [True, True, False, False]


async def _standard_health(channel: grpc.aio.Channel) -> Any:
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    return (await check(health_pb2.HealthCheckRequest(), timeout=5)).status


TURNS_UNHEALTHY_AFTER = 6.0
"""Long enough for the process to start and answer on a loaded 2-core machine."""


async def test_the_process_tags_results_and_turns_unhealthy_from_its_environment() -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "PERFORMER_HOST": "127.0.0.1",
        "PERFORMER_PORT": str(port),
        "RESULT_TAG": "v2",
        "UNHEALTHY_AFTER_S": str(TURNS_UNHEALTHY_AFTER),
    }
    started = time.monotonic()  # the process counts from a moment after this
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(APP_PATH), env=env, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await _wait_until_serving(channel, process)
            legacy = channel.unary_unary(
                f"/{SERVICE_NAME}/HealthCheck",
                request_serializer=bytes,
                response_deserializer=HealthCheckResponse.FromString,
            )
            execute = channel.unary_unary(
                f"/{SERVICE_NAME}/ExecuteTask",
                request_serializer=bytes,
                response_deserializer=TaskResponse.FromString,
            )
            response = await execute(TaskRequest(task_id=b"0x01", payload=word(7)), timeout=5)
            assert response.result == word(49) + b"v2"
            assert (await legacy(HealthCheckRequest(), timeout=5)).status == (
                PerformerStatus.READY_FOR_TASK
            )

            await asyncio.sleep(max(started + TURNS_UNHEALTHY_AFTER + 0.5 - time.monotonic(), 0))

            assert (await legacy(HealthCheckRequest(), timeout=5)).status == (
                PerformerStatus.READY_FOR_SYNC
            )
            assert await _standard_health(channel) == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        process.kill()
        await process.wait()
