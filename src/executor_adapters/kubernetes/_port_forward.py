"""Reach a pod's port from outside the cluster, through the API server, on loopback only.

Each connection accepted on a 127.0.0.1 listener becomes one `pods/portforward` WebSocket
stream (subprotocol `v4.channel.k8s.io`). The API server hands it to the kubelet, which dials the
port inside the pod's network namespace, so no traffic goes to a pod or Service address. Frames
are a channel byte and then bytes: channel 0 carries data both ways, channel 1 errors from the
kubelet; the first frame the server sends on each channel is the port, two bytes little-endian.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from executor_core.performers import Endpoint

__all__ = ["PortForward", "WebSocketOpener"]

log = logging.getLogger("executor_adapters.kubernetes")

WebSocketOpener = Callable[[], Awaitable[aiohttp.ClientWebSocketResponse]]
_DATA = 0
_ERROR = 1
_CHUNK = 64 * 1024
LOOPBACK = "127.0.0.1"


class PortForward:
    """A loopback listener whose connections are port-forward streams to one pod port."""

    def __init__(self, open_stream: WebSocketOpener, *, pod: str) -> None:
        self._open = open_stream
        self._pod = pod
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> Endpoint:
        self._server = await asyncio.start_server(self._serve, LOOPBACK, 0)
        port = self._server.sockets[0].getsockname()[1]
        return Endpoint(LOOPBACK, port)

    async def aclose(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._pipe(reader, writer)
        except aiohttp.WSServerHandshakeError as exc:
            hint = (
                " (the executor's account needs get and create on pods/portforward: see the "
                "RBAC in docs/operations.md)"
                if exc.status in (401, 403)
                else ""
            )
            log.warning(
                "the API server refused a port-forward to pod %s: %s %s%s",
                self._pod,
                exc.status,
                exc.message,
                hint,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.debug("port-forward to pod %s ended: %r", self._pod, exc)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with await self._open() as ws:
            upstream = asyncio.create_task(_to_pod(reader, ws))
            try:
                await self._from_pod(ws, writer)
            finally:
                upstream.cancel()
                with contextlib.suppress(BaseException):
                    await upstream

    async def _from_pod(
        self, ws: aiohttp.ClientWebSocketResponse, writer: asyncio.StreamWriter
    ) -> None:
        port_pending = {_DATA, _ERROR}
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.BINARY or not message.data:
                continue
            channel, payload = message.data[0], message.data[1:]
            if channel in port_pending:
                port_pending.discard(channel)
                payload = payload[2:]
            if not payload:
                continue
            if channel == _DATA:
                writer.write(payload)
                await writer.drain()
            elif channel == _ERROR:
                log.warning(
                    "port-forward to pod %s: %s",
                    self._pod,
                    payload.decode("utf-8", "replace")[:500],
                )
                return


async def _to_pod(reader: asyncio.StreamReader, ws: aiohttp.ClientWebSocketResponse) -> None:
    while chunk := await reader.read(_CHUNK):
        await ws.send_bytes(bytes([_DATA]) + chunk)
    await ws.close()
