"""The JSON-RPC client: which failures are ChainUnavailable or ChainDataError, and that no
message shows the endpoint's credentials."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import pytest
from aiohttp import web

from executor_adapters.chain.jsonrpc import JsonRpcClient, block_parameter, masked_endpoint
from executor_core.errors import ChainDataError, ChainUnavailable
from tests.contract.chain_reader.support import refused_port

SECRET = "s3cr3t-api-key"

Handler = Callable[[dict[str, Any]], web.StreamResponse]


@attrs.define
class ScriptedNode:
    """An HTTP server on loopback that answers each request with `handler(request body)`."""

    port: int
    handler: Handler
    bodies: list[dict[str, Any]] = attrs.Factory(list)
    peers: set[object] = attrs.Factory(set)

    def url(self, *, secret: bool = True) -> str:
        if not secret:
            return f"http://127.0.0.1:{self.port}"
        return f"http://user:{SECRET}@127.0.0.1:{self.port}/v3/{SECRET}?apikey={SECRET}"


def result(value: object) -> Handler:
    return lambda body: web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": value})


@pytest.fixture
async def node() -> AsyncIterator[ScriptedNode]:
    scripted = ScriptedNode(0, result("0x"))

    async def answer(request: web.Request) -> web.StreamResponse:
        body = json.loads(await request.read())
        scripted.bodies.append(body)
        scripted.peers.add(
            request.transport.get_extra_info("peername") if request.transport else None
        )
        return scripted.handler(body)

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    scripted.port = runner.addresses[0][1]
    yield scripted
    await runner.cleanup()


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"https://user:{SECRET}@rpc.example.org/v2/{SECRET}?key={SECRET}",
            "https://rpc.example.org:443",
        ),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://rpc.example.org", "http://rpc.example.org:80"),
        ("http://[::1]:8545/", "http://[::1]:8545"),
    ],
)
def test_the_endpoint_is_shown_as_scheme_host_and_port_only(url: str, shown: str) -> None:
    assert masked_endpoint(url) == shown


@pytest.mark.parametrize("url", ["ws://127.0.0.1:8546", "127.0.0.1:8545", "http://", "http://h:x/"])
def test_an_endpoint_that_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        masked_endpoint(url)


def test_block_zero_is_latest_and_others_are_hex() -> None:
    assert block_parameter(0) == "latest"
    assert block_parameter(26) == "0x1a"
    with pytest.raises(ValueError, match="at least 0"):
        block_parameter(-1)


async def test_an_eth_call_sends_the_calldata_at_the_block_and_returns_the_bytes(
    node: ScriptedNode,
) -> None:
    node.handler = result("0x" + "ab" * 32)
    client = JsonRpcClient(node.url(), timeout=2)
    try:
        data = await client.eth_call("0x" + "11" * 20, b"\x01\x02", block=300, what="X.f")
    finally:
        await client.aclose()
    assert data == b"\xab" * 32
    assert node.bodies[0]["method"] == "eth_call"
    assert node.bodies[0]["params"] == [{"to": "0x" + "11" * 20, "data": "0x0102"}, "0x12c"]


async def test_requests_are_counted_per_method_and_share_one_connection(node: ScriptedNode) -> None:
    node.handler = result("0x7a69")
    client = JsonRpcClient(node.url(), timeout=2)
    try:
        assert await client.chain_id() == 31337
        await client.eth_call("0x" + "11" * 20, b"", block=0, what="X.f")
        await client.eth_call("0x" + "11" * 20, b"", block=0, what="X.f")
    finally:
        await client.aclose()
    assert client.requests == {"eth_chainId": 1, "eth_call": 2}
    assert len(node.peers) == 1


async def test_a_refused_connection_is_chain_unavailable_at_once_without_credentials() -> None:
    port = refused_port()
    client = JsonRpcClient(f"http://user:{SECRET}@127.0.0.1:{port}/{SECRET}", timeout=5)
    started = time.monotonic()
    try:
        with pytest.raises(ChainUnavailable, match="cannot connect") as raised:
            await client.eth_call("0x" + "11" * 20, b"", block=0, what="KeyRegistrar.f")
    finally:
        await client.aclose()
    assert time.monotonic() - started < 1.0
    assert str(raised.value).startswith(f"http://127.0.0.1:{port}: KeyRegistrar.f")
    assert SECRET not in str(raised.value)


async def test_an_endpoint_that_never_answers_is_chain_unavailable_after_the_timeout(
    silent_port: int,
) -> None:
    client = JsonRpcClient(f"http://127.0.0.1:{silent_port}/{SECRET}", timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(ChainUnavailable, match=r"no answer within 0\.3 s") as raised:
            await client.chain_id()
    finally:
        await client.aclose()
    assert 0.25 < time.monotonic() - started < 1.5
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("status", [500, 502, 503, 429, 401])
async def test_an_http_error_status_is_chain_unavailable(node: ScriptedNode, status: int) -> None:
    node.handler = lambda body: web.Response(status=status, text=f"error for {SECRET}")
    client = JsonRpcClient(node.url(), timeout=2)
    try:
        with pytest.raises(ChainUnavailable, match=f"HTTP {status}") as raised:
            await client.chain_id()
    finally:
        await client.aclose()
    assert SECRET not in str(raised.value)


async def test_an_answer_that_is_not_json_rpc_is_chain_unavailable(node: ScriptedNode) -> None:
    node.handler = lambda body: web.Response(text="<html>proxy error</html>")
    client = JsonRpcClient(node.url(), timeout=2)
    try:
        with pytest.raises(ChainUnavailable, match="not JSON-RPC"):
            await client.chain_id()
    finally:
        await client.aclose()


def error(code: int, message: str) -> Handler:
    return lambda body: web.json_response(
        {"jsonrpc": "2.0", "id": body["id"], "error": {"code": code, "message": message}}
    )


async def test_a_revert_is_a_chain_data_error_naming_the_call_and_block(node: ScriptedNode) -> None:
    node.handler = error(3, "execution reverted")
    client = JsonRpcClient(node.url(), timeout=2)
    try:
        with pytest.raises(ChainDataError) as raised:
            await client.eth_call("0x" + "11" * 20, b"", block=42, what="KeyRegistrar.getBN254Key")
    finally:
        await client.aclose()
    assert str(raised.value) == (
        "KeyRegistrar.getBN254Key at block 42 failed: execution reverted (code 3)"
    )


async def test_a_rate_limit_error_is_chain_unavailable(node: ScriptedNode) -> None:
    node.handler = error(-32005, "limit exceeded")
    client = JsonRpcClient(node.url(), timeout=2)
    try:
        with pytest.raises(ChainUnavailable, match="rate limited"):
            await client.eth_call("0x" + "11" * 20, b"", block=0, what="X.f")
    finally:
        await client.aclose()


@pytest.mark.parametrize("value", [None, 7, "abc", "0xzz"])
async def test_an_eth_call_result_that_is_not_hex_data_is_a_chain_data_error(
    node: ScriptedNode, value: object
) -> None:
    node.handler = result(value)
    client = JsonRpcClient(node.url(), timeout=2)
    try:
        with pytest.raises(ChainDataError, match=r"X\.f at the latest block"):
            await client.eth_call("0x" + "11" * 20, b"", block=0, what="X.f")
    finally:
        await client.aclose()


def test_the_client_repr_shows_no_credentials() -> None:
    client = JsonRpcClient(f"https://u:{SECRET}@rpc.example.org/{SECRET}")
    assert SECRET not in repr(client)


async def test_observers_see_each_request_with_its_method_time_and_outcome(
    node: ScriptedNode,
) -> None:
    seen: list[tuple[str, float, str]] = []
    client = JsonRpcClient(node.url(), timeout=2)
    client.observers.append(lambda method, seconds, ok: seen.append((method, seconds, ok)))
    try:
        node.handler = result("0x7a69")
        await client.chain_id()
        node.handler = error(3, "execution reverted")
        with pytest.raises(ChainDataError):
            await client.eth_call("0x" + "11" * 20, b"", block=5, what="X.f")
    finally:
        await client.aclose()
    assert [(m, outcome) for m, _, outcome in seen] == [
        ("eth_chainId", "ok"),
        ("eth_call", "error"),
    ]
    assert all(0 <= seconds < 2 for _, seconds, _ in seen)


async def test_the_client_version_is_the_nodes_or_unknown(node: ScriptedNode) -> None:
    client = JsonRpcClient(node.url(), timeout=2)
    try:
        node.handler = result("anvil/v1.7.1")
        assert await client.client_version() == "anvil/v1.7.1"
        node.handler = error(-32601, "method not found")
        assert await client.client_version() == "unknown"
    finally:
        await client.aclose()
