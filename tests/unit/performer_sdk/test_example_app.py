"""The example AVS: its square function, and `serve` running it as a process until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import grpc
import pytest

from hourglass_performer import SERVICE_NAME, TaskError
from hourglass_proto.eigenlayer.hourglass.v1.performer import (
    HealthCheckRequest,
    HealthCheckResponse,
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
