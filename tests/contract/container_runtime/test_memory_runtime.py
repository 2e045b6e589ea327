"""What only the in-memory runtime does: the knobs tests use to script failures."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from executor_adapters.memory.container_runtime import InMemoryContainerRuntime, registry_of
from executor_core.errors import (
    ContainerNotFound,
    ContainerStartFailed,
    RegistryUnavailable,
)
from executor_core.performers import ContainerSpec, PerformerImage
from executor_core.ports import ContainerEvent, ContainerEventKind
from tests.contract.container_runtime.support import (
    FAKE_DIGEST,
    FAKE_IMAGE,
    FAKE_PULLABLE_IMAGE,
)


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
