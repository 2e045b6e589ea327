"""DeployArtifact's `env` and ListPerformers' digest end to end: a real registry, real Docker.

The example performer appends its RESULT_TAG variable to every result, so a task's output says
which environment the container that ran it has; `docker inspect` confirms it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs
import grpc
import pytest

from executor_adapters.config import ExecutorConfig, load_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_adapters.signing import bn254
from executor_app.bootstrap import ExecutorApp
from executor_core.performers import PerformerImage
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import REPO, require_example_image
from tests.e2e.deployments import InProcessExecutors, deploy_request, wait_for
from tests.registry_support import LocalRegistry
from tests.vectors import load_vector

pytestmark = pytest.mark.docker

AVS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
AGGREGATOR = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
AGGREGATOR_SECRET = next(
    int(k["sk_hex"], 16)
    for k in load_vector("bn254_keys.json")["keys"]
    if k["name"] == "ponos-aggregator"
)
G2_LIST = "/eigenlayer.hourglass.v1.ExecutorManagementService/ListPerformers"
SECRET = "e2e-secret-value"

Factory = Callable[..., Awaitable[tuple[ExecutorApp, ExecutorClient]]]


def config_for(
    network: str, image: PerformerImage | None, probation_period: float
) -> ExecutorConfig:
    config = load_config(REPO / "examples/config/executor.yaml")
    policy = attrs.evolve(
        config.deployment, timeout=20.0, probation_period=probation_period, drain_timeout=10.0
    )
    policy = attrs.evolve(policy, recreate=attrs.evolve(policy.recreate, initial_delay=0.5))
    entry = config.avs_performers[0]
    entry = attrs.evolve(
        entry,
        image=image or entry.image,
        health=attrs.evolve(entry.health, check_interval=0.5, failure_threshold=2),
    )
    management = attrs.evolve(config.management, allowed_value_from_env=("E2E_SECRET",))
    return attrs.evolve(
        config,
        performer_network_name=network,
        deployment=policy,
        avs_performers=(entry,),
        management=management,
    )


@pytest.fixture
async def app_factory(run_id: str) -> AsyncIterator[Factory]:
    require_example_image()
    executors = InProcessExecutors()

    async def make(
        image: PerformerImage | None = None, probation_period: float = 0.0
    ) -> tuple[ExecutorApp, ExecutorClient]:
        network = f"executor-e2e-env-{run_id}-{len(executors)}"
        config = config_for(network, image, probation_period)
        return await executors.start(config, environ={"E2E_SECRET": SECRET, "OTHER": "no"})

    yield make
    await executors.aclose()


def task(n: int, task_id: str) -> pb.TaskSubmission:
    payload = n.to_bytes(32, "big")
    return pb.TaskSubmission(
        task_id=task_id,
        avs_address=AVS,
        payload=payload,
        aggregator_address=AGGREGATOR,
        signature=bn254.sign(AGGREGATOR_SECRET, payload),
    )


async def result_tag(client: ExecutorClient, n: int) -> str:
    result = await client.submit_task(task(n, f"0x{n:04x}"), timeout=30)
    return result.output[32:].decode()


def container_env(container_id: str) -> dict[str, str]:
    """The container's Config.Env, as the engine reports it."""
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{json .Config.Env}}", container_id],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(entry.partition("=")[::2] for entry in json.loads(out))


async def test_env_reaches_the_container_and_survives_docker_kill(
    app_factory: Factory, registry: LocalRegistry
) -> None:
    _, client = await app_factory()
    await client.deploy_artifact(
        deploy_request(
            registry.v1,
            pb.PerformerEnv(name="RESULT_TAG", value="from-request"),
            pb.PerformerEnv(name="COPIED", value_from_env="E2E_SECRET"),
        ),
        timeout=60,
    )
    (before,) = (await client.list_performers()).performers
    env = await asyncio.to_thread(container_env, before.container_id)
    assert (env["RESULT_TAG"], env["COPIED"]) == ("from-request", SECRET)
    assert await result_tag(client, 1) == "from-request"

    await asyncio.to_thread(
        subprocess.run, ["docker", "kill", before.container_id], check=True, capture_output=True
    )

    async def recreated() -> bool:
        (p,) = (await client.list_performers()).performers
        return p.container_id != before.container_id and p.application_healthy

    await wait_for(recreated, 30, "the performer to be recreated")
    (after,) = (await client.list_performers()).performers
    assert after.performer_id == before.performer_id
    env = await asyncio.to_thread(container_env, after.container_id)
    assert (env["RESULT_TAG"], env["COPIED"]) == ("from-request", SECRET)
    assert await result_tag(client, 2) == "from-request"


async def test_a_rollback_in_probation_brings_back_the_previous_performers_env(
    app_factory: Factory, registry: LocalRegistry
) -> None:
    _, client = await app_factory(probation_period=30.0)
    old = pb.PerformerEnv(name="RESULT_TAG", value="old-env")
    await client.deploy_artifact(deploy_request(registry.v1, old), timeout=60)
    new = pb.PerformerEnv(name="RESULT_TAG", value="new-env")
    await client.deploy_artifact(deploy_request(registry.turns_bad, new), timeout=60)
    assert await result_tag(client, 3) == "new-env"

    async def rolled_back() -> bool:
        performers = (await client.list_performers()).performers
        return [p.artifact_digest for p in performers] == [registry.v1.digest] and all(
            p.application_healthy for p in performers
        )

    await wait_for(rolled_back, 40, "the previous image to be back in service")
    (back,) = (await client.list_performers()).performers
    env = await asyncio.to_thread(container_env, back.container_id)
    assert env["RESULT_TAG"] == "old-env"
    assert await result_tag(client, 4) == "old-env"


async def test_an_env_copy_that_is_not_allowed_is_permission_denied(
    app_factory: Factory, registry: LocalRegistry
) -> None:
    _, client = await app_factory()
    request = deploy_request(registry.v1, pb.PerformerEnv(name="X", value_from_env="OTHER"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.deploy_artifact(request, timeout=60)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "management.allowedValueFromEnv" in (caught.value.details() or "")


def _remove_reference(reference: str) -> None:
    subprocess.run(["docker", "image", "rm", reference], capture_output=True, check=False)


async def test_list_performers_shows_the_real_digest_of_an_image_pulled_by_tag(
    app_factory: Factory, registry: LocalRegistry
) -> None:
    pushed = registry.v1
    image = PerformerImage(pushed.repository, tag=pushed.tag)
    await asyncio.to_thread(_remove_reference, image.reference)
    try:
        app, client = await app_factory(image)
        g1 = (await client.list_performers()).performers
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            call = channel.unary_unary(
                G2_LIST,
                request_serializer=bytes,
                response_deserializer=pb.ListPerformersResponse.FromString,
            )
            g2 = (await call(pb.ListPerformersRequest(), timeout=10)).performers
    finally:
        await asyncio.to_thread(_remove_reference, image.reference)
    assert [(p.artifact_registry, p.artifact_digest, p.artifact_tag) for p in g1] == [
        (pushed.repository, pushed.digest, "v1")
    ]
    assert [(p.artifact_digest, p.artifact_tag) for p in g2] == [(pushed.digest, "v1")]


async def test_list_performers_of_a_locally_built_image_shows_its_tag_in_g1_only(
    app_factory: Factory,
) -> None:
    app, client = await app_factory()
    g1 = (await client.list_performers()).performers
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        call = channel.unary_unary(
            G2_LIST,
            request_serializer=bytes,
            response_deserializer=pb.ListPerformersResponse.FromString,
        )
        g2 = (await call(pb.ListPerformersRequest(), timeout=10)).performers
    assert [(p.artifact_digest, p.artifact_tag) for p in g1] == [("latest", "latest")]
    assert [(p.artifact_digest, p.artifact_tag) for p in g2] == [("", "latest")]
