"""One contract for every PerformerClient: the in-memory fake, and the grpcio client against
the SDK in-process and against the example performer image in Docker.

Each performer under test runs the example AVS's square handler; `slow_client` reaches one
that waits SLOW_DELAY before answering.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from executor_adapters.grpc.performer_client import GrpcioPerformerClient, GrpcioPerformerConnector
from executor_adapters.memory.performer import ScriptedPerformer, ScriptedPerformerConnector
from executor_core.errors import (
    PerformerError,
    PerformerTimeout,
    PerformerUnavailable,
    TaskRejected,
)
from executor_core.performers import Endpoint
from executor_core.ports import PerformerClient, PerformerConnector
from hourglass_performer import SERVICE_NAME, Task, TaskError, start_server
from hourglass_proto.eigenlayer.hourglass.v1.performer import (
    HealthCheckResponse,
    PerformerStatus,
)
from tests.docker_support import EXAMPLE_IMAGE, TEST_LABEL, free_port, require_example_image
from tests.example_performer import example_app, word

SLOW_DELAY = 1.5
app = example_app()


class PerformerClientContract:
    """Shared behaviour; a subclass provides the `client` and `slow_client` fixtures."""

    @pytest.fixture
    def client(self) -> PerformerClient:
        raise NotImplementedError

    @pytest.fixture
    def slow_client(self) -> PerformerClient:
        raise NotImplementedError

    async def test_squares_a_32_byte_payload(self, client: PerformerClient) -> None:
        result = await client.execute_task(b"0x01", word(12345), timeout=5)

        assert result == word(12345**2)

    async def test_the_square_wraps_modulo_2_256(self, client: PerformerClient) -> None:
        result = await client.execute_task(b"0x02", word(2**256 - 1), timeout=5)

        assert result == word(1)

    async def test_concurrent_tasks_each_get_their_own_result(
        self, client: PerformerClient
    ) -> None:
        results = await asyncio.gather(
            *(client.execute_task(f"0x{i:02x}".encode(), word(i), timeout=5) for i in range(20))
        )

        assert results == [word(i * i) for i in range(20)]

    async def test_an_invalid_payload_is_rejected(self, client: PerformerClient) -> None:
        with pytest.raises(TaskRejected, match="exactly 32 bytes"):
            await client.execute_task(b"0x03", b"\x01" * 31, timeout=5)

    async def test_a_slow_performer_times_out(self, slow_client: PerformerClient) -> None:
        started = time.monotonic()

        with pytest.raises(PerformerTimeout):
            await slow_client.execute_task(b"0x04", word(2), timeout=0.3)

        assert time.monotonic() - started < SLOW_DELAY

    async def test_a_ready_performer_is_healthy(self, client: PerformerClient) -> None:
        assert await client.check_health(timeout=2) is True

    async def test_a_closed_client_is_unavailable(self, client: PerformerClient) -> None:
        await client.aclose()

        with pytest.raises(PerformerUnavailable):
            await client.execute_task(b"0x05", word(2), timeout=5)


def _scripted_square(delay: float = 0.0) -> Any:
    async def handle(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(delay)
        result: bytes = app.square(payload)
        return result

    return handle


class TestScriptedPerformer(PerformerClientContract):
    @pytest.fixture
    def client(self) -> PerformerClient:
        return ScriptedPerformer(_scripted_square())

    @pytest.fixture
    def slow_client(self) -> PerformerClient:
        return ScriptedPerformer(_scripted_square(SLOW_DELAY))


class TestGrpcioPerformerClientInProcess(PerformerClientContract):
    """The real client against the SDK served in this process: the wire without Docker."""

    @staticmethod
    async def _client_to_performer(delay: float) -> AsyncIterator[PerformerClient]:
        performer = await start_server(app.make_handler(delay), host="127.0.0.1", port=0)
        client = GrpcioPerformerClient(Endpoint("127.0.0.1", performer.port))
        try:
            yield client
        finally:
            await client.aclose()
            await performer.stop(None)

    @pytest.fixture
    async def client(self) -> AsyncIterator[PerformerClient]:
        async for client in self._client_to_performer(0.0):
            yield client

    @pytest.fixture
    async def slow_client(self) -> AsyncIterator[PerformerClient]:
        async for client in self._client_to_performer(SLOW_DELAY):
            yield client


def _run_container(env: dict[str, str]) -> tuple[str, Endpoint]:
    command = ["docker", "run", "-d", "-p", "127.0.0.1::8080", "--label", f"{TEST_LABEL}=1"]
    for name, value in env.items():
        command += ["-e", f"{name}={value}"]
    container_id = subprocess.run(
        [*command, EXAMPLE_IMAGE], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        published = subprocess.run(
            ["docker", "port", container_id, "8080/tcp"], capture_output=True, text=True, check=True
        ).stdout.split()[0]
    except BaseException:
        _remove_container(container_id)
        raise
    host, _, port = published.rpartition(":")
    return container_id, Endpoint(host, int(port))


def _remove_container(container_id: str) -> None:
    subprocess.run(["docker", "rm", "-f", container_id], capture_output=True, check=False)


async def _when_healthy(client: PerformerClient, within: float = 30.0) -> PerformerClient:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if await client.check_health(timeout=1):
                return client
        except PerformerError:
            pass
        await asyncio.sleep(0.1)
    await client.aclose()
    pytest.fail(f"the performer container did not become healthy within {within:g} s")


@pytest.fixture(scope="module")
def container_endpoints() -> Iterator[dict[str, Endpoint]]:
    """A fast and a slow example performer container for the whole module, removed by id."""
    require_example_image()
    started: list[str] = []
    try:
        endpoints = {}
        for name, env in {
            "fast": {},
            "slow": {"TASK_DELAY_MS": str(int(SLOW_DELAY * 1000))},
        }.items():
            container_id, endpoint = _run_container(env)
            started.append(container_id)
            endpoints[name] = endpoint
        yield endpoints
    finally:
        for container_id in started:
            _remove_container(container_id)


@pytest.mark.docker
class TestGrpcioPerformerClientAgainstContainer(PerformerClientContract):
    """The real client against hourglass-example-performer:latest, published on loopback."""

    @pytest.fixture
    async def client(
        self, container_endpoints: dict[str, Endpoint]
    ) -> AsyncIterator[PerformerClient]:
        client = await _when_healthy(GrpcioPerformerClient(container_endpoints["fast"]))
        yield client
        await client.aclose()

    @pytest.fixture
    async def slow_client(
        self, container_endpoints: dict[str, Endpoint]
    ) -> AsyncIterator[PerformerClient]:
        client = await _when_healthy(GrpcioPerformerClient(container_endpoints["slow"]))
        yield client
        await client.aclose()


# What only the grpcio client does: reaching performers that are down, and health fallbacks.


async def test_a_closed_port_is_unavailable_well_within_the_timeout() -> None:
    client = GrpcioPerformerClient(Endpoint("127.0.0.1", free_port()))
    started = time.monotonic()
    try:
        with pytest.raises(PerformerUnavailable):
            await client.execute_task(b"0x01", word(2), timeout=5)
        with pytest.raises(PerformerUnavailable):
            await client.check_health(timeout=5)
    finally:
        await client.aclose()

    assert time.monotonic() - started < 2


async def test_a_port_that_never_speaks_grpc_is_unavailable_at_the_deadline() -> None:
    """The TCP connect succeeds but HTTP/2 never starts: unreachable, not a slow task."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = GrpcioPerformerClient(Endpoint("127.0.0.1", listener.getsockname()[1]))
        started = time.monotonic()
        try:
            with pytest.raises(PerformerUnavailable, match="within the deadline"):
                await client.execute_task(b"0x01", word(2), timeout=0.5)
        finally:
            await client.aclose()

    assert time.monotonic() - started < 2


async def test_a_handler_crash_is_rejected_with_the_performer_code_and_details() -> None:
    def handler(task: Task) -> bytes:
        raise RuntimeError("disk on fire")

    performer = await start_server(handler, host="127.0.0.1", port=0)
    client = GrpcioPerformerClient(Endpoint("127.0.0.1", performer.port))
    try:
        with pytest.raises(TaskRejected, match="INTERNAL: Failed to handle task: disk on fire"):
            await client.execute_task(b"0x01", b"", timeout=5)
    finally:
        await client.aclose()
        await performer.stop(None)


async def test_an_invalid_task_is_rejected_as_invalid_argument() -> None:
    def handler(task: Task) -> bytes:
        raise TaskError("no")

    performer = await start_server(handler, host="127.0.0.1", port=0)
    client = GrpcioPerformerClient(Endpoint("127.0.0.1", performer.port))
    try:
        with pytest.raises(TaskRejected, match="INVALID_ARGUMENT: no"):
            await client.execute_task(b"0x01", b"", timeout=5)
    finally:
        await client.aclose()
        await performer.stop(None)


async def test_closing_the_client_ends_a_running_call_as_unavailable() -> None:
    performer = await start_server(app.make_handler(SLOW_DELAY), host="127.0.0.1", port=0)
    client = GrpcioPerformerClient(Endpoint("127.0.0.1", performer.port))
    try:
        running = asyncio.create_task(client.execute_task(b"0x01", word(2), timeout=5))
        await asyncio.sleep(0.3)
        await client.aclose()
        with pytest.raises(PerformerUnavailable):
            await running
    finally:
        await performer.stop(None)


async def _health_only_server(
    legacy_status: PerformerStatus | None, standard_status: int
) -> tuple[grpc.aio.Server, int]:
    """A server with grpc.health.v1 and, unless `legacy_status` is None, the legacy RPC."""
    server = grpc.aio.server()
    if legacy_status is not None:

        async def legacy(request: bytes, context: Any) -> HealthCheckResponse:
            return HealthCheckResponse(status=legacy_status)

        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    SERVICE_NAME,
                    {"HealthCheck": grpc.unary_unary_rpc_method_handler(legacy, None, bytes)},
                ),
            )
        )
    servicer = health.aio.HealthServicer()
    await servicer.set("", standard_status)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


@pytest.mark.parametrize(
    ("legacy", "standard", "healthy"),
    [
        (PerformerStatus.READY_FOR_TASK, health_pb2.HealthCheckResponse.NOT_SERVING, True),
        (PerformerStatus.READY_FOR_SYNC, health_pb2.HealthCheckResponse.SERVING, False),
        (None, health_pb2.HealthCheckResponse.SERVING, True),
        (None, health_pb2.HealthCheckResponse.NOT_SERVING, False),
    ],
    ids=["legacy-ready", "legacy-syncing", "standard-serving", "standard-not-serving"],
)
async def test_health_asks_the_legacy_rpc_then_the_standard_one(
    legacy: PerformerStatus | None, standard: int, healthy: bool
) -> None:
    server, port = await _health_only_server(legacy, standard)
    client = GrpcioPerformerClient(Endpoint("127.0.0.1", port))
    try:
        assert await client.check_health(timeout=2) is healthy
        assert await client.check_health(timeout=2) is healthy
    finally:
        await client.aclose()
        await server.stop(None)


def test_connectors_hand_out_clients_for_each_endpoint() -> None:
    endpoint = Endpoint("127.0.0.1", 8080)
    grpcio: PerformerConnector = GrpcioPerformerConnector()
    scripted = ScriptedPerformerConnector(_scripted_square())
    as_port: PerformerConnector = scripted

    assert isinstance(grpcio.connect(endpoint), GrpcioPerformerClient)
    first = as_port.connect(endpoint)
    second = as_port.connect(Endpoint("127.0.0.1", 8081))
    assert scripted.clients == [first, second]
    assert scripted.client_for(endpoint) is first
