"""Performer lifecycle on the in-memory runtime: start, report, shut down without leftovers."""

from __future__ import annotations

import asyncio

import attrs
import pytest

from executor_core.errors import DeploymentTimeout, ImageNotFound
from executor_core.labels import AVS_ADDRESS_LABEL, EXECUTOR_INSTANCE_LABEL, PERFORMER_ID_LABEL
from executor_core.performers import PerformerStatus
from executor_core.settings import HealthPolicy

from .conftest import AVS, FAST_POLICY, OTHER_AVS, Harness, make_task


async def test_each_avs_gets_one_labelled_performer_in_service(harness: Harness) -> None:
    executor = harness.build(harness.settings(AVS), harness.settings(OTHER_AVS))
    await executor.start()
    views = executor.list_performers()
    assert {v.avs_address for v in views} == {AVS, OTHER_AVS}
    assert all(v.status is PerformerStatus.IN_SERVICE for v in views)
    assert all(v.application_healthy and v.resource_healthy for v in views)
    assert all(v.last_health_check == harness.clock.now() for v in views)
    ids = await harness.runtime.list_containers({EXECUTOR_INSTANCE_LABEL: "test-instance"})
    assert len(ids) == 2
    labelled = await harness.runtime.list_containers(
        {
            AVS_ADDRESS_LABEL: AVS.value,
            PERFORMER_ID_LABEL: executor.list_performers(AVS)[0].performer_id.value,
        }
    )
    assert labelled == [executor.list_performers(AVS)[0].container_id]


async def test_list_performers_filters_by_avs(harness: Harness) -> None:
    executor = harness.build(harness.settings(AVS), harness.settings(OTHER_AVS))
    await executor.start()
    assert [v.avs_address for v in executor.list_performers(OTHER_AVS)] == [OTHER_AVS]


async def test_performer_ids_name_the_avs(harness: Harness) -> None:
    executor = harness.build()
    await executor.start()
    assert executor.list_performers()[0].performer_id.value.startswith(f"performer-{AVS.value}-")


async def test_shutdown_lets_running_tasks_finish_then_removes_every_container(
    harness: Harness,
) -> None:
    async def slow(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(0.1)
        return b"done"

    harness.handler = slow
    executor = harness.build(network="perf-net")
    await executor.start()
    running = asyncio.create_task(
        executor.submit_task(make_task("0x01", AVS.value, b""), timeout=5)
    )
    await asyncio.sleep(0.01)
    await executor.shutdown(grace=5)
    assert (await running).output == b"done"
    assert list(harness.runtime.containers) == []
    assert executor.list_performers() == []


async def test_shutdown_does_not_wait_past_the_grace_period(harness: Harness) -> None:
    async def hang(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(60)
        return b""

    harness.handler = hang
    executor = harness.build()
    await executor.start()
    running = asyncio.create_task(
        executor.submit_task(make_task("0x01", AVS.value, b""), timeout=30)
    )
    await asyncio.sleep(0.01)
    started = asyncio.get_running_loop().time()
    await executor.shutdown(grace=0.2)
    assert asyncio.get_running_loop().time() - started < 2
    assert list(harness.runtime.containers) == []
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_a_network_the_executor_created_is_removed_at_shutdown(harness: Harness) -> None:
    executor = harness.build(network="perf-net")
    await executor.start()
    ref = await harness.runtime.ensure_network("perf-net", {})
    assert not ref.created
    await executor.shutdown(0)
    assert (await harness.runtime.ensure_network("perf-net", {})).created


async def test_when_one_avs_cannot_start_none_is_left_running(harness: Harness) -> None:
    harness.runtime = type(harness.runtime)(available_images={"hourglass-example-performer:latest"})
    good = harness.settings(AVS)
    bad = harness.settings(OTHER_AVS, image=type(good.image)("missing-image", tag="v9"))
    executor = harness.build(good, bad)
    with pytest.raises(ImageNotFound):
        await executor.start()
    assert list(harness.runtime.containers) == []


async def test_a_performer_that_never_becomes_healthy_fails_the_start_and_is_removed(
    harness: Harness,
) -> None:
    harness.connector.healthy = False
    executor = harness.build(policy=attrs.evolve(FAST_POLICY, deployment_timeout=0.3))
    with pytest.raises(DeploymentTimeout, match="not healthy within"):
        await executor.start()
    assert list(harness.runtime.containers) == []


async def test_the_health_watch_notices_an_unhealthy_performer(harness: Harness) -> None:
    never_down = HealthPolicy(check_interval=0.05, timeout=0.5, failure_threshold=1000)
    executor = harness.build(harness.settings(health=never_down))
    await executor.start()
    for client in harness.connector.clients:
        client.healthy = False
    harness.clock.advance(30)
    await asyncio.sleep(0.2)
    view = executor.list_performers()[0]
    assert not view.application_healthy
    assert view.last_health_check == harness.clock.now()
