"""Blue-green deployments end to end: a real registry, real Docker, a real gRPC client."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import attrs
import grpc
import pytest

from executor_adapters.config import ExecutorConfig, load_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_adapters.signing import bn254
from executor_app.bootstrap import ExecutorApp, build_executor
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import REPO, containers_with_label, require_example_image, track_instance
from tests.vectors import load_vector

pytestmark = pytest.mark.docker

AVS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
AGGREGATOR = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
AGGREGATOR_SECRET = next(
    int(k["sk_hex"], 16)
    for k in load_vector("bn254_keys.json")["keys"]
    if k["name"] == "ponos-aggregator"
)


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
    apps: list[ExecutorApp] = []

    async def make(**deployment: float) -> tuple[ExecutorApp, ExecutorClient]:
        config = deployment_config(f"executor-e2e-deploy-{run_id}-{len(apps)}", **deployment)
        app = await build_executor(config, host="127.0.0.1", port=0)
        track_instance(app.instance_id, app.executor.executor_name)
        await app.start()
        apps.append(app)
        client = ExecutorClient(f"127.0.0.1:{app.port}")
        clients.append(client)
        return app, client

    clients: list[ExecutorClient] = []
    yield make
    for client in clients:
        await client.aclose()
    for app in apps:
        await app.stop(grace=5)


def task(n: int, task_id: str) -> pb.TaskSubmission:
    payload = n.to_bytes(32, "big")
    return pb.TaskSubmission(
        task_id=task_id,
        avs_address=AVS,
        payload=payload,
        aggregator_address=AGGREGATOR,
        signature=bn254.sign(AGGREGATOR_SECRET, payload),
    )


def deploy_request(image: Any) -> pb.DeployArtifactRequest:
    return pb.DeployArtifactRequest(
        avs_address=AVS, registry_url=image.repository, digest=image.digest
    )


def tag_of(output: bytes) -> str:
    return output[32:].decode()


async def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


async def test_v1_to_v2_under_load_loses_no_task_and_never_goes_back(
    app_factory: Any, registry: Any
) -> None:
    app, client = await app_factory()
    await client.deploy_artifact(deploy_request(registry.v1), timeout=60)
    stop = asyncio.Event()
    failures: list[str] = []
    swap: dict[str, float] = {}

    async def worker(index: int) -> list[tuple[float, float, str]]:
        seen: list[tuple[float, float, str]] = []
        n = 0
        while not stop.is_set():
            n += 1
            sent = time.monotonic()
            try:
                result = await client.submit_task(task(n, f"0x{index:04x}{n:060x}"), timeout=30)
            except grpc.aio.AioRpcError as exc:
                failures.append(f"{exc.code().name}: {exc.details()}")
                continue
            seen.append((sent, time.monotonic(), tag_of(result.output)))
        return seen

    workers = [asyncio.create_task(worker(i)) for i in range(20)]
    await asyncio.sleep(1.0)
    swap["start"] = time.monotonic()
    reply = await client.deploy_artifact(deploy_request(registry.v2), timeout=60)
    swap["end"] = time.monotonic()
    assert reply.success
    await asyncio.sleep(1.0)
    stop.set()
    histories = await asyncio.gather(*workers)
    assert failures == []
    for history in histories:
        tags = [tag for _, _, tag in history]
        assert tags == sorted(tags), "a client saw v1 after v2"
        assert all(tag == "v1" for _, done, tag in history if done < swap["start"])
        assert all(tag == "v2" for sent, _, tag in history if sent > swap["end"])
    assert sum(len(h) for h in histories) > 100
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
    assert tag_of((await client.submit_task(task(3, "0x01"), timeout=30)).output) == "v1"
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
    result = await client.submit_task(task(4, "0x02"), timeout=30)
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
    assert tag_of((await client.submit_task(task(5, "0x03"), timeout=30)).output) == "v1"
