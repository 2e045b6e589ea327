"""The `ChainReader` contract, written once and run against `InMemoryChain` and the JSON-RPC
reader on anvil.

The `backend` fixture is parametrised (`memory`, `anvil`). A test changes the chain through
`world`, whose setters return the block from which the change holds (on anvil, the block its
transaction landed in; in memory, the next block, as InMemoryChain counts them), and reads
through `world.reader`, so no test knows which backend it runs on. The anvil backend uses the
session's node with the mocks of tests/chain_support.py, reverted after each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from executor_adapters.chain import JsonRpcChainReader
from executor_adapters.memory.chain import InMemoryChain
from tests.chain_support import DevChain
from tests.contract.chain_reader.support import (
    AnvilWorld,
    MemoryWorld,
    World,
    expected_domain_separator,
)


@pytest.fixture(params=["memory", pytest.param("anvil", marks=pytest.mark.chain)])
def backend(request: pytest.FixtureRequest) -> str:
    """Which reader the test runs against."""
    return str(request.param)


@pytest.fixture
async def world(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    if backend == "memory":
        yield MemoryWorld(InMemoryChain(domain_separator=expected_domain_separator()))
        return
    dev_chain: DevChain = request.getfixturevalue("dev_chain")
    reader = await JsonRpcChainReader.open(dev_chain.node.url, timeout=5.0)
    try:
        yield AnvilWorld(dev_chain, reader)
    finally:
        await reader.aclose()
