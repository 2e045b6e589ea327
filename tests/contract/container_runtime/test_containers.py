"""Containers: started on loopback, labelled, listed, removed; failures leave nothing."""

from __future__ import annotations

import pytest

from executor_core.errors import (
    ContainerRuntimeError,
    ContainerStartFailed,
    ImageNotFound,
    RuntimeUnavailable,
)
from executor_core.performers import PerformerImage
from tests.contract.container_runtime.support import (
    Crash,
    ListingRuntime,
    SpecFactory,
    accepts_connection,
)


async def test_start_returns_a_running_container_on_loopback(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    endpoint_accepts_connections: bool,
) -> None:
    spec = make_spec()

    started = await runtime.start_container(spec)

    assert started.name == spec.name
    assert started.container_id
    assert started.endpoint.host == "127.0.0.1"
    assert await runtime.is_running(started.container_id)
    if endpoint_accepts_connections:
        assert await accepts_connection(started.endpoint)


async def test_labels_are_applied(
    runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
) -> None:
    started = await runtime.start_container(make_spec(extra_labels={"role": "performer"}))

    assert await runtime.list_containers({**labels, "role": "performer"}) == [started.container_id]


async def test_two_containers_get_distinct_names_ids_and_ports(
    runtime: ListingRuntime, make_spec: SpecFactory
) -> None:
    first = await runtime.start_container(make_spec())
    second = await runtime.start_container(make_spec())

    assert first.name != second.name
    assert first.container_id != second.container_id
    assert first.endpoint.port != second.endpoint.port


async def test_a_name_in_use_is_refused_and_the_holder_keeps_running(
    runtime: ListingRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec()
    first = await runtime.start_container(spec)

    with pytest.raises(ContainerRuntimeError):
        await runtime.start_container(spec)

    assert await runtime.is_running(first.container_id)


async def test_remove_stops_and_removes_and_twice_is_fine(
    runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
) -> None:
    started = await runtime.start_container(make_spec())

    await runtime.remove_container(started.container_id, grace_seconds=1)
    await runtime.remove_container(started.container_id, grace_seconds=1)

    assert not await runtime.is_running(started.container_id)
    assert await runtime.list_containers(labels) == []


async def test_is_running_is_false_for_an_unknown_container(runtime: ListingRuntime) -> None:
    assert not await runtime.is_running("0" * 64)


async def test_a_crashed_container_stays_listed_until_removed(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    labels: dict[str, str],
    crash: Crash,
) -> None:
    started = await runtime.start_container(make_spec())

    await crash(started.container_id)

    assert not await runtime.is_running(started.container_id)
    assert await runtime.list_containers(labels) == [started.container_id]
    await runtime.remove_container(started.container_id, grace_seconds=1)
    assert await runtime.list_containers(labels) == []


async def test_unknown_image_raises_image_not_found_and_leaves_nothing(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    missing_image: PerformerImage,
    labels: dict[str, str],
) -> None:
    with pytest.raises(ImageNotFound):
        await runtime.start_container(make_spec(image=missing_image))

    assert await runtime.list_containers(labels) == []


async def test_a_process_that_exits_at_once_fails_the_start_and_leaves_nothing(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    exiting_image: PerformerImage,
    labels: dict[str, str],
) -> None:
    with pytest.raises(ContainerStartFailed):
        await runtime.start_container(make_spec(image=exiting_image))

    assert await runtime.list_containers(labels) == []


async def test_a_missing_network_fails_the_start_and_leaves_nothing(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    network_name: str,
    labels: dict[str, str],
) -> None:
    with pytest.raises(ContainerStartFailed):
        await runtime.start_container(make_spec(network=network_name))

    assert await runtime.list_containers(labels) == []


async def test_list_containers_needs_every_label(
    runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
) -> None:
    blue = await runtime.start_container(make_spec(extra_labels={"slot": "blue"}))
    green = await runtime.start_container(make_spec(extra_labels={"slot": "green"}))

    assert sorted(await runtime.list_containers(labels)) == sorted(
        [blue.container_id, green.container_id]
    )
    assert await runtime.list_containers({**labels, "slot": "green"}) == [green.container_id]
    assert await runtime.list_containers({**labels, "slot": "red"}) == []


async def test_list_containers_refuses_an_empty_selector(runtime: ListingRuntime) -> None:
    with pytest.raises(ValueError, match="at least one label"):
        await runtime.list_containers({})


async def test_a_closed_runtime_raises_runtime_unavailable(
    runtime: ListingRuntime, network_name: str, labels: dict[str, str]
) -> None:
    await runtime.aclose()
    await runtime.aclose()

    with pytest.raises(RuntimeUnavailable):
        await runtime.ensure_network(network_name, labels)


# --- container events ------------------------------------------------------------------
