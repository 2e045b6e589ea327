"""A start cancelled while the engine is still creating or starting the container.

The engine goes on with a request whose HTTP call was cancelled, and lists a container before it
finds it by name. These tests hold the engine's answer back on purpose, so the order that made
the real-engine test flaky happens every time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from executor_adapters.docker import AiodockerContainerRuntime
from executor_core.performers import ContainerSpec, PerformerImage

IMAGE = PerformerImage(repository="example/performer", tag="1")


class SlowEngine:
    """Just enough of aiodocker for `start_container`: creates and starts when told to."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.create_received = asyncio.Event()
        self.start_received = asyncio.Event()
        self.answer_create = asyncio.Event()
        self.answer_start = asyncio.Event()
        self.images = self
        self.containers = self
        self.system = self

    async def inspect(self, reference: str) -> dict[str, Any]:
        return {"RepoTags": [reference]}

    async def info(self) -> dict[str, Any]:
        return {"NCPU": 2}

    async def create(self, config: dict[str, Any], *, name: str) -> SlowContainer:
        self.create_received.set()
        # The engine creates it whatever happens to the request.
        container = SlowContainer(self, name)
        self.created.append(container.id)
        await asyncio.shield(self.answer_create.wait())
        return container

    def container(self, name_or_id: str) -> SlowContainer:
        # By name, the engine answers 404 until it has registered the container.
        return SlowContainer(self, name_or_id, registered=False)


class SlowContainer:
    def __init__(self, engine: SlowEngine, name: str, *, registered: bool = True) -> None:
        self.engine = engine
        self.id = f"id-of-{name}"
        self.registered = registered

    async def start(self) -> None:
        self.engine.start_received.set()
        await asyncio.shield(self.engine.answer_start.wait())

    async def delete(self, *, force: bool) -> None:
        if self.registered:
            self.engine.deleted.append(self.id)


def spec() -> ContainerSpec:
    return ContainerSpec(image=IMAGE, name="executor-test-cancel", labels={"test": "1"})


async def start_until_create(engine: SlowEngine) -> asyncio.Task[object]:
    """Begin a start and return once the engine has received the create request."""
    runtime = AiodockerContainerRuntime(engine)  # type: ignore[arg-type]
    start: asyncio.Task[object] = asyncio.create_task(runtime.start_container(spec()))
    await engine.create_received.wait()
    return start


async def test_a_start_cancelled_during_create_removes_what_the_engine_then_creates() -> None:
    engine = SlowEngine()
    start = await start_until_create(engine)

    start.cancel()
    await asyncio.sleep(0)
    assert not start.done(), "the start must wait for the engine's answer"
    engine.answer_create.set()
    with pytest.raises(asyncio.CancelledError):
        await start

    assert engine.deleted == engine.created == ["id-of-executor-test-cancel"]


async def test_a_start_cancelled_during_start_removes_the_container_after_the_engine_answers() -> (
    None
):
    engine = SlowEngine()
    engine.answer_create.set()
    runtime = AiodockerContainerRuntime(engine)  # type: ignore[arg-type]
    start = asyncio.create_task(runtime.start_container(spec()))
    await engine.start_received.wait()

    start.cancel()
    await asyncio.sleep(0)
    assert engine.deleted == []
    engine.answer_start.set()
    with pytest.raises(asyncio.CancelledError):
        await start

    assert engine.deleted == ["id-of-executor-test-cancel"]


async def test_a_second_cancellation_does_not_leave_the_container_behind() -> None:
    engine = SlowEngine()
    start = await start_until_create(engine)

    start.cancel()
    await asyncio.sleep(0)
    start.cancel()
    await asyncio.sleep(0)
    engine.answer_create.set()
    with pytest.raises(asyncio.CancelledError):
        await start

    assert engine.deleted == ["id-of-executor-test-cancel"]
