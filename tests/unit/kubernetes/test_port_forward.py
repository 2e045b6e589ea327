"""The port-forward framing, against a WebSocket server that speaks as the kubelet does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from executor_adapters.kubernetes._port_forward import PortForward

PORT_PREFIX = (8080).to_bytes(2, "little")


@pytest.fixture
async def kubelet() -> AsyncIterator[tuple[str, list[bytes]]]:
    """Echoes data upper-cased on channel 0; a payload of b"fail" gets an error on channel 1."""
    received: list[bytes] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("v4.channel.k8s.io",))
        await ws.prepare(request)
        await ws.send_bytes(b"\x00" + PORT_PREFIX)
        await ws.send_bytes(b"\x01" + PORT_PREFIX)
        async for message in ws:
            assert message.type is aiohttp.WSMsgType.BINARY
            assert message.data[0] == 0
            received.append(message.data[1:])
            if message.data[1:] == b"fail":
                await ws.send_bytes(b"\x01" + b"error forwarding port 8080: refused")
            else:
                await ws.send_bytes(b"\x00" + message.data[1:].upper())
        return ws

    app = web.Application()
    app.router.add_get("/portforward", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/portforward", received
    await runner.cleanup()


@pytest.fixture
async def forward(kubelet: tuple[str, list[bytes]]) -> AsyncIterator[PortForward]:
    url, _ = kubelet
    async with aiohttp.ClientSession() as session:

        async def open_stream() -> aiohttp.ClientWebSocketResponse:
            return await session.ws_connect(url, protocols=("v4.channel.k8s.io",))

        forwarding = PortForward(open_stream, pod="p")
        yield forwarding
        await forwarding.aclose()


async def test_bytes_cross_both_ways_without_the_port_prefix(
    forward: PortForward, kubelet: tuple[str, list[bytes]]
) -> None:
    endpoint = await forward.start()
    reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)

    writer.write(b"hello")
    await writer.drain()

    assert await asyncio.wait_for(reader.readexactly(5), 5) == b"HELLO"
    assert kubelet[1] == [b"hello"]
    writer.close()


async def test_the_listener_is_on_loopback() -> None:
    async def never() -> aiohttp.ClientWebSocketResponse:
        raise AssertionError("no connection was made")

    forwarding = PortForward(never, pod="p")
    endpoint = await forwarding.start()
    await forwarding.aclose()

    assert endpoint.host == "127.0.0.1"


async def test_an_error_from_the_kubelet_closes_the_connection(forward: PortForward) -> None:
    endpoint = await forward.start()
    reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)

    writer.write(b"fail")
    await writer.drain()

    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_each_connection_is_its_own_stream(
    forward: PortForward, kubelet: tuple[str, list[bytes]]
) -> None:
    endpoint = await forward.start()
    first = await asyncio.open_connection(endpoint.host, endpoint.port)
    second = await asyncio.open_connection(endpoint.host, endpoint.port)

    first[1].write(b"one")
    second[1].write(b"two")

    assert await asyncio.wait_for(first[0].readexactly(3), 5) == b"ONE"
    assert await asyncio.wait_for(second[0].readexactly(3), 5) == b"TWO"
    for _, writer in (first, second):
        writer.close()


async def test_closing_ends_open_connections(forward: PortForward) -> None:
    endpoint = await forward.start()
    reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
    writer.write(b"x")
    assert await asyncio.wait_for(reader.readexactly(1), 5) == b"X"

    await forward.aclose()

    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
