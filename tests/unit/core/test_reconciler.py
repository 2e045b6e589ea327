"""At start the executor adopts what an earlier run of it left, when it is what should run, and
removes the rest of its own containers; other executors' containers are never touched."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from executor_core.addresses import AvsAddress
from executor_core.events import DomainEvent, LeftoverRemoved, PerformerAdopted
from executor_core.executor import Executor
from executor_core.labels import container_name, performer_labels
from executor_core.performers import ContainerSpec, PerformerId, PerformerImage
from executor_core.settings import AvsSettings

from .conftest import AVS, IMAGE, OPERATOR, OTHER_AVS, Harness, make_task

NAME = f"{OPERATOR.lower()[:10]}-9090"
"""The identity the harness's config derives (operator address and grpcPort 9090)."""


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    for executor in h.executors:
        await executor.shutdown(0)


async def leftover(
    harness: Harness,
    *,
    avs: AvsAddress = AVS,
    image: PerformerImage = IMAGE,
    env: tuple[tuple[str, str], ...] = (),
    name: str = NAME,
    unique: str = "old1",
) -> tuple[str, PerformerId]:
    """A container as a killed earlier run (instance `dead-run`) left it."""
    performer_id = PerformerId.for_avs(avs, unique)
    await harness.runtime.ensure_image(image)
    started = await harness.runtime.start_container(
        ContainerSpec(
            image=image,
            name=container_name(avs, unique),
            labels=performer_labels("dead-run", name, avs, performer_id),
            env=env,
        )
    )
    return started.container_id, performer_id


async def started(harness: Harness, *settings: AvsSettings) -> tuple[Executor, list[DomainEvent]]:
    executor = harness.build(*(settings or (harness.settings(),)))
    events: list[DomainEvent] = []
    executor.subscribe(events.append)
    await executor.start()
    return executor, events


async def test_a_healthy_leftover_of_the_right_image_is_adopted_with_its_performer_id(
    harness: Harness,
) -> None:
    container_id, performer_id = await leftover(harness)
    executor, events = await started(harness)
    [view] = executor.list_performers()
    assert (view.performer_id, view.container_id) == (performer_id, container_id)
    assert list(harness.runtime.containers) == [container_id]
    assert PerformerAdopted(AVS, performer_id, container_id) in events
    result = await executor.submit_task(make_task("0x01", AVS.value, b"\x03"), timeout=5)
    assert result.output[-1] == 9


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("other image", "runs other-image:v9, not hourglass-example-performer:latest"),
        ("other env", "its environment differs from the one wanted"),
        ("stopped", "not running"),
        ("unhealthy", "it did not answer its health check"),
        ("moved tag", "runs an older image than hourglass-example-performer:latest names now"),
    ],
)
async def test_a_leftover_that_is_not_what_should_run_is_removed_before_a_new_one_starts(
    harness: Harness, kind: str, reason: str
) -> None:
    image = PerformerImage("other-image", tag="v9") if kind == "other image" else IMAGE
    env = (("MODE", "old"),) if kind == "other env" else ()
    container_id, _ = await leftover(harness, image=image, env=env)
    if kind == "stopped":
        harness.runtime.crash(container_id)
    if kind == "unhealthy":
        harness.connector.healthy = False
    if kind == "moved tag":
        harness.runtime.retag(IMAGE.reference)
    settings = harness.settings(env=(("MODE", "new"),)) if kind == "other env" else None
    if kind == "unhealthy":
        harness.connector.healthy = True  # only the leftover's check fails
        original = harness.connector.connect
        stale = harness.runtime.containers[container_id].endpoint

        def connect(endpoint):  # type: ignore[no-untyped-def]
            client = original(endpoint)
            client.healthy = endpoint != stale
            return client

        harness.connector.connect = connect  # type: ignore[method-assign]
    executor, events = await started(harness, *((settings,) if settings else ()))
    removed = [e for e in events if isinstance(e, LeftoverRemoved)]
    assert [(e.container_id, e.reason) for e in removed] == [(container_id, reason)]
    [view] = executor.list_performers()
    assert view.container_id != container_id
    assert list(harness.runtime.containers) == [view.container_id]


async def test_of_two_leftovers_of_one_avs_one_is_adopted_and_the_other_removed(
    harness: Harness,
) -> None:
    first, _ = await leftover(harness, unique="old1")
    second, _ = await leftover(harness, unique="old2")
    executor, events = await started(harness)
    [view] = executor.list_performers()
    assert view.container_id == min(first, second)
    assert list(harness.runtime.containers) == [view.container_id]
    assert any(
        isinstance(e, LeftoverRemoved) and e.container_id == max(first, second) for e in events
    )


async def test_a_leftover_of_an_avs_no_longer_served_is_removed(harness: Harness) -> None:
    container_id, _ = await leftover(harness, avs=OTHER_AVS)
    executor, events = await started(harness)
    [removed] = [e for e in events if isinstance(e, LeftoverRemoved)]
    assert (removed.container_id, removed.reason) == (container_id, "its AVS is not served")
    assert container_id not in harness.runtime.containers
    assert len(executor.list_performers()) == 1


async def test_another_executors_containers_are_never_touched(harness: Harness) -> None:
    container_id, _ = await leftover(harness, name="someone-else")
    executor, events = await started(harness)
    assert container_id in harness.runtime.containers
    assert not [e for e in events if isinstance(e, LeftoverRemoved | PerformerAdopted)]
    assert executor.list_performers()[0].container_id != container_id


async def test_an_adopted_performer_is_removed_at_shutdown_like_any_other(
    harness: Harness,
) -> None:
    container_id, _ = await leftover(harness)
    executor, _ = await started(harness)
    await executor.shutdown(0)
    assert container_id not in harness.runtime.containers
