"""A small JSON-RPC client over one aiohttp session: just what reading contracts takes.

Errors are the core's: the endpoint unreachable, too slow, answering 5xx or rate-limiting is
`ChainUnavailable`; a JSON-RPC `error` (a revert, a block the node does not have) is
`ChainDataError`. Messages name the endpoint as `scheme://host:port` only, since RPC URLs often
carry an API key in the user info, the path or the query.
"""

from __future__ import annotations

import collections
import itertools
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from executor_core.errors import ChainDataError, ChainUnavailable
from executor_core.ports import LATEST_BLOCK

DEFAULT_TIMEOUT_SECONDS = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443}
_RATE_LIMITED = -32005  # "limit exceeded", used by geth-style nodes and hosted providers
_MAX_MESSAGE = 200


def masked_endpoint(url: str) -> str:
    """`scheme://host:port` of an endpoint URL, without user info, path or query."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("a JSON-RPC endpoint must be an http:// or https:// URL with a host")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("the JSON-RPC endpoint's port is not a number") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}"


def block_parameter(block: int) -> str:
    """A block number as JSON-RPC writes it; `LATEST_BLOCK` is "latest"."""
    if block < 0:
        raise ValueError(f"a block number is at least 0, got {block}")
    return "latest" if block == LATEST_BLOCK else hex(block)


def _short(text: object) -> str:
    message = str(text)
    return message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE] + "…"


RequestObserver = Callable[[str, float, str], None]
"""Told each request's method, seconds and outcome: `ok`, `error` (the node answered with an
error) or `unavailable` (no usable answer)."""


class JsonRpcClient:
    """Sends JSON-RPC requests to one endpoint; `requests` counts them per method.

    The session is opened on the first request (it must be made on the running loop) and
    kept until `aclose()`, so calls reuse connections.
    """

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.endpoint = masked_endpoint(url)
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._timeout_seconds = timeout
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self.requests: collections.Counter[str] = collections.Counter()
        self.observers: list[RequestObserver] = []
        """Called after every request (`RequestObserver`)."""

    def __repr__(self) -> str:
        return f"JsonRpcClient({self.endpoint!r})"

    async def request(self, method: str, params: list[Any], *, what: str | None = None) -> Any:
        """Send one request and return its `result`; `what` names it in error messages."""
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            result = await self._request(method, params, what or method)
            outcome = "ok"
            return result
        except ChainDataError:
            outcome = "error"  # the endpoint answered, with an error (a revert)
            raise
        finally:
            for observe in self.observers:
                observe(method, time.perf_counter() - started, outcome)

    async def _request(self, method: str, params: list[Any], what: str) -> Any:
        self.requests[method] += 1
        body = json.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        )
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, headers={"Content-Type": "application/json"}
            )
        try:
            async with self._session.post(self._url, data=body) as response:
                if response.status >= 500 or response.status == 429:
                    raise ChainUnavailable(
                        f"{self.endpoint}: {what}: the endpoint answered HTTP {response.status}"
                    )
                if response.status != 200:
                    raise ChainUnavailable(
                        f"{self.endpoint}: {what}: the endpoint refused the request "
                        f"(HTTP {response.status})"
                    )
                text = await response.read()
        except TimeoutError:
            raise ChainUnavailable(
                f"{self.endpoint}: {what}: no answer within {self._timeout_seconds:g} s"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or type(exc.os_error).__name__
            raise ChainUnavailable(f"{self.endpoint}: {what}: cannot connect ({reason})") from None
        except (aiohttp.ClientError, OSError) as exc:
            # Never str(exc): aiohttp's messages carry the full URL, API key included.
            raise ChainUnavailable(
                f"{self.endpoint}: {what}: connection failed ({type(exc).__name__})"
            ) from None
        return self._result(text, what)

    def _result(self, text: bytes, what: str) -> Any:
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
            raise ChainUnavailable(f"{self.endpoint}: {what}: the answer is not JSON-RPC")
        error = answer.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else error
            if code == _RATE_LIMITED:
                raise ChainUnavailable(f"{self.endpoint}: {what}: rate limited: {_short(message)}")
            raise ChainDataError(f"{what} failed: {_short(message)} (code {code})")
        return answer["result"]

    async def eth_call(self, to: str, data: bytes, *, block: int, what: str) -> bytes:
        """`eth_call` of `data` on contract `to` at `block`; the returned bytes."""
        at = f"{what} at the latest block" if block == LATEST_BLOCK else f"{what} at block {block}"
        result = await self.request(
            "eth_call", [{"to": to, "data": "0x" + data.hex()}, block_parameter(block)], what=at
        )
        if not isinstance(result, str) or not result.startswith("0x"):
            raise ChainDataError(f"{at}: the node returned {_short(result)!r}, not hex data")
        try:
            return bytes.fromhex(result[2:])
        except ValueError:
            raise ChainDataError(f"{at}: the node returned data that is not hex") from None

    async def client_version(self) -> str:
        """The node's `web3_clientVersion` (`Geth/v1.14…`, `anvil/v1.7.1`); "unknown" if it
        does not say."""
        try:
            result = await self.request("web3_clientVersion", [])
        except (ChainUnavailable, ChainDataError):
            return "unknown"
        return str(result)[:64] if isinstance(result, str) and result else "unknown"

    async def chain_id(self) -> int:
        """The chain id the endpoint reports (`eth_chainId`)."""
        result = await self.request("eth_chainId", [])
        try:
            return int(result, 16)
        except (TypeError, ValueError):
            raise ChainDataError(f"eth_chainId returned {_short(result)!r}") from None

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
