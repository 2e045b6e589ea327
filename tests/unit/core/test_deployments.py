"""Blue-green deployments on the in-memory adapters: stage, check, promote, drain, roll back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import attrs
import pytest

from executor_adapters.config import ManagementConfig, SigningCurve
from executor_core.addresses import AvsAddress
from executor_core.errors import (
    AvsNotFound,
    ContainerStartFailed,
    DeploymentInProgress,
    DeploymentTimeout,
    ImageNotFound,
    ManagementRefused,
    PerformerNotFound,
    PerformerUnavailable,
    TooManyAvs,
)
from executor_core.events import (
    DeploymentFailed,
    DeploymentPromoted,
    DeploymentRolledBack,
    DomainEvent,
    PerformerRecreated,
    PerformerRemoved,
    PerformerStaged,
    PerformerUnhealthy,
    RecreationAttemptFailed,
)
from executor_core.executor import Executor
from executor_core.performers import PerformerId, PerformerImage, PerformerStatus

from .conftest import AVS, FAST_POLICY, OTHER_AVS, Harness, make_task
from .versioned import VersionedConnector

V1 = PerformerImage("registry.local/avs", tag="v1")
V2 = PerformerImage("registry.local/avs", tag="v2")


async def started(harness: Harness, **policy: float) -> tuple[Executor, list[DomainEvent]]:
    harness.connector = VersionedConnector(harness.runtime)
    executor = harness.build(harness.settings(image=V1), policy=attrs.evolve(FAST_POLICY, **policy))
    events: list[DomainEvent] = []
    executor.subscribe(events.append)
    await executor.start()
    return executor, events


async def run(executor: Executor, n: int = 1) -> bytes:
    return (await executor.submit_task(make_task(f"0x{n:02x}", AVS.value, b""), timeout=5)).output


def of(kind: type, events: list[DomainEvent]) -> list[DomainEvent]:
    return [e for e in events if isinstance(e, kind)]


async def eventually(condition: Callable[[], bool], timeout: float = 3) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polling state the core does not signal
            await asyncio.sleep(0.01)


async def test_a_deployment_promotes_the_new_image_and_removes_the_old(harness: Harness) -> None:
    executor, events = await started(harness)
    old = executor.list_performers()[0]
    assert await run(executor) == b"v1"
    deployment = await executor.deploy_artifact(AVS, V2)
    assert deployment.deployment_id.startswith(f"deployment-{AVS.value}-")
    (view,) = executor.list_performers()
    assert (view.status, view.image, view.performer_id) == (
        PerformerStatus.IN_SERVICE,
        V2,
        deployment.performer_id,
    )
    assert await run(executor) == b"v2"
    await eventually(lambda: old.container_id not in harness.runtime.containers)
    promoted = of(DeploymentPromoted, events)[-1]
    assert promoted.previous_performer_id == old.performer_id  # type: ignore[union-attr]


async def test_a_task_running_during_the_swap_finishes_on_the_old_performer(
    harness: Harness,
) -> None:
    executor, _ = await started(harness)
    connector = harness.connector
    release = asyncio.Event()

    async def slow(task_id: bytes, payload: bytes) -> bytes:
        await release.wait()
        return b"v1-slow"

    connector.clients[0].handler = slow  # type: ignore[attr-defined]
    old = executor.list_performers()[0]
    running = asyncio.create_task(run(executor, 1))
    await asyncio.sleep(0.01)
    await executor.deploy_artifact(AVS, V2)
    assert await run(executor, 2) == b"v2"
    assert old.container_id in harness.runtime.containers  # still draining
    release.set()
    assert await running == b"v1-slow"
    await eventually(lambda: old.container_id not in harness.runtime.containers)


async def test_a_drain_is_bounded(harness: Harness) -> None:
    executor, _ = await started(harness, drain_timeout=0.1)

    async def hang(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(30)
        return b""

    harness.connector.clients[0].handler = hang  # type: ignore[attr-defined]
    old = executor.list_performers()[0]
    running = asyncio.create_task(run(executor))
    await asyncio.sleep(0.01)
    await executor.deploy_artifact(AVS, V2)
    await eventually(lambda: old.container_id not in harness.runtime.containers)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


@pytest.mark.parametrize(
    ("prepare", "error"),
    [
        ("missing", ImageNotFound),
        ("unhealthy", DeploymentTimeout),
        ("exits", ContainerStartFailed),
    ],
)
async def test_a_failed_deployment_leaves_the_old_performer_serving(
    harness: Harness, prepare: str, error: type[Exception]
) -> None:
    harness.runtime = type(harness.runtime)(
        available_images={V1.reference, V2.reference},
        exiting_images={V2.reference} if prepare == "exits" else (),
    )
    executor, events = await started(harness, deployment_timeout=0.3)
    if prepare == "unhealthy":
        harness.connector.unhealthy.add("v2")  # type: ignore[attr-defined]
    image = PerformerImage("registry.local/avs", tag="v9") if prepare == "missing" else V2
    before = executor.list_performers()
    with pytest.raises(error):
        await executor.deploy_artifact(AVS, image)
    assert executor.list_performers() == before
    assert await run(executor) == b"v1"
    assert len(harness.runtime.containers) == 1
    assert of(DeploymentFailed, events)[-1].error_type == error.__name__  # type: ignore[union-attr]


async def test_a_second_deployment_for_the_same_avs_is_refused_at_once(harness: Harness) -> None:
    executor, _ = await started(harness)
    harness.connector.unhealthy.add("v2")  # type: ignore[attr-defined]
    first = asyncio.create_task(executor.deploy_artifact(AVS, V2))
    await asyncio.sleep(0.05)
    with pytest.raises(DeploymentInProgress):
        await executor.deploy_artifact(AVS, V2)
    harness.connector.unhealthy.clear()  # type: ignore[attr-defined]
    for client in harness.connector.clients:
        client.healthy = True
    await first


async def test_deployments_of_different_avss_run_in_parallel(harness: Harness) -> None:
    harness.connector = VersionedConnector(harness.runtime)
    executor = harness.build(harness.settings(AVS, image=V1), harness.settings(OTHER_AVS, image=V1))
    await executor.start()
    await asyncio.gather(executor.deploy_artifact(AVS, V2), executor.deploy_artifact(OTHER_AVS, V2))
    assert {v.image for v in executor.list_performers()} == {V2}


async def test_a_deployment_for_an_unknown_avs_needs_the_operator_s_bn254_key(
    harness: Harness,
) -> None:
    harness.signer_curves = {SigningCurve.ECDSA}
    executor, _ = await started(harness)
    with pytest.raises(AvsNotFound, match=r"signs on bn254: it needs operator\.signingKeys\.bls"):
        await executor.deploy_artifact(OTHER_AVS, V2)
    assert [v.avs_address for v in executor.list_performers()] == [AVS]


async def test_a_deployment_for_an_unknown_avs_creates_its_slot(harness: Harness) -> None:
    harness.connector = VersionedConnector(harness.runtime)
    executor = harness.build(harness.settings(image=V1))
    await executor.start()
    await executor.deploy_artifact(OTHER_AVS, V2)
    task = make_task("0x01", OTHER_AVS.value, b"")
    assert (await executor.submit_task(task, timeout=5)).output == b"v2"


async def test_a_crashed_container_is_recreated_with_the_same_performer_id(
    harness: Harness,
) -> None:
    executor, events = await started(harness)
    before = executor.list_performers()[0]
    harness.runtime.crash(before.container_id)
    await eventually(lambda: bool(of(PerformerUnhealthy, events)))
    with pytest.raises(PerformerUnavailable):
        await run(executor)
    await eventually(lambda: bool(of(PerformerRecreated, events)))
    after = executor.list_performers()[0]
    assert after.performer_id == before.performer_id
    assert after.container_id != before.container_id
    assert after.resource_healthy
    assert after.application_healthy
    assert await run(executor) == b"v1"


async def test_an_engine_outage_outlasting_every_attempt_ends_in_recovery_not_failure(
    harness: Harness,
) -> None:
    executor, events = await started(harness, engine_retry_max_delay=0.02)
    before = executor.list_performers()[0]
    harness.runtime.crash(before.container_id)
    harness.runtime.engine_down = True
    await eventually(lambda: len(of(RecreationAttemptFailed, events)) >= 6, 10)  # > maxAttempts
    assert not any(type(e).__name__ == "PerformerFailed" for e in events)
    harness.runtime.engine_down = False
    await eventually(lambda: bool(of(PerformerRecreated, events)))
    after = executor.list_performers()[0]
    assert after.performer_id == before.performer_id
    assert list(harness.runtime.containers) == [after.container_id]
    assert before.container_id in [r.container_id for r in harness.runtime.removed_containers]
    assert await run(executor) == b"v1"


async def test_failing_health_checks_get_the_performer_recreated(harness: Harness) -> None:
    executor, events = await started(harness)
    harness.connector.clients[0].healthy = False
    await eventually(lambda: bool(of(PerformerRecreated, events)))
    assert await run(executor) == b"v1"


async def test_recreation_gives_up_after_the_limit_and_tasks_fail_fast(harness: Harness) -> None:
    executor, events = await started(harness)
    harness.connector.unhealthy.add("v1")  # type: ignore[attr-defined]
    harness.connector.clients[0].healthy = False
    await eventually(lambda: any(type(e).__name__ == "PerformerFailed" for e in events), 10)
    with pytest.raises(PerformerUnavailable):
        await run(executor)
    view = executor.list_performers()[0]
    assert not view.application_healthy


async def test_a_performer_failing_in_probation_is_rolled_back(harness: Harness) -> None:
    executor, events = await started(harness, probation_period=5)
    await executor.deploy_artifact(AVS, V2)
    bad = executor.list_performers()[0]
    harness.connector.clients[-1].healthy = False
    await eventually(lambda: bool(of(DeploymentRolledBack, events)), 5)
    (view,) = executor.list_performers()
    assert view.image == V1
    assert view.performer_id != bad.performer_id
    assert await run(executor) == b"v1"
    await eventually(lambda: bad.container_id not in harness.runtime.containers)


async def test_removing_a_staged_performer_fails_its_deployment(harness: Harness) -> None:
    executor, events = await started(harness)
    harness.connector.unhealthy.add("v2")  # type: ignore[attr-defined]
    deploying = asyncio.create_task(executor.deploy_artifact(AVS, V2))
    await eventually(lambda: len(of(PerformerStaged, events)) == 2)
    staged = of(PerformerStaged, events)[-1]
    await executor.remove_performer(staged.performer_id)  # type: ignore[union-attr]
    with pytest.raises(ContainerStartFailed):
        await deploying
    assert [v.image for v in executor.list_performers()] == [V1]
    removed = [e for e in of(PerformerRemoved, events) if e.performer_id == staged.performer_id]  # type: ignore[union-attr]
    assert len(removed) == 1


async def test_removing_the_in_service_performer_drains_it_and_leaves_none(
    harness: Harness,
) -> None:
    executor, _ = await started(harness)
    view = executor.list_performers()[0]
    await executor.remove_performer(view.performer_id)
    assert executor.list_performers() == []
    assert harness.runtime.containers == {}
    with pytest.raises(PerformerUnavailable):
        await run(executor)


async def test_removing_an_unknown_performer_is_not_found(harness: Harness) -> None:
    executor, _ = await started(harness)
    with pytest.raises(PerformerNotFound):
        await executor.remove_performer(PerformerId("performer-nope"))


async def test_configured_environment_variables_are_set_on_every_performer_container(
    harness: Harness,
) -> None:
    executor = harness.build(harness.settings(env=(("LOG_LEVEL", "debug"),)))
    await executor.start()
    [container] = harness.runtime.containers.values()
    assert container.spec.env == (("LOG_LEVEL", "debug"),)


async def test_deploy_artifact_adds_no_more_unlisted_avs_than_allowed(harness: Harness) -> None:
    executor = harness.build(harness.settings(), management=ManagementConfig(max_unlisted_avs=2))
    await executor.start()
    digest = PerformerImage("registry.example:5000/avs", digest="sha256:" + "ab" * 32)
    for n in (1, 2):
        await executor.deploy_artifact(AvsAddress.parse("0x" + f"{n:02x}" * 20), digest)
    with pytest.raises(TooManyAvs, match="maxUnlistedAvs"):
        await executor.deploy_artifact(AvsAddress.parse("0x" + "03" * 20), digest)
    await executor.deploy_artifact(AVS, digest)  # the configured AVS does not count
    assert len({view.avs_address for view in executor.list_performers()}) == 3


async def test_deploy_artifact_takes_images_only_from_allowed_registries(
    harness: Harness,
) -> None:
    allowed = ManagementConfig(allowed_registries=("127.0.0.1:5000", "ghcr.io/acme"))
    executor = harness.build(harness.settings(), management=allowed)
    await executor.start()
    digest = "sha256:" + "ab" * 32
    await executor.deploy_artifact(AVS, PerformerImage("127.0.0.1:5000/avs", digest=digest))
    await executor.deploy_artifact(AVS, PerformerImage("ghcr.io/acme/avs", digest=digest))
    for refused in ("ghcr.io/acmeevil/avs", "evil.example/avs", "127.0.0.1:50000/avs"):
        with pytest.raises(ManagementRefused, match="registry_url"):
            await executor.deploy_artifact(AVS, PerformerImage(refused, digest=digest))
