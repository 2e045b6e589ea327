"""The executor's gRPC server: both generations' services, health checking and reflection."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from executor_adapters.grpc.decoding import register_decoding_safely
from executor_adapters.grpc.executor_service import (
    MANAGEMENT_SERVICE_NAME,
    SERVICE_NAME,
    ExecutorServicer,
    KubernetesDeploys,
    executor_handler,
    management_handler,
)
from executor_adapters.grpc.reflection import register_descriptors
from executor_core.executor import Executor

DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024


def server_options(max_message_size: int) -> list[tuple[str, int]]:
    """Options that let Ponos aggregators' keepalive pings through and refuse port sharing."""
    return [
        ("grpc.so_reuseport", 0),
        ("grpc.max_receive_message_length", max_message_size),
        ("grpc.max_send_message_length", max_message_size),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 5000),
        ("grpc.keepalive_time_ms", 20000),
        ("grpc.keepalive_timeout_ms", 10000),
    ]


class ExecutorServer:
    """Owns the grpc.aio server(s); `start` binds, `stop` drains in-flight calls within a grace.

    With a `management_port` of its own (not None, not 0 and not `port`), the management plane
    gets a second listener, and each listener serves only its own RPCs, as upstream does: the
    task port SubmitTask, the management port ExecutorManagementService and the first
    generation's management paths. Otherwise one listener serves everything. When the executor
    has management authentication, every management call must carry a challenge signature.
    `interceptors`
    wrap every call on every listener (tests use them to play callers from elsewhere).
    `kubernetes` is given when the performers run on Kubernetes (`ExecutorServicer`).
    """

    def __init__(
        self,
        executor: Executor,
        *,
        host: str = "0.0.0.0",
        port: int = 9090,
        management_port: int | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        open_management: bool = False,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        kubernetes: KubernetesDeploys | None = None,
    ) -> None:
        servicer = ExecutorServicer(
            executor,
            open_management=open_management,
            authenticator=executor.management_auth,
            kubernetes=kubernetes,
        )
        register_descriptors()
        separate = management_port not in (None, 0, port)
        tasks = _Listener(
            f"{host}:{port}",
            max_message_size,
            (executor_handler(servicer, management=not separate),)
            + (() if separate else (management_handler(servicer),)),
            (SERVICE_NAME,) if separate else (SERVICE_NAME, MANAGEMENT_SERVICE_NAME),
            interceptors,
        )
        self._listeners = [tasks]
        if separate:
            self._listeners.append(
                _Listener(
                    f"{host}:{management_port}",
                    max_message_size,
                    (management_handler(servicer), executor_handler(servicer, submit=False)),
                    (MANAGEMENT_SERVICE_NAME, SERVICE_NAME),
                    interceptors,
                )
            )
        self.port: int | None = None
        self.management_port: int | None = None

    async def start(self) -> int:
        """Bind and start serving; return the task port (useful when asked for port 0)."""
        ports = []
        try:
            for listener in self._listeners:
                ports.append(await listener.start())
        except BaseException:
            for listener in self._listeners:
                await listener.stop(0)
            raise
        self.port = ports[0]
        self.management_port = ports[-1]
        return self.port

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING, refuse new calls and give running ones `grace` seconds."""
        await asyncio.gather(*(listener.stop(grace) for listener in self._listeners))


class _Listener:
    """One grpc.aio server on one address, with standard health checking and reflection.

    Health and reflection are grpc's own servicers, registered so that a body that is not a
    valid message gets INVALID_ARGUMENT rather than grpc's UNKNOWN (`grpc.decoding`).
    """

    def __init__(
        self,
        address: str,
        max_message_size: int,
        handlers: tuple[grpc.GenericRpcHandler, ...],
        services: tuple[str, ...],
        interceptors: Sequence[grpc.aio.ServerInterceptor],
    ) -> None:
        self._address = address
        self._services = services
        self._server = grpc.aio.server(
            options=server_options(max_message_size), interceptors=tuple(interceptors)
        )
        self._server.add_generic_rpc_handlers(handlers)
        self._health = health.aio.HealthServicer()
        register_decoding_safely(
            self._server, health_pb2_grpc.add_HealthServicer_to_server, self._health
        )
        register_decoding_safely(
            self._server,
            reflection_pb2_grpc.add_ServerReflectionServicer_to_server,
            reflection.aio.ReflectionServicer(
                (*services, health.SERVICE_NAME, reflection.SERVICE_NAME)
            ),
        )
        self._started = False

    async def start(self) -> int:
        try:
            port: int = self._server.add_insecure_port(self._address)
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {self._address}: {exc}") from exc
        if port == 0:
            raise OSError(f"cannot listen on {self._address}")
        await self._server.start()
        self._started = True
        for name in ("", *self._services):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return port

    async def stop(self, grace: float) -> None:
        if self._started:
            await self._health.enter_graceful_shutdown()
        await self._server.stop(grace)
