"""The executor's gRPC server: ExecutorService, standard health checking and reflection."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from executor_adapters.grpc.executor_service import SERVICE_NAME, ExecutorServicer, executor_handler
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
    """Owns the grpc.aio server; `start` binds, `stop` drains in-flight calls within a grace."""

    def __init__(
        self,
        executor: Executor,
        *,
        host: str = "0.0.0.0",
        port: int = 9090,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self._address = f"{host}:{port}"
        self._host = host
        self._server = grpc.aio.server(options=server_options(max_message_size))
        self._server.add_generic_rpc_handlers((executor_handler(ExecutorServicer(executor)),))
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        register_descriptors()
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server
        )
        self.port: int | None = None

    async def start(self) -> int:
        """Bind and start serving; return the bound port (useful when asked for port 0)."""
        try:
            port: int = self._server.add_insecure_port(self._address)
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {self._address}: {exc}") from exc
        if port == 0:
            raise OSError(f"cannot listen on {self._address}")
        await self._server.start()
        for name in ("", SERVICE_NAME):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.port = port
        return port

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING, refuse new calls and give running ones `grace` seconds."""
        await self._health.enter_graceful_shutdown()
        await self._server.stop(grace)
