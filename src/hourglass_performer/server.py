"""Running the PerformerService: an in-process server for tests, and `serve` for the container."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from hourglass_performer.service import SERVICE_NAME, PerformerService, performer_service_handler
from hourglass_performer.task import HealthProbe, TaskHandler, TaskValidator

log = logging.getLogger("hourglass_performer")

DEFAULT_PORT = 8080
DEFAULT_GRACE = 5.0
DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024


def _server_options(max_message_size: int) -> list[tuple[str, Any]]:
    return [
        # Without this a second process could silently share the port.
        ("grpc.so_reuseport", 0),
        # Executors ping every 10 s even when idle; grpc-core's default would GOAWAY them.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 5000),
        ("grpc.keepalive_time_ms", 20000),
        ("grpc.keepalive_timeout_ms", 10000),
        ("grpc.max_receive_message_length", max_message_size),
        ("grpc.max_send_message_length", max_message_size),
    ]


class _ProbedHealthServicer(health.aio.HealthServicer):  # type: ignore[misc]
    """grpc.health.v1 whose Check also asks the performer's health probe.

    The probe matters for the server ("") and the PerformerService only, and only while they are
    SERVING: a stopping server stays NOT_SERVING whatever the probe says. Watch streams report the
    set statuses only, as the probe is not evaluated without a request.
    """

    def __init__(self, service: PerformerService) -> None:
        super().__init__()
        self._service = service

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        response = await super().Check(request, context)
        if (
            response.status == health_pb2.HealthCheckResponse.SERVING
            and request.service in {"", SERVICE_NAME}
            and not await self._service.is_healthy()
        ):
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING)
        return response


def _address(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        return f"[{host}]:{port}"
    return f"{host}:{port}"


class RunningPerformer:
    """A started performer server; `port` is the bound one (useful when asked for port 0)."""

    def __init__(self, server: grpc.aio.Server, health_servicer: Any, host: str, port: int) -> None:
        self._server = server
        self._health = health_servicer
        self.host = host
        self.port = port

    async def stop(self, grace: float | None = DEFAULT_GRACE) -> None:
        """Report NOT_SERVING, refuse new calls, and give running tasks `grace` seconds.

        Safe to call again: a smaller grace (or None, which cancels at once) cuts the drain short.
        """
        await self._health.enter_graceful_shutdown()
        await self._server.stop(grace)

    async def wait_for_termination(self) -> None:
        """Return once the server has stopped."""
        await self._server.wait_for_termination()


async def start_server(
    handler: TaskHandler,
    *,
    host: str = "0.0.0.0",
    port: int = DEFAULT_PORT,
    validator: TaskValidator | None = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    health: HealthProbe | None = None,
) -> RunningPerformer:
    """Serve `handler` as the PerformerService, plus grpc.health.v1, and return once bound.

    The standard health service is there because newer executors probe it instead of
    PerformerService/HealthCheck. `health`, when given, is asked on every check of either; when it
    says False the performer reports itself not ready (READY_FOR_SYNC, NOT_SERVING) but keeps
    serving tasks.
    """
    server = grpc.aio.server(options=_server_options(max_message_size))
    service = PerformerService(handler, validator, health)
    server.add_generic_rpc_handlers((performer_service_handler(service),))
    health_servicer = _ProbedHealthServicer(service)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = _address(host, port)
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        bound, problem = 0, f": {exc}"
    else:
        problem = ""
    if not bound:
        await server.stop(None)
        raise OSError(f"cannot bind {address}{problem}")
    await server.start()
    serving = health_pb2.HealthCheckResponse.SERVING
    await health_servicer.set("", serving)
    await health_servicer.set(SERVICE_NAME, serving)
    log.info("performer listening on %s", _address(host, bound))
    return RunningPerformer(server, health_servicer, host, bound)


def serve(
    handler: TaskHandler,
    *,
    port: int = DEFAULT_PORT,
    host: str = "0.0.0.0",
    validator: TaskValidator | None = None,
    grace: float = DEFAULT_GRACE,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    health: HealthProbe | None = None,
) -> None:
    """Serve `handler` until SIGTERM or SIGINT, then drain running tasks for `grace` seconds.

    A second signal cancels the tasks still running. This is the whole `main` of a performer.
    `health` is as for `start_server`.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(
        _serve_until_signalled(
            handler,
            host=host,
            port=port,
            validator=validator,
            grace=grace,
            max_message_size=max_message_size,
            health=health,
        )
    )


async def _serve_until_signalled(
    handler: TaskHandler,
    *,
    host: str,
    port: int,
    validator: TaskValidator | None,
    grace: float,
    max_message_size: int,
    health: HealthProbe | None,
) -> None:
    performer = await start_server(
        handler,
        host=host,
        port=port,
        validator=validator,
        max_message_size=max_message_size,
        health=health,
    )
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    force_requested = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if stop_requested.is_set():
            log.warning("%s again: cancelling running tasks", signum.name)
            force_requested.set()
        else:
            log.info("%s: stopping, running tasks get %g s", signum.name, grace)
            stop_requested.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await stop_requested.wait()
        graceful = asyncio.create_task(performer.stop(grace))
        forced = asyncio.create_task(force_requested.wait())
        await asyncio.wait((graceful, forced), return_when=asyncio.FIRST_COMPLETED)
        if not graceful.done():
            await performer.stop(None)
            await graceful
        forced.cancel()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("performer stopped")
