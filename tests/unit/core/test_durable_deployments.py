"""What DeployArtifact deployed comes back after a restart, unless the config moved on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from executor_adapters.config import ManagementConfig
from executor_adapters.memory import InMemoryContainerRuntime, InMemoryDeploymentStore
from executor_core.events import DeploymentRestored, DomainEvent, StoredDeploymentDropped
from executor_core.executor import Executor
from executor_core.performer_env import RequestedEnv
from executor_core.performers import PerformerImage

from .conftest import AVS, IMAGE, OTHER_AVS, Harness

V2 = PerformerImage("registry.example/avs", digest="sha256:" + "22" * 32)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    for executor in h.executors:
        await executor.shutdown(0)


async def restart(
    harness: Harness, store: InMemoryDeploymentStore, image: PerformerImage = IMAGE
) -> tuple[Executor, list[DomainEvent]]:
    """A new executor on a fresh engine (nothing left to adopt) and the same stored state."""
    for executor in harness.executors:
        await executor.shutdown(0)
    harness.executors.clear()
    harness.runtime = InMemoryContainerRuntime()
    executor = harness.build(
        harness.settings(image=image),
        deployments=store,
        management=ManagementConfig(max_unlisted_avs=2),
    )
    events: list[DomainEvent] = []
    executor.subscribe(events.append)
    await executor.start()
    return executor, events


async def test_a_deployment_survives_a_restart_with_its_environment(harness: Harness) -> None:
    store = InMemoryDeploymentStore()
    first, _ = await restart(harness, store)
    await first.deploy_artifact(AVS, V2, env=(RequestedEnv("MODE", value="blue"),))
    stored = store.deployments[AVS]
    second, events = await restart(harness, store)
    [view] = second.list_performers()
    assert view.image == V2
    assert ("MODE", "blue") in harness.runtime.containers[view.container_id].spec.env
    assert DeploymentRestored(AVS, V2) in events
    assert store.deployments[AVS].release == stored.release


async def test_a_changed_config_image_wins_over_the_stored_deployment(harness: Harness) -> None:
    store = InMemoryDeploymentStore()
    first, _ = await restart(harness, store)
    await first.deploy_artifact(AVS, V2)
    newer = PerformerImage("hourglass-example-performer", tag="v3")
    second, events = await restart(harness, store, image=newer)
    assert second.list_performers()[0].image == newer
    assert any(isinstance(e, StoredDeploymentDropped) for e in events)


async def test_an_avs_added_by_deploy_artifact_comes_back(harness: Harness) -> None:
    store = InMemoryDeploymentStore()
    first, _ = await restart(harness, store)
    await first.deploy_artifact(OTHER_AVS, V2)
    second, _ = await restart(harness, store)
    assert [v.image for v in second.list_performers(OTHER_AVS)] == [V2]


async def test_a_removed_performer_is_forgotten_and_the_config_image_returns(
    harness: Harness,
) -> None:
    store = InMemoryDeploymentStore()
    first, _ = await restart(harness, store)
    await first.deploy_artifact(AVS, V2)
    await first.remove_performer(first.list_performers()[0].performer_id)
    assert AVS not in store.deployments
    second, _ = await restart(harness, store)
    assert second.list_performers()[0].image == IMAGE
