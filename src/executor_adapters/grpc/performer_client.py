"""PerformerClient over grpcio.aio: one long-lived plaintext channel per performer container.

The executor calls a performer many times over its life, so the channel (and its HTTP/2
connection) is opened once, lazily on the first call so that it binds to the running loop, and
kept alive with pings. gRPC statuses become the core's PerformerError family in `_performer_error`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2

from executor_adapters.grpc import task_messages
from executor_core.errors import (
    PerformerError,
    PerformerTimeout,
    PerformerUnavailable,
    TaskRejected,
)
from executor_core.performers import Endpoint
from hourglass_proto.eigenlayer.hourglass.v1.performer import (
    HealthCheckRequest,
    HealthCheckResponse,
    PerformerStatus,
)

DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024

_PERFORMER_SERVICE = "/eigenlayer.hourglass.v1.performer.PerformerService"
_EXECUTE_TASK = f"{_PERFORMER_SERVICE}/ExecuteTask"
_LEGACY_HEALTH_CHECK = f"{_PERFORMER_SERVICE}/HealthCheck"
_STANDARD_HEALTH_CHECK = "/grpc.health.v1.Health/Check"

_R = TypeVar("_R")


def _channel_options(max_message_size: int) -> list[tuple[str, Any]]:
    return [
        # As Ponos dials performers: ping every 10 s, give up after 3 s, also when idle.
        ("grpc.keepalive_time_ms", 10_000),
        ("grpc.keepalive_timeout_ms", 3_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.max_receive_message_length", max_message_size),
        ("grpc.max_send_message_length", max_message_size),
        # A starting container refuses connections for a moment; grpc's default backoff (up to
        # 120 s) would then fail every health probe long after the performer is up.
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1_000),
        ("grpc.primary_user_agent", "hourglass-executor-py"),
    ]


def _target(endpoint: Endpoint) -> str:
    host = endpoint.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{endpoint.port}"


def _performer_error(
    error: grpc.aio.AioRpcError, endpoint: Endpoint, *, connected: bool
) -> PerformerError:
    """The one mapping from a failed performer call to the core's errors.

    A deadline that passed before any connection was made means the performer cannot be
    reached, not that it was slow, hence `connected`.
    """
    code: grpc.StatusCode = error.code()
    details = error.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        return PerformerUnavailable(f"performer at {endpoint} is unavailable: {details}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        if not connected:
            return PerformerUnavailable(
                f"performer at {endpoint} could not be reached within the deadline"
            )
        return PerformerTimeout(f"performer at {endpoint} did not answer within the deadline")
    return TaskRejected(f"performer at {endpoint} answered {code.name}: {details}")


class GrpcioPerformerClient:
    """Talks to one performer's PerformerService; implements the PerformerClient port.

    Calls do not wait for the channel to become ready: a performer that is down fails at once
    with PerformerUnavailable instead of holding the task until its deadline.
    """

    def __init__(
        self, endpoint: Endpoint, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    ) -> None:
        self.endpoint = endpoint
        self._max_message_size = max_message_size
        self._channel: grpc.aio.Channel | None = None
        self._methods: dict[str, grpc.aio.UnaryUnaryMultiCallable[bytes, Any]] = {}
        self._closed = False
        # Performers built with newer SDKs lack the legacy HealthCheck; ask once, then remember.
        self._legacy_health_missing = False

    async def execute_task(self, task_id: bytes, payload: bytes, *, timeout: float) -> bytes:
        """Run the task; raises PerformerUnavailable, PerformerTimeout or TaskRejected."""
        try:
            response = await self._call(
                _EXECUTE_TASK,
                task_messages.TaskRequest(task_id=task_id, payload=payload).SerializeToString(),
                task_messages.TaskResponse.FromString,
                timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc) from exc
        except task_messages.DecodeError:
            raise TaskRejected(
                f"performer at {self.endpoint} answered with a body that is not a TaskResponse"
            ) from None
        result: bytes = response.result
        return result

    async def check_health(self, *, timeout: float) -> bool:
        """Ask PerformerService/HealthCheck, or grpc.health.v1 where that is unimplemented.

        READY_FOR_TASK or SERVING is healthy; any other answer, including an error status, is
        not. Failing to reach the performer raises, as for tasks.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            if not self._legacy_health_missing:
                try:
                    legacy = await self._call(
                        _LEGACY_HEALTH_CHECK,
                        bytes(HealthCheckRequest()),
                        HealthCheckResponse.FromString,
                        timeout,
                    )
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                        raise
                    self._legacy_health_missing = True
                else:
                    return legacy.status == PerformerStatus.READY_FOR_TASK
            standard = await self._call(
                _STANDARD_HEALTH_CHECK,
                health_pb2.HealthCheckRequest(service="").SerializeToString(),
                health_pb2.HealthCheckResponse.FromString,
                deadline - asyncio.get_running_loop().time(),
            )
        except grpc.aio.AioRpcError as exc:
            error = self._error(exc)
            if isinstance(error, TaskRejected):
                return False
            raise error from exc
        return bool(standard.status == health_pb2.HealthCheckResponse.SERVING)

    async def aclose(self) -> None:
        """Close the channel; calls still running end with PerformerUnavailable."""
        self._closed = True
        channel, self._channel = self._channel, None
        self._methods.clear()
        if channel is not None:
            await channel.close()

    def _open_channel(self) -> grpc.aio.Channel:
        if self._closed:
            raise PerformerUnavailable(f"client for performer at {self.endpoint} is closed")
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(
                _target(self.endpoint), options=_channel_options(self._max_message_size)
            )
            self._methods.clear()
        return self._channel

    def _method(self, path: str) -> grpc.aio.UnaryUnaryMultiCallable[bytes, Any]:
        """The channel's callable for `path`, made once per channel rather than once per call."""
        channel = self._open_channel()
        method = self._methods.get(path)
        if method is None:
            method = self._methods[path] = channel.unary_unary(path)
        return method

    async def _call(
        self,
        method: str,
        request: bytes,
        deserialize: Callable[[bytes], _R],
        timeout: float,
    ) -> _R:
        if timeout <= 0:
            raise PerformerTimeout(f"no time left to call the performer at {self.endpoint}")
        rpc = self._method(method)
        try:
            return deserialize(await rpc(request, timeout=timeout, wait_for_ready=False))
        except asyncio.CancelledError:
            # grpc.aio reports a call cut off by channel.close() as a cancellation; only a
            # cancellation of the caller itself should travel on as one.
            task = asyncio.current_task()
            if self._closed and (task is None or task.cancelling() == 0):
                raise PerformerUnavailable(
                    f"client for performer at {self.endpoint} was closed during the call"
                ) from None
            raise

    def _error(self, error: grpc.aio.AioRpcError) -> PerformerError:
        channel = self._channel
        connected = (
            channel is not None
            and channel.get_state(try_to_connect=False) == grpc.ChannelConnectivity.READY
        )
        return _performer_error(error, self.endpoint, connected=connected)


class GrpcioPerformerConnector:
    """Opens a GrpcioPerformerClient per performer; implements the PerformerConnector port."""

    def __init__(self, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._max_message_size = max_message_size

    def connect(self, endpoint: Endpoint) -> GrpcioPerformerClient:
        """Return a client for `endpoint`; nothing is dialled until its first call."""
        return GrpcioPerformerClient(endpoint, max_message_size=self._max_message_size)
