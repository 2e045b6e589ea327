"""Blue-green deployments end to end: a real registry, real Docker, a real gRPC client."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import attrs
import grpc
import pytest

from executor_adapters.config import ExecutorConfig, load_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_app.bootstrap import ExecutorApp
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import REPO, containers_with_label, require_example_image
from tests.e2e.deployments import (
    InProcessExecutors,
    deploy_request,
    swap_under_load,
    tag_of,
    wait_for,
)
from tests.e2e.signed_tasks import AVS, signed_task

pytestmark = pytest.mark.docker


def deployment_config(network: str, **deployment: float) -> ExecutorConfig:
    config = load_config(REPO / "examples/config/executor.yaml")
    policy = attrs.evolve(
        config.deployment,
        **{"timeout": 20.0, "probation_period": 0.0, "drain_timeout": 10.0, **deployment},
    )
    policy = attrs.evolve(policy, recreate=attrs.evolve(policy.recreate, initial_delay=0.5))
    entry = config.avs_performers[0]
    entry = attrs.evolve(
        entry, health=attrs.evolve(entry.health, check_interval=0.5, failure_threshold=2)
    )
    return attrs.evolve(
        config, performer_network_name=network, deployment=policy, avs_performers=(entry,)
    )


@pytest.fixture
async def app_factory(run_id: str) -> AsyncIterator[Any]:
    require_example_image()
    executors = InProcessExecutors()

    async def make(**deployment: float) -> tuple[ExecutorApp, ExecutorClient]:
        network = f"executor-e2e-deploy-{run_id}-{len(executors)}"
        return await executors.start(deployment_config(network, **deployment))

    yield make
    await executors.aclose()


async def test_v1_to_v2_under_load_loses_no_task_and_never_goes_back(
    app_factory: Any, registry: Any
) -> None:
    app, client = await app_factory()
    await client.deploy_artifact(deploy_request(registry.v1), timeout=60)

    swap = await swap_under_load(client, deploy_request(registry.v2), clients=20)

    swap.assert_nothing_lost_and_never_back("v1", "v2", at_least=100)
    performers = (await client.list_performers()).performers
    assert [(p.status, p.artifact_digest) for p in performers] == [
        ("InService", registry.v2.digest)
    ]
    label = f"com.eigenlayer.hourglass.executor-instance={app.instance_id}"
    await wait_for(
        lambda: asyncio.to_thread(lambda: len(containers_with_label(label)) == 1),
        15,
        "the v1 container to be drained and removed",
    )


async def test_a_broken_image_fails_with_deadline_exceeded_and_v1_serves_on(
    app_factory: Any, registry: Any
) -> None:
    app, client = await app_factory(timeout=5.0)
    await client.deploy_artifact(deploy_request(registry.v1), timeout=60)
    before = (await client.list_performers()).performers
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.deploy_artifact(deploy_request(registry.broken), timeout=60)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "healthy" in (caught.value.details() or "")
    after = (await client.list_performers()).performers
    assert [(p.performer_id, p.container_id, p.artifact_digest) for p in after] == [
        (p.performer_id, p.container_id, p.artifact_digest) for p in before
    ]
    assert tag_of((await client.submit_task(signed_task("0x01", 3), timeout=30)).output) == "v1"
    label = f"com.eigenlayer.hourglass.executor-instance={app.instance_id}"
    assert containers_with_label(label) == [before[0].container_id]


@pytest.mark.parametrize(
    ("image", "code"),
    [("unknown_digest", grpc.StatusCode.NOT_FOUND), ("unreachable", grpc.StatusCode.UNAVAILABLE)],
)
async def test_a_pull_that_fails_says_why(
    app_factory: Any, registry: Any, image: str, code: grpc.StatusCode
) -> None:
    _, client = await app_factory()
    if image == "unknown_digest":
        request = pb.DeployArtifactRequest(
            avs_address=AVS, registry_url=registry.v1.repository, digest="sha256:" + "0" * 64
        )
    else:
        request = pb.DeployArtifactRequest(
            avs_address=AVS,
            registry_url=f"{registry.unreachable_url}/example-performer",
            digest=registry.v1.digest,
        )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.deploy_artifact(request, timeout=60)
    assert caught.value.code() == code


async def test_two_deployments_at_once_one_goes_ahead_the_other_already_exists(
    app_factory: Any, registry: Any
) -> None:
    _, client = await app_factory()
    results = await asyncio.gather(
        client.deploy_artifact(deploy_request(registry.v1), timeout=60),
        client.deploy_artifact(deploy_request(registry.v2), timeout=60),
        return_exceptions=True,
    )
    successes = [r for r in results if isinstance(r, pb.DeployArtifactResponse)]
    refusals = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(successes) == 1
    assert [r.code() for r in refusals] == [grpc.StatusCode.ALREADY_EXISTS]


async def test_a_killed_performer_is_reported_recreated_and_serves_again(
    app_factory: Any,
) -> None:
    _, client = await app_factory()
    (before,) = (await client.list_performers()).performers
    await asyncio.to_thread(
        subprocess.run, ["docker", "kill", before.container_id], check=True, capture_output=True
    )

    async def reported_unhealthy() -> bool:
        (p,) = (await client.list_performers()).performers
        return not p.resource_healthy

    await wait_for(reported_unhealthy, 10, "ListPerformers to show the performer unhealthy")

    async def recreated() -> bool:
        (p,) = (await client.list_performers()).performers
        return p.container_id != before.container_id and p.application_healthy

    await wait_for(recreated, 30, "the performer to be recreated")
    (after,) = (await client.list_performers()).performers
    assert after.performer_id == before.performer_id
    result = await client.submit_task(signed_task("0x02", 4), timeout=30)
    assert int.from_bytes(result.output[:32], "big") == 16


async def test_an_image_that_turns_unhealthy_in_probation_is_rolled_back(
    app_factory: Any, registry: Any
) -> None:
    _, client = await app_factory(probation_period=30.0)
    await client.deploy_artifact(deploy_request(registry.v1), timeout=60)
    await client.deploy_artifact(deploy_request(registry.turns_bad), timeout=60)

    async def rolled_back() -> bool:
        performers = (await client.list_performers()).performers
        return [p.artifact_digest for p in performers] == [registry.v1.digest] and all(
            p.application_healthy for p in performers
        )

    await wait_for(rolled_back, 40, "the previous image to be back in service")
    assert tag_of((await client.submit_task(signed_task("0x03", 5), timeout=30)).output) == "v1"
