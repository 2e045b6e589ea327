"""Fixtures for tests against a real dev chain: `anvil`, `dev_chain`, `fresh_anvil`.

A test that uses one of them is marked `chain` (so `-m "not chain"` leaves them out). Missing
tools make such a test fail, never skip: CI must run them, and a silent skip would hide that
`make setup` did not install anvil.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chain_support import AnvilNode, ChainToolsMissing, DevChain, require_chain_tools

_CHAIN_FIXTURES = frozenset({"anvil", "dev_chain", "fresh_anvil"})


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _CHAIN_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.chain)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("chain") is None:
        return
    problem = _missing_tools()
    if problem:
        pytest.fail(problem, pytrace=False)


def _missing_tools() -> str:
    try:
        require_chain_tools()
    except ChainToolsMissing as missing:
        return str(missing)
    return ""


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    """One anvil for the whole session; `dev_chain` isolates the tests that change it."""
    node = AnvilNode()
    try:
        yield node
    finally:
        node.close()


@pytest.fixture
def dev_chain(anvil: AnvilNode) -> Iterator[DevChain]:
    """The mocks placed on the session's anvil, and everything the test did undone after it
    (evm_snapshot before, evm_revert after)."""
    snapshot = anvil.snapshot()
    try:
        yield DevChain(anvil)
    finally:
        anvil.revert(snapshot)


@pytest.fixture
def fresh_anvil() -> Iterator[AnvilNode]:
    """A node of the test's own, for tests that pause it or take its endpoint down."""
    node = AnvilNode()
    try:
        yield node
    finally:
        node.close()
