"""Die and OOM events: who gets them, and how a stream ends."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from executor_core.errors import (
    ContainerStartFailed,
    RuntimeUnavailable,
)
from executor_core.performers import PerformerImage
from executor_core.ports import ContainerEvent, ContainerEventKind
from tests.contract.container_runtime.support import (
    Crash,
    ListingRuntime,
    SpecFactory,
    Watch,
)


async def test_a_killed_container_gives_a_died_event_with_its_id_and_code(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    labels: dict[str, str],
    crash: Crash,
    watch: Watch,
) -> None:
    started = await runtime.start_container(make_spec())
    events = await watch(labels)

    await crash(started.container_id)

    assert await events.next() == ContainerEvent(started.container_id, ContainerEventKind.DIED, 137)


async def test_removing_a_running_container_gives_one_died_event(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    labels: dict[str, str],
    crash: Crash,
    watch: Watch,
) -> None:
    removed = await runtime.start_container(make_spec())
    marker = await runtime.start_container(make_spec())
    events = await watch(labels)

    await runtime.remove_container(removed.container_id, grace_seconds=1)
    await runtime.remove_container(removed.container_id, grace_seconds=1)
    await crash(marker.container_id)

    first = await events.next()
    assert (first.container_id, first.kind) == (removed.container_id, ContainerEventKind.DIED)
    # The second removal found nothing to stop: the next event is the marker's.
    assert (await events.next()).container_id == marker.container_id


async def test_events_of_containers_without_every_label_are_not_delivered(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    labels: dict[str, str],
    crash: Crash,
    watch: Watch,
) -> None:
    blue = await runtime.start_container(make_spec(extra_labels={"slot": "blue"}))
    green = await runtime.start_container(make_spec(extra_labels={"slot": "green"}))
    events = await watch({**labels, "slot": "green"})

    await crash(blue.container_id)
    await crash(green.container_id)

    # Blue died first; had its event been let through, it would come first.
    assert (await events.next()).container_id == green.container_id
    assert events.pending() == []


async def test_a_container_whose_start_failed_may_still_report_its_death(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    exiting_image: PerformerImage,
    labels: dict[str, str],
    watch: Watch,
) -> None:
    events = await watch(labels)

    with pytest.raises(ContainerStartFailed):
        await runtime.start_container(make_spec(image=exiting_image))

    died = await events.next()
    assert died.kind is ContainerEventKind.DIED
    assert died.container_id not in await runtime.list_containers(labels)


async def test_cancelling_the_consumer_ends_the_stream_and_its_subscription(
    runtime: ListingRuntime, labels: dict[str, str], watch: Watch
) -> None:
    events = await watch(labels)
    await asyncio.sleep(0.2)  # Long enough for the Docker adapter to be connected.
    assert runtime.active_event_streams == 1

    events.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await events.task

    assert runtime.active_event_streams == 0


async def test_closing_the_iterator_ends_its_subscription(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    labels: dict[str, str],
    crash: Crash,
) -> None:
    started = await runtime.start_container(make_spec())
    stream = runtime.events(labels)
    async with contextlib.aclosing(stream):
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)
        await crash(started.container_id)
        assert (await asyncio.wait_for(waiting, 15)).container_id == started.container_id
        assert runtime.active_event_streams == 1

    assert runtime.active_event_streams == 0


async def test_closing_the_runtime_ends_open_streams_with_runtime_unavailable(
    runtime: ListingRuntime, labels: dict[str, str], watch: Watch
) -> None:
    events = await watch(labels)
    await asyncio.sleep(0.2)

    await runtime.aclose()

    with pytest.raises(RuntimeUnavailable):
        await asyncio.wait_for(events.task, 10)
    assert runtime.active_event_streams == 0


async def test_events_need_at_least_one_label(runtime: ListingRuntime) -> None:
    with pytest.raises(ValueError, match="at least one label"):
        await anext(runtime.events({}))


# --- pulls -------------------------------------------------------------------------------
