"""The `ContainerRuntime` contract, written once and run against the fake and the Docker adapter.

`ContainerRuntimeContract` holds the shared tests; a subclass provides the runtime, the images and
its capabilities as fixtures (fsspec's AbstractFixtures pattern), so no test carries its own skip.

Docker runs need an engine and the `hourglass-python-base:bookworm` image and skip, with the
reason, without them. Everything they create carries TEST_LABEL and this run's RUN_LABEL and is
removed by id: per test by its CASE_LABEL, and once more for the whole run when the session ends.
Images are tagged under a stand-in registry on loopback, so no pull can leave the machine and the
registry's request log shows whether the runtime pulled. The pull and event tests also use the
real registry of the `registry` session fixture (tests/registry_support.py), which holds the
example performer by digest, and skip without docker-registry.

What the engine reports, which the fake copies: a killed container dies with exit code 137; one
stopped by `remove_container` dies once more (137 here, as the stand-in image runs as PID 1 and
ignores SIGTERM until the grace ends; 0 for a performer that exits on SIGTERM, which is what the
fake reports); a container whose start failed dies before its id is returned; an OOM kill gives
``oom`` and then ``die`` with 137. A failed pull is 404 (unknown manifest) or 500 (registry
unreachable) from Docker 20.10, told apart by the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import tarfile
import threading
import time
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import aiodocker
import attrs
import pytest
from aiohttp import web

from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.docker._errors import pull_failure
from executor_adapters.docker._payloads import container_event, events_since, image_is_present
from executor_adapters.memory.container_runtime import InMemoryContainerRuntime, registry_of
from executor_core.errors import (
    ContainerNotFound,
    ContainerRuntimeError,
    ContainerStartFailed,
    ImageNotFound,
    RegistryUnavailable,
    RuntimeUnavailable,
)
from executor_core.performers import ContainerSpec, Endpoint, PerformerImage
from executor_core.ports import ContainerEvent, ContainerEventKind, ContainerRuntime
from tests.registry_support import LocalRegistry

TEST_LABEL = "com.eigenlayer.hourglass.test"
RUN_LABEL = "com.eigenlayer.hourglass.test-run"
CASE_LABEL = "com.eigenlayer.hourglass.test-case"
RUN_ID = uuid.uuid4().hex[:12]
BASE_IMAGE = "hourglass-python-base:bookworm"
EXIT_MARKER = "performer-test: failing on purpose"
DIGEST = "sha256:" + "ab" * 32


class ListingRuntime(ContainerRuntime, Protocol):
    """The port plus what both runtimes offer besides: the label lookup for cleaning up after a
    crash, and the count of open event subscriptions."""

    async def ensure_image(self, image: PerformerImage) -> None: ...

    async def list_containers(self, label_selector: Mapping[str, str]) -> list[str]: ...

    def events(self, labels: Mapping[str, str]) -> AsyncGenerator[ContainerEvent, None]: ...

    @property
    def active_event_streams(self) -> int: ...


class SpecFactory(Protocol):
    def __call__(
        self,
        *,
        image: PerformerImage | None = None,
        network: str | None = None,
        extra_labels: Mapping[str, str] | None = None,
    ) -> ContainerSpec: ...


Crash = Callable[[str], Awaitable[None]]
Pulls = Callable[[], int]
"""How often the runtime has pulled the `pullable_image` since the test began."""


class EventWatch:
    """Consumes `runtime.events(labels)` in a task, as a performer supervisor would."""

    def __init__(self, runtime: ListingRuntime, labels: Mapping[str, str]) -> None:
        self._received: asyncio.Queue[ContainerEvent] = asyncio.Queue()
        self.task = asyncio.create_task(self._consume(runtime.events(labels)))

    async def _consume(self, events: AsyncIterator[ContainerEvent]) -> None:
        async for event in events:
            self._received.put_nowait(event)

    async def next(self, *, within: float = 15.0) -> ContainerEvent:
        """Return the next event; fail if the stream ends or stays quiet for `within` seconds."""
        getter = asyncio.ensure_future(self._received.get())
        done, _ = await asyncio.wait(
            {getter, self.task}, timeout=within, return_when=asyncio.FIRST_COMPLETED
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        if self.task in done:
            self.task.result()  # Raises whatever ended the stream.
            raise AssertionError("the event stream ended")
        raise AssertionError(f"no event within {within:g} s")

    def pending(self) -> list[ContainerEvent]:
        """Events received and not yet taken with `next`."""
        found = []
        while not self._received.empty():
            found.append(self._received.get_nowait())
        return found

    async def stop(self) -> None:
        """Cancel the consumer, as a supervisor does when it stops watching."""
        if self.task.done():
            return  # A test that ended the stream otherwise has looked at how it ended.
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


Watch = Callable[[Mapping[str, str]], Awaitable[EventWatch]]


async def accepts_connection(endpoint: Endpoint, *, within: float = 10.0) -> bool:
    """Tell whether a TCP connection to `endpoint` succeeds, retrying while the process boots."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
        except OSError:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.1)
        else:
            writer.close()
            await writer.wait_closed()
            return True


class ContainerRuntimeContract:
    """Shared tests; subclasses override the fixtures that raise NotImplementedError."""

    @pytest.fixture
    def runtime(self) -> ListingRuntime:
        raise NotImplementedError

    @pytest.fixture
    def image(self) -> PerformerImage:
        """An image whose container keeps running and listens on the performer port."""
        raise NotImplementedError

    @pytest.fixture
    def exiting_image(self) -> PerformerImage:
        """An image whose process exits at once."""
        raise NotImplementedError

    @pytest.fixture
    def missing_image(self) -> PerformerImage:
        """An image that exists neither locally nor in its registry."""
        raise NotImplementedError

    @pytest.fixture
    def crash(self, runtime: ListingRuntime) -> Crash:
        """Make a container's process exit behind the runtime's back."""
        raise NotImplementedError

    @pytest.fixture
    def pullable_image(self) -> PerformerImage:
        """An image by digest in a reachable registry, not present locally when the test begins."""
        raise NotImplementedError

    @pytest.fixture
    def pulls(self) -> Pulls:
        """Count the pulls of `pullable_image` since the test began."""
        raise NotImplementedError

    @pytest.fixture
    def unreachable_image(self) -> PerformerImage:
        """An image by digest whose registry refuses connections."""
        raise NotImplementedError

    @pytest.fixture
    def unknown_digest_image(self) -> PerformerImage:
        """A digest the registry does not have, in a repository it has."""
        raise NotImplementedError

    @pytest.fixture
    def unknown_repository_image(self) -> PerformerImage:
        """A repository the registry does not have."""
        raise NotImplementedError

    @pytest.fixture
    def endpoint_accepts_connections(self) -> bool:
        """Capability: something really listens at the endpoints the runtime returns."""
        return True

    @pytest.fixture
    async def watch(self, runtime: ListingRuntime) -> AsyncIterator[Watch]:
        """Start consuming events of containers with some labels; stopped after the test."""
        watches: list[EventWatch] = []

        async def start(labels: Mapping[str, str]) -> EventWatch:
            watching = EventWatch(runtime, labels)
            watches.append(watching)
            # Let the iterator begin: that is when it subscribes, or notes the time it asks the
            # engine to replay events from.
            await asyncio.sleep(0)
            return watching

        yield start
        for watching in watches:
            await watching.stop()

    @pytest.fixture
    def case_id(self) -> str:
        return uuid.uuid4().hex[:12]

    @pytest.fixture
    def labels(self, case_id: str) -> dict[str, str]:
        return {TEST_LABEL: "1", RUN_LABEL: RUN_ID, CASE_LABEL: case_id}

    @pytest.fixture
    def network_name(self, case_id: str) -> str:
        return f"executor-test-{case_id}"

    @pytest.fixture
    def make_spec(self, image: PerformerImage, labels: dict[str, str], case_id: str) -> SpecFactory:
        counter = itertools.count(1)
        default_image = image

        def make(
            *,
            image: PerformerImage | None = None,
            network: str | None = None,
            extra_labels: Mapping[str, str] | None = None,
        ) -> ContainerSpec:
            return ContainerSpec(
                image=image or default_image,
                name=f"executor-test-{case_id}-{next(counter)}",
                labels={**labels, **(extra_labels or {})},
                network=network,
            )

        return make

    async def test_ensure_network_creates_once_then_finds_it(
        self, runtime: ListingRuntime, network_name: str, labels: dict[str, str]
    ) -> None:
        first = await runtime.ensure_network(network_name, labels)
        second = await runtime.ensure_network(network_name, labels)

        assert first.created is True
        assert first.name == network_name
        assert second.created is False
        assert second.network_id == first.network_id
        await runtime.remove_network(first.network_id)

    async def test_ensure_network_matches_the_name_exactly(
        self, runtime: ListingRuntime, network_name: str, labels: dict[str, str]
    ) -> None:
        longer = await runtime.ensure_network(f"{network_name}-long", labels)
        shorter = await runtime.ensure_network(network_name, labels)

        assert shorter.created is True
        assert shorter.network_id != longer.network_id
        await runtime.remove_network(shorter.network_id)
        await runtime.remove_network(longer.network_id)

    async def test_remove_network_twice_is_fine(
        self, runtime: ListingRuntime, network_name: str, labels: dict[str, str]
    ) -> None:
        network = await runtime.ensure_network(network_name, labels)

        await runtime.remove_network(network.network_id)
        await runtime.remove_network(network.network_id)

        assert (await runtime.ensure_network(network_name, labels)).created is True

    async def test_start_returns_a_running_container_on_loopback(
        self,
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
        self, runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
    ) -> None:
        started = await runtime.start_container(make_spec(extra_labels={"role": "performer"}))

        assert await runtime.list_containers({**labels, "role": "performer"}) == [
            started.container_id
        ]

    async def test_two_containers_get_distinct_names_ids_and_ports(
        self, runtime: ListingRuntime, make_spec: SpecFactory
    ) -> None:
        first = await runtime.start_container(make_spec())
        second = await runtime.start_container(make_spec())

        assert first.name != second.name
        assert first.container_id != second.container_id
        assert first.endpoint.port != second.endpoint.port

    async def test_a_name_in_use_is_refused_and_the_holder_keeps_running(
        self, runtime: ListingRuntime, make_spec: SpecFactory
    ) -> None:
        spec = make_spec()
        first = await runtime.start_container(spec)

        with pytest.raises(ContainerRuntimeError):
            await runtime.start_container(spec)

        assert await runtime.is_running(first.container_id)

    async def test_remove_stops_and_removes_and_twice_is_fine(
        self, runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
    ) -> None:
        started = await runtime.start_container(make_spec())

        await runtime.remove_container(started.container_id, grace_seconds=1)
        await runtime.remove_container(started.container_id, grace_seconds=1)

        assert not await runtime.is_running(started.container_id)
        assert await runtime.list_containers(labels) == []

    async def test_is_running_is_false_for_an_unknown_container(
        self, runtime: ListingRuntime
    ) -> None:
        assert not await runtime.is_running("0" * 64)

    async def test_a_crashed_container_stays_listed_until_removed(
        self,
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
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        missing_image: PerformerImage,
        labels: dict[str, str],
    ) -> None:
        with pytest.raises(ImageNotFound):
            await runtime.start_container(make_spec(image=missing_image))

        assert await runtime.list_containers(labels) == []

    async def test_a_process_that_exits_at_once_fails_the_start_and_leaves_nothing(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        exiting_image: PerformerImage,
        labels: dict[str, str],
    ) -> None:
        with pytest.raises(ContainerStartFailed):
            await runtime.start_container(make_spec(image=exiting_image))

        assert await runtime.list_containers(labels) == []

    async def test_a_missing_network_fails_the_start_and_leaves_nothing(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        network_name: str,
        labels: dict[str, str],
    ) -> None:
        with pytest.raises(ContainerStartFailed):
            await runtime.start_container(make_spec(network=network_name))

        assert await runtime.list_containers(labels) == []

    async def test_a_container_joins_its_network_which_stays_until_it_is_gone(
        self,
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

    async def test_list_containers_needs_every_label(
        self, runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
    ) -> None:
        blue = await runtime.start_container(make_spec(extra_labels={"slot": "blue"}))
        green = await runtime.start_container(make_spec(extra_labels={"slot": "green"}))

        assert sorted(await runtime.list_containers(labels)) == sorted(
            [blue.container_id, green.container_id]
        )
        assert await runtime.list_containers({**labels, "slot": "green"}) == [green.container_id]
        assert await runtime.list_containers({**labels, "slot": "red"}) == []

    async def test_list_containers_refuses_an_empty_selector(self, runtime: ListingRuntime) -> None:
        with pytest.raises(ValueError, match="at least one label"):
            await runtime.list_containers({})

    async def test_a_closed_runtime_raises_runtime_unavailable(
        self, runtime: ListingRuntime, network_name: str, labels: dict[str, str]
    ) -> None:
        await runtime.aclose()
        await runtime.aclose()

        with pytest.raises(RuntimeUnavailable):
            await runtime.ensure_network(network_name, labels)

    # --- container events ------------------------------------------------------------------

    async def test_a_killed_container_gives_a_died_event_with_its_id_and_code(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        labels: dict[str, str],
        crash: Crash,
        watch: Watch,
    ) -> None:
        started = await runtime.start_container(make_spec())
        events = await watch(labels)

        await crash(started.container_id)

        assert await events.next() == ContainerEvent(
            started.container_id, ContainerEventKind.DIED, 137
        )

    async def test_removing_a_running_container_gives_one_died_event(
        self,
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
        self,
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
        self,
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
        self, runtime: ListingRuntime, labels: dict[str, str], watch: Watch
    ) -> None:
        events = await watch(labels)
        await asyncio.sleep(0.2)  # Long enough for the Docker adapter to be connected.
        assert runtime.active_event_streams == 1

        events.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await events.task

        assert runtime.active_event_streams == 0

    async def test_closing_the_iterator_ends_its_subscription(
        self,
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
        self, runtime: ListingRuntime, labels: dict[str, str], watch: Watch
    ) -> None:
        events = await watch(labels)
        await asyncio.sleep(0.2)

        await runtime.aclose()

        with pytest.raises(RuntimeUnavailable):
            await asyncio.wait_for(events.task, 10)
        assert runtime.active_event_streams == 0

    async def test_events_need_at_least_one_label(self, runtime: ListingRuntime) -> None:
        with pytest.raises(ValueError, match="at least one label"):
            await anext(runtime.events({}))

    # --- pulls -------------------------------------------------------------------------------

    async def test_an_unreachable_registry_raises_registry_unavailable_and_leaves_nothing(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        unreachable_image: PerformerImage,
        labels: dict[str, str],
    ) -> None:
        with pytest.raises(RegistryUnavailable):
            await runtime.start_container(make_spec(image=unreachable_image))
        with pytest.raises(RegistryUnavailable):
            await runtime.ensure_image(unreachable_image)

        assert await runtime.list_containers(labels) == []

    @pytest.mark.parametrize("unknown", ["unknown_digest_image", "unknown_repository_image"])
    async def test_what_the_registry_does_not_have_raises_image_not_found(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        labels: dict[str, str],
        request: pytest.FixtureRequest,
        unknown: str,
    ) -> None:
        image: PerformerImage = request.getfixturevalue(unknown)

        with pytest.raises(ImageNotFound):
            await runtime.start_container(make_spec(image=image))
        with pytest.raises(ImageNotFound):
            await runtime.ensure_image(image)

        assert await runtime.list_containers(labels) == []

    async def test_a_digest_is_pulled_once_and_then_used_as_it_is(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        pullable_image: PerformerImage,
        pulls: Pulls,
    ) -> None:
        assert pulls() == 0

        first = await runtime.start_container(make_spec(image=pullable_image))
        assert pulls() == 1
        second = await runtime.start_container(make_spec(image=pullable_image))
        await runtime.ensure_image(pullable_image)

        assert pulls() == 1
        assert await runtime.is_running(first.container_id)
        assert await runtime.is_running(second.container_id)


# --- the in-memory fake ------------------------------------------------------------------------

FAKE_IMAGE = PerformerImage("example.test/performer", tag="v1")
FAKE_EXITING_IMAGE = PerformerImage("example.test/broken-performer", tag="v1")
FAKE_DIGEST = "sha256:" + "12" * 32
FAKE_PULLABLE_IMAGE = PerformerImage("127.0.0.1:5000/example-performer", digest=FAKE_DIGEST)
FAKE_UNREACHABLE_REGISTRY = "127.0.0.1:1"


class TestInMemoryContainerRuntime(ContainerRuntimeContract):
    @pytest.fixture
    def image(self) -> PerformerImage:
        return FAKE_IMAGE

    @pytest.fixture
    def exiting_image(self) -> PerformerImage:
        return FAKE_EXITING_IMAGE

    @pytest.fixture
    def missing_image(self) -> PerformerImage:
        return PerformerImage("example.test/missing", tag="v1")

    @pytest.fixture
    def pullable_image(self) -> PerformerImage:
        return FAKE_PULLABLE_IMAGE

    @pytest.fixture
    def pulls(self, runtime: InMemoryContainerRuntime) -> Pulls:
        return lambda: runtime.pulled_images.count(FAKE_PULLABLE_IMAGE.reference)

    @pytest.fixture
    def unreachable_image(self) -> PerformerImage:
        return PerformerImage(f"{FAKE_UNREACHABLE_REGISTRY}/example-performer", digest=FAKE_DIGEST)

    @pytest.fixture
    def unknown_digest_image(self) -> PerformerImage:
        return PerformerImage(FAKE_PULLABLE_IMAGE.repository, digest="sha256:" + "ab" * 32)

    @pytest.fixture
    def unknown_repository_image(self) -> PerformerImage:
        return PerformerImage("127.0.0.1:5000/no-such-performer", digest=FAKE_DIGEST)

    @pytest.fixture
    def endpoint_accepts_connections(self) -> bool:
        return False

    @pytest.fixture
    def runtime(self) -> InMemoryContainerRuntime:
        return InMemoryContainerRuntime(
            available_images=[FAKE_IMAGE, FAKE_EXITING_IMAGE, FAKE_PULLABLE_IMAGE],
            exiting_images=[FAKE_EXITING_IMAGE],
            unreachable_registries={FAKE_UNREACHABLE_REGISTRY},
        )

    @pytest.fixture
    def crash(self, runtime: InMemoryContainerRuntime) -> Crash:
        async def crash(container_id: str) -> None:
            runtime.crash(container_id)

        return crash


def _fake_spec(name: str, image: PerformerImage = FAKE_IMAGE) -> ContainerSpec:
    return ContainerSpec(image=image, name=name, labels={"app": "test"})


async def test_in_memory_runtime_makes_every_image_available_by_default() -> None:
    runtime = InMemoryContainerRuntime()

    started = await runtime.start_container(_fake_spec("any", PerformerImage("any/image", "v9")))

    assert runtime.containers[started.container_id].running


async def test_in_memory_fail_next_start_fails_once_and_records_nothing() -> None:
    runtime = InMemoryContainerRuntime()
    runtime.fail_next_start(ContainerStartFailed("boom"))

    with pytest.raises(ContainerStartFailed, match="boom"):
        await runtime.start_container(_fake_spec("first"))

    assert runtime.containers == {}
    assert await runtime.start_container(_fake_spec("second"))


async def test_in_memory_runtime_records_removals_with_their_grace() -> None:
    runtime = InMemoryContainerRuntime()
    started = await runtime.start_container(_fake_spec("drained"))

    await runtime.remove_container(started.container_id, grace_seconds=7.5)

    [removed] = runtime.removed_containers
    assert removed.container_id == started.container_id
    assert removed.removed_with_grace == 7.5
    assert not removed.running


def test_in_memory_crash_of_an_unknown_container_raises() -> None:
    with pytest.raises(ContainerNotFound):
        InMemoryContainerRuntime().crash("nope")


async def test_in_memory_oom_crash_reports_oom_then_died_with_137() -> None:
    runtime = InMemoryContainerRuntime()
    started = await runtime.start_container(_fake_spec("oom"))
    stream = runtime.events({"app": "test"})
    async with contextlib.aclosing(stream):
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)

        runtime.crash(started.container_id, oom=True)

        assert await first == ContainerEvent(started.container_id, ContainerEventKind.OOM_KILLED)
        assert await anext(stream) == ContainerEvent(
            started.container_id, ContainerEventKind.DIED, 137
        )


async def test_in_memory_crash_takes_an_exit_code_and_reports_only_once() -> None:
    runtime = InMemoryContainerRuntime()
    started = await runtime.start_container(_fake_spec("exits"))
    other = await runtime.start_container(_fake_spec("other"))
    stream = runtime.events({"app": "test"})
    async with contextlib.aclosing(stream):
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)

        runtime.crash(started.container_id, exit_code=3)
        runtime.crash(started.container_id, exit_code=4)
        runtime.crash(other.container_id)

        assert await first == ContainerEvent(started.container_id, ContainerEventKind.DIED, 3)
        assert (await anext(stream)).container_id == other.container_id


async def test_in_memory_images_pulled_before_survive_an_unreachable_registry() -> None:
    runtime = InMemoryContainerRuntime()
    await runtime.ensure_image(FAKE_PULLABLE_IMAGE)

    runtime.unreachable_registries.add(registry_of(FAKE_PULLABLE_IMAGE.reference))

    await runtime.start_container(_fake_spec("cached", FAKE_PULLABLE_IMAGE))
    with pytest.raises(RegistryUnavailable, match="connection refused"):
        await runtime.ensure_image(PerformerImage(FAKE_PULLABLE_IMAGE.repository, tag="v2"))
    assert runtime.pulled_images == [FAKE_PULLABLE_IMAGE.reference]


@pytest.mark.parametrize(
    ("reference", "registry"),
    [
        ("127.0.0.1:1/example@" + FAKE_DIGEST, "127.0.0.1:1"),
        ("registry.example/team/app:v1", "registry.example"),
        ("localhost/app:v1", "localhost"),
        ("team/app:v1", "docker.io"),
        ("app:v1", "docker.io"),
    ],
)
def test_in_memory_registry_of_follows_dockers_rule(reference: str, registry: str) -> None:
    assert registry_of(reference) == registry


# --- the Docker adapter ------------------------------------------------------------------------


@attrs.frozen
class StandInRegistry:
    """A registry on loopback that has no images; it records the paths it was asked for."""

    host: str
    requests: list[str]


class _NoImagesHandler(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if self.path.rstrip("/") == "/v2":
            self._reply(200, {})
        else:
            self._reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "no images"}]})

    do_HEAD = do_GET

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # The engine's TLS probe and our 404s are expected; keep the test output clean.


@pytest.fixture(scope="session")
def stand_in_registry() -> Iterator[StandInRegistry]:
    requests: list[str] = []
    handler = type("Handler", (_NoImagesHandler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield StandInRegistry(f"127.0.0.1:{server.server_address[1]}", requests)
    server.shutdown()
    server.server_close()
    thread.join()


async def _engine_answers() -> None:
    async with aiodocker.Docker() as docker:
        await asyncio.wait_for(docker.version(), timeout=5)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    try:
        asyncio.run(_engine_answers())
    except Exception as exc:
        pytest.skip(f"no Docker engine answers ({exc!r}); start one with scripts/setup-env.sh")


async def _purge(docker: aiodocker.Docker, selector: Mapping[str, str]) -> None:
    """Remove, by id, the containers, networks and images that carry every label in `selector`."""
    filters = {"label": [f"{key}={value}" for key, value in selector.items()]}
    for container in await docker.containers.list(all=True, filters=json.dumps(filters)):
        await container.delete(force=True)
    for network in await docker.networks.list(filters=filters):
        await (await docker.networks.get(network["Id"])).delete()
    for image in await docker.images.list(filters=filters):
        await docker.images.delete(image["Id"], force=True)


@pytest.fixture(scope="session")
def docker_run(docker_engine: None) -> Iterator[None]:
    """Remove whatever this run labelled when the session ends, even after a failed test."""
    yield

    async def purge_run() -> None:
        async with aiodocker.Docker() as docker:
            await _purge(docker, {RUN_LABEL: RUN_ID})

    asyncio.run(purge_run())


@attrs.frozen
class DockerTestImages:
    serving: PerformerImage
    exiting: PerformerImage
    missing: PerformerImage


def _build_context(cmd: list[str]) -> io.BytesIO:
    dockerfile = f"FROM {BASE_IMAGE}\nCMD {json.dumps(cmd)}\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w:gz") as tar:
        entry = tarfile.TarInfo("Dockerfile")
        entry.size = len(dockerfile)
        tar.addfile(entry, io.BytesIO(dockerfile))
    context.seek(0)
    return context


async def _build_test_images(registry: StandInRegistry) -> DockerTestImages | None:
    repository = f"{registry.host}/executor-test"
    images = DockerTestImages(
        serving=PerformerImage(f"{repository}/http", tag=RUN_ID),
        exiting=PerformerImage(f"{repository}/exits", tag=RUN_ID),
        missing=PerformerImage(f"{repository}/missing", tag=RUN_ID),
    )
    commands = {
        images.serving: ["python3", "-m", "http.server", "8080"],
        images.exiting: ["sh", "-c", f"echo '{EXIT_MARKER}' >&2; exit 3"],
    }
    async with aiodocker.Docker() as docker:
        try:
            await docker.images.inspect(BASE_IMAGE)
        except aiodocker.DockerError:
            return None
        for image, cmd in commands.items():
            await docker.images.build(
                fileobj=_build_context(cmd),
                encoding="gzip",
                tag=image.reference,
                labels={TEST_LABEL: "1", RUN_LABEL: RUN_ID},
                pull=False,
                rm=True,
                forcerm=True,
            )
    return images


@pytest.fixture(scope="session")
def docker_test_images(docker_run: None, stand_in_registry: StandInRegistry) -> DockerTestImages:
    images = asyncio.run(_build_test_images(stand_in_registry))
    if images is None:
        pytest.skip(f"{BASE_IMAGE} is missing; build it with scripts/build-base-image.sh")
    return images


@pytest.mark.docker
class TestAiodockerContainerRuntime(ContainerRuntimeContract):
    @pytest.fixture
    def image(self, docker_test_images: DockerTestImages) -> PerformerImage:
        return docker_test_images.serving

    @pytest.fixture
    def exiting_image(self, docker_test_images: DockerTestImages) -> PerformerImage:
        return docker_test_images.exiting

    @pytest.fixture
    def missing_image(self, docker_test_images: DockerTestImages) -> PerformerImage:
        return docker_test_images.missing

    @pytest.fixture
    async def engine(
        self, docker_test_images: DockerTestImages, labels: dict[str, str]
    ) -> AsyncIterator[aiodocker.Docker]:
        """A client of our own, to look at the engine without going through the adapter."""
        async with aiodocker.Docker() as docker:
            yield docker
            await _purge(docker, labels)

    @pytest.fixture
    async def runtime(self, engine: aiodocker.Docker) -> AsyncIterator[AiodockerContainerRuntime]:
        runtime = AiodockerContainerRuntime(start_timeout=20, poll_interval=0.1)
        yield runtime
        await runtime.aclose()

    @pytest.fixture
    def crash(self, engine: aiodocker.Docker) -> Crash:
        async def crash(container_id: str) -> None:
            container = engine.containers.container(container_id)
            await container.kill()
            await container.wait()

        return crash

    @pytest.fixture
    async def pullable_image(
        self, registry: LocalRegistry, engine: aiodocker.Docker
    ) -> PerformerImage:
        # An earlier test may have pulled it; containers using it are gone with that test.
        with contextlib.suppress(aiodocker.DockerError):
            await engine.images.delete(registry.v1.reference)
        return registry.v1.image

    @pytest.fixture
    def pulls(self, registry: LocalRegistry, pullable_image: PerformerImage) -> Pulls:
        before = len(registry.requests())

        def pulls() -> int:
            asked = registry.manifest_requests(registry.v1, since=before)
            return len([request for request in asked if request.method == "GET"])

        return pulls

    @pytest.fixture
    def unreachable_image(self, registry: LocalRegistry) -> PerformerImage:
        return PerformerImage(f"{registry.unreachable_url}/example-performer", digest=DIGEST)

    @pytest.fixture
    def unknown_digest_image(self, registry: LocalRegistry) -> PerformerImage:
        return PerformerImage(registry.v1.repository, digest=DIGEST)

    @pytest.fixture
    def unknown_repository_image(self, registry: LocalRegistry) -> PerformerImage:
        return PerformerImage(f"{registry.url}/no-such-performer", digest=registry.v1.digest)

    async def test_a_pulled_digest_is_known_by_its_digest_only(
        self,
        runtime: AiodockerContainerRuntime,
        engine: aiodocker.Docker,
        make_spec: SpecFactory,
        registry: LocalRegistry,
        pullable_image: PerformerImage,
    ) -> None:
        await runtime.start_container(make_spec(image=pullable_image))

        info = await engine.images.inspect(registry.v1.reference)

        assert info["Id"] == registry.v1.image_id
        assert info["RepoTags"] == []
        assert info["RepoDigests"] == [registry.v1.reference]

    async def test_an_oom_kill_gives_oom_killed_then_died(
        self, engine: aiodocker.Docker, runtime: AiodockerContainerRuntime, labels: dict[str, str]
    ) -> None:
        # The performer spec has no memory limit, so this container is made directly.
        selector = {**labels, "oom": "1"}
        watching = EventWatch(runtime, selector)
        await asyncio.sleep(0)
        container = await engine.containers.create(
            {
                "Image": BASE_IMAGE,
                "Cmd": ["python3", "-c", "bytearray(512 * 1024 * 1024)"],
                "Labels": selector,
                "HostConfig": {"Memory": 64 * 1024 * 1024, "MemorySwap": 64 * 1024 * 1024},
            }
        )
        try:
            await container.start()

            oom = await watching.next()
            died = await watching.next()
        finally:
            await watching.stop()

        assert oom == ContainerEvent(container.id, ContainerEventKind.OOM_KILLED)
        assert died == ContainerEvent(container.id, ContainerEventKind.DIED, 137)

    async def test_the_container_is_set_up_as_the_executor_owns_it(
        self, runtime: AiodockerContainerRuntime, engine: aiodocker.Docker, make_spec: SpecFactory
    ) -> None:
        spec = make_spec()
        started = await runtime.start_container(spec)

        info = await engine.containers.container(started.container_id).show()

        host = info["HostConfig"]
        assert host["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
        assert host["RestartPolicy"]["Name"] == "no"
        assert host["AutoRemove"] is False
        assert info["Name"] == f"/{spec.name}"
        assert spec.labels.items() <= info["Config"]["Labels"].items()

    async def test_the_endpoint_reaches_the_process_on_the_performer_port(
        self, runtime: AiodockerContainerRuntime, make_spec: SpecFactory
    ) -> None:
        started = await runtime.start_container(make_spec())

        status_line = b""
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection(
                    started.endpoint.host, started.endpoint.port
                )
                writer.write(b"GET / HTTP/1.0\r\n\r\n")
                status_line = await reader.readline()
                writer.close()
                await writer.wait_closed()
            except OSError:
                pass
            if status_line.startswith(b"HTTP/"):
                break
            await asyncio.sleep(0.1)
        assert status_line.startswith(b"HTTP/1.0 200")

    async def test_a_local_image_is_not_pulled_again(
        self,
        runtime: AiodockerContainerRuntime,
        make_spec: SpecFactory,
        stand_in_registry: StandInRegistry,
    ) -> None:
        await runtime.start_container(make_spec())

        assert not [path for path in stand_in_registry.requests if "/executor-test/http/" in path]

    async def test_a_failed_start_reports_the_last_log_lines(
        self,
        runtime: AiodockerContainerRuntime,
        make_spec: SpecFactory,
        exiting_image: PerformerImage,
    ) -> None:
        with pytest.raises(ContainerStartFailed, match="exited with code 3") as failure:
            await runtime.start_container(make_spec(image=exiting_image))

        assert EXIT_MARKER in str(failure.value)

    async def test_a_cancelled_start_leaves_nothing(
        self, engine: aiodocker.Docker, make_spec: SpecFactory, labels: dict[str, str]
    ) -> None:
        # A long poll interval holds the start in its wait, after the container was created.
        runtime = AiodockerContainerRuntime(start_timeout=20, poll_interval=2.0)
        start = asyncio.create_task(runtime.start_container(make_spec()))
        selector = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        while not await engine.containers.list(all=True, filters=selector):
            assert not start.done()
            await asyncio.sleep(0.01)

        start.cancel()
        with pytest.raises(asyncio.CancelledError):
            await start

        assert await runtime.list_containers(labels) == []
        await runtime.aclose()


async def test_aiodocker_runtime_reports_an_unreachable_engine(tmp_path: Path) -> None:
    async with aiodocker.Docker(url=f"unix://{tmp_path}/no-docker.sock") as docker:
        runtime = AiodockerContainerRuntime(docker)

        with pytest.raises(RuntimeUnavailable):
            await runtime.ensure_network("executor-test-unreachable", {TEST_LABEL: "1"})
        await runtime.aclose()


async def test_aiodocker_runtime_makes_its_client_from_docker_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    runtime = AiodockerContainerRuntime()

    with pytest.raises(RuntimeUnavailable):
        await runtime.is_running("0" * 64)
    await runtime.aclose()


@pytest.mark.parametrize(
    ("reference", "info", "present"),
    [
        ("repo/app:1", {"RepoTags": ["repo/app:1"]}, True),
        ("repo/app:1", {"RepoTags": ["repo/app:2"], "RepoDigests": ["repo/app:1"]}, False),
        ("docker.io/library/app:1", {"RepoTags": ["app:1"]}, True),
        (
            f"repo/app@{DIGEST}",
            {"RepoTags": ["repo/app:1"], "RepoDigests": [f"repo/app@{DIGEST}"]},
            True,
        ),
        (f"repo/app@{DIGEST}", {"RepoTags": [f"repo/app@{DIGEST}"], "RepoDigests": []}, False),
        (f"docker.io/repo/app@{DIGEST}", {"RepoDigests": [f"repo/app@{DIGEST}"]}, True),
    ],
)
def test_docker_image_matching_is_exact_per_kind_of_reference(
    reference: str, info: dict[str, Any], present: bool
) -> None:
    assert image_is_present(info, reference) is present


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
            RegistryUnavailable,
        ),
        ("dial tcp: lookup registry.invalid on 127.0.0.53:53: no such host", RegistryUnavailable),
        ('Get "https://r.example/v2/": net/http: TLS handshake timeout', RegistryUnavailable),
        ("read tcp 10.0.0.2:4000->10.0.0.9:443: i/o timeout", RegistryUnavailable),
        (
            f"manifest for 127.0.0.1:5000/app@{DIGEST} not found: manifest unknown: manifest "
            "unknown",
            ImageNotFound,
        ),
        (
            "pull access denied for nope, repository does not exist or may require 'docker login'",
            ImageNotFound,
        ),
        ("repository 127.0.0.1:5000/nope not found: name unknown", ImageNotFound),
        ("write /var/lib/docker/tmp/x: no space left on device", ContainerRuntimeError),
    ],
)
def test_a_pull_failure_is_told_apart_by_its_message(
    message: str, error: type[ContainerRuntimeError]
) -> None:
    assert type(pull_failure(f"pull image x: {message}")) is error


def _event(action: str, container_id: str, time_nano: int, **attributes: str) -> dict[str, Any]:
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": container_id, "Attributes": attributes},
        "time": time_nano // 1_000_000_000,
        "timeNano": time_nano,
    }


def test_docker_events_are_read_only_for_die_and_oom_of_labelled_containers() -> None:
    labels = {"app": "x"}

    assert container_event(_event("die", "c1", 1, app="x", exitCode="3"), labels) == (
        ContainerEvent("c1", ContainerEventKind.DIED, 3)
    )
    assert container_event(_event("oom", "c1", 1, app="x"), labels) == (
        ContainerEvent("c1", ContainerEventKind.OOM_KILLED)
    )
    assert container_event(_event("die", "c1", 1, app="x"), labels) == (
        ContainerEvent("c1", ContainerEventKind.DIED, None)
    )
    assert container_event(_event("die", "c1", 1, app="y", exitCode="0"), labels) is None
    assert container_event(_event("start", "c1", 1, app="x"), labels) is None
    assert container_event({**_event("die", "c1", 1, app="x"), "Type": "network"}, labels) is None


def test_docker_events_since_keeps_every_nanosecond() -> None:
    assert events_since(1_700_000_000_000_000_001) == "1700000000.000000001"


@attrs.define
class FakeEngine:
    """Just enough of the Engine API on a unix socket to break event streams on purpose.

    Each GET /events takes the next script: a status code to fail with, or a list of events to
    send, after which the stream is closed ("close") or held open until the test ends ("hold").
    """

    scripts: list[int | tuple[list[dict[str, Any]], str]]
    queries: list[dict[str, str]] = attrs.field(factory=list)
    release: asyncio.Event = attrs.field(factory=asyncio.Event)

    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"ApiVersion": "1.41", "Version": "20.10.24"})

    async def events(self, request: web.Request) -> web.StreamResponse:
        self.queries.append(dict(request.query))
        script = self.scripts.pop(0) if self.scripts else ([], "hold")
        if isinstance(script, int):
            return web.json_response({"message": f"scripted {script}"}, status=script)
        events, then = script
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for event in events:
            await response.write(json.dumps(event).encode() + b"\n")
        if then == "hold":
            await self.release.wait()
        return response


@contextlib.asynccontextmanager
async def fake_engine(
    tmp_path: Path, scripts: Sequence[int | tuple[list[dict[str, Any]], str]]
) -> AsyncIterator[tuple[FakeEngine, AiodockerContainerRuntime]]:
    engine = FakeEngine(list(scripts))
    app = web.Application()
    app.router.add_get("/version", engine.version)
    app.router.add_get("/v1.41/events", engine.events)
    runner = web.AppRunner(app)
    await runner.setup()
    socket_path = tmp_path / "engine.sock"
    await web.UnixSite(runner, str(socket_path)).start()
    docker = aiodocker.Docker(url=f"unix://{socket_path}")
    runtime = AiodockerContainerRuntime(docker, events_reconnect_delay=0.05)
    try:
        yield engine, runtime
    finally:
        engine.release.set()
        await runtime.aclose()
        await docker.close()
        await runner.cleanup()


async def test_docker_events_reconnect_after_a_break_and_replay_from_the_last_event(
    tmp_path: Path,
) -> None:
    labels = {"app": "x"}
    # Later than the moment the stream begins, which is where it starts asking from.
    at = time.time_ns() + 1_000_000_000
    first = _event("die", "c1", at, app="x", exitCode="1")
    second = _event("die", "c2", at + 500, app="x", exitCode="2")
    async with fake_engine(tmp_path, [([first], "close"), 500, ([second], "hold")]) as (
        engine,
        runtime,
    ):
        stream = runtime.events(labels)
        async with contextlib.aclosing(stream):
            got = [await asyncio.wait_for(anext(stream), 5) for _ in range(2)]

        assert [event.container_id for event in got] == ["c1", "c2"]
        assert len(engine.queries) == 3
        assert json.loads(engine.queries[0]["filters"]) == {
            "type": ["container"],
            "event": ["die", "oom"],
            "label": ["app=x"],
        }
        assert float(engine.queries[0]["since"]) < at / 1e9
        assert engine.queries[1]["since"] == events_since(at + 1)
        assert engine.queries[2]["since"] == events_since(at + 1)
        assert runtime.active_event_streams == 0


async def test_docker_events_give_up_when_the_engine_refuses_the_request(
    tmp_path: Path,
) -> None:
    async with fake_engine(tmp_path, [400]) as (_, runtime):
        with pytest.raises(ContainerRuntimeError, match="scripted 400"):
            await asyncio.wait_for(anext(runtime.events({"app": "x"})), 5)
