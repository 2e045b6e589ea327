"""Networks: made once and found again by their exact name, joined, removed."""

from __future__ import annotations

import pytest

from executor_core.errors import (
    ContainerRuntimeError,
)
from tests.contract.container_runtime.support import (
    ListingRuntime,
    SpecFactory,
    accepts_connection,
)


async def test_ensure_network_creates_once_then_finds_it_as_ours_by_its_labels(
    runtime: ListingRuntime, network_name: str, labels: dict[str, str]
) -> None:
    first = await runtime.ensure_network(network_name, labels)
    second = await runtime.ensure_network(network_name, labels)
    other = await runtime.ensure_network(network_name, {**labels, "someone": "else"})

    assert first.created is True
    assert first.name == network_name
    assert second.created is True  # ours: an earlier run of this executor made it
    assert second.network_id == first.network_id
    assert other.created is False
    assert other.network_id == first.network_id
    await runtime.remove_network(first.network_id)


async def test_ensure_network_matches_the_name_exactly(
    runtime: ListingRuntime, network_name: str, labels: dict[str, str]
) -> None:
    longer = await runtime.ensure_network(f"{network_name}-long", labels)
    shorter = await runtime.ensure_network(network_name, labels)

    assert shorter.created is True
    assert shorter.network_id != longer.network_id
    await runtime.remove_network(shorter.network_id)
    await runtime.remove_network(longer.network_id)


async def test_remove_network_twice_is_fine(
    runtime: ListingRuntime, network_name: str, labels: dict[str, str]
) -> None:
    network = await runtime.ensure_network(network_name, labels)

    await runtime.remove_network(network.network_id)
    await runtime.remove_network(network.network_id)

    assert (await runtime.ensure_network(network_name, labels)).created is True


async def test_a_container_joins_its_network_which_stays_until_it_is_gone(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    network_name: str,
    labels: dict[str, str],
    endpoint_accepts_connections: bool,
) -> None:
    network = await runtime.ensure_network(network_name, labels)
    started = await runtime.start_container(make_spec(network=network_name))

    assert started.endpoint.host == "127.0.0.1"
    if endpoint_accepts_connections:
        assert await accepts_connection(started.endpoint)
    with pytest.raises(ContainerRuntimeError):
        await runtime.remove_network(network.network_id)

    await runtime.remove_container(started.container_id, grace_seconds=1)
    await runtime.remove_network(network.network_id)
    assert (await runtime.ensure_network(network_name, labels)).created is True
