"""An in-memory performer: the PerformerClient port backed by a Python function.

It behaves as the gRPC client does against a real performer (the same contract suite runs
against both), so core tests need neither containers nor sockets.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import attrs

from executor_core.errors import (
    PerformerError,
    PerformerTimeout,
    PerformerUnavailable,
    TaskRejected,
)
from executor_core.performers import Endpoint

ScriptedHandler: TypeAlias = Callable[[bytes, bytes], Awaitable[bytes] | bytes]
"""Computes a result from (task_id, payload), as the performer's task handler would."""


@attrs.frozen
class ScriptedCall:
    """One execute_task call as the performer received it."""

    task_id: bytes
    payload: bytes
    timeout: float


class ScriptedPerformer:
    """PerformerClient double that runs `handler` instead of calling a container.

    PerformerErrors from the handler pass through; any other exception becomes TaskRejected,
    as a real performer turns handler failures into an error status. Set `healthy` to change
    what check_health answers, or `available` to make every call raise PerformerUnavailable.
    """

    def __init__(
        self,
        handler: ScriptedHandler,
        *,
        healthy: bool = True,
        endpoint: Endpoint | None = None,
    ) -> None:
        self.handler = handler
        self.healthy = healthy
        self.available = True
        self.endpoint = endpoint
        self.calls: list[ScriptedCall] = []
        self.health_checks = 0
        self.closed = False

    async def execute_task(self, task_id: bytes, payload: bytes, *, timeout: float) -> bytes:
        """Run the handler within `timeout`, recording the call first."""
        self._check_reachable()
        self.calls.append(ScriptedCall(task_id, payload, timeout))
        if timeout <= 0:
            raise PerformerTimeout("no time left to call the scripted performer")
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                result = self.handler(task_id, payload)
                if inspect.isawaitable(result):
                    result = await result
        except PerformerError:
            raise
        except TimeoutError as exc:
            if deadline.expired():
                raise PerformerTimeout(
                    f"scripted performer did not answer within {timeout:g} s"
                ) from exc
            raise TaskRejected(f"scripted performer failed: {exc!r}") from exc
        except Exception as exc:
            raise TaskRejected(f"scripted performer failed: {exc!r}") from exc
        return bytes(result)

    async def check_health(self, *, timeout: float) -> bool:
        """Answer the `healthy` flag."""
        self._check_reachable()
        self.health_checks += 1
        return self.healthy

    async def aclose(self) -> None:
        """Mark the client closed; later calls raise PerformerUnavailable."""
        self.closed = True

    def _check_reachable(self) -> None:
        if self.closed:
            raise PerformerUnavailable("scripted performer client is closed")
        if not self.available:
            raise PerformerUnavailable("scripted performer is unavailable")


class ScriptedPerformerConnector:
    """PerformerConnector double: every connect gets a new ScriptedPerformer running `handler`.

    `clients` keeps each one in connect order, closed ones included, so tests can check that
    an old performer's client was closed after a cut-over.
    """

    def __init__(self, handler: ScriptedHandler, *, healthy: bool = True) -> None:
        self.handler = handler
        self.healthy = healthy
        self.clients: list[ScriptedPerformer] = []

    def connect(self, endpoint: Endpoint) -> ScriptedPerformer:
        """Return a new scripted client for `endpoint`."""
        client = ScriptedPerformer(self.handler, healthy=self.healthy, endpoint=endpoint)
        self.clients.append(client)
        return client

    def client_for(self, endpoint: Endpoint) -> ScriptedPerformer:
        """The most recent client connected to `endpoint`."""
        for client in reversed(self.clients):
            if client.endpoint == endpoint:
                return client
        raise KeyError(endpoint)
