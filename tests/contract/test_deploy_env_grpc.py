"""DeployArtifact's `env` and ListPerformers' digest over real gRPC connections, with the core on
in-memory adapters: what reaches the container, and the status code of every refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import betterproto2
import grpc
import pytest

from executor_adapters.config import ManagementConfig
from executor_adapters.grpc.executor_service import KubernetesDeploys
from executor_adapters.grpc.server import ExecutorServer
from executor_adapters.memory import InMemoryContainerRuntime
from executor_core.performers import EnvReference, EnvSource, PerformerImage
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.unit.core.conftest import AVS, Harness

G1 = "/eigenlayer.hourglass.v1.ExecutorService/"
G2 = "/eigenlayer.hourglass.v1.ExecutorManagementService/"
DIGEST = "sha256:" + "ab" * 32
REGISTRY_DIGEST = "sha256:" + "5e" * 32
TAGGED = PerformerImage("127.0.0.1:5000/avs", tag="v1")


class Served:
    """An executor on fakes behind a real server, and a channel to it."""

    def __init__(self, harness: Harness, server: ExecutorServer, port: int) -> None:
        self.harness = harness
        self.server = server
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")

    def call(
        self, path: str, request: betterproto2.Message, response: type[betterproto2.Message]
    ) -> Any:
        method: Callable[..., Any] = self.channel.unary_unary(
            path, request_serializer=bytes, response_deserializer=response.FromString
        )
        return method(request, timeout=10)

    def deploy(self, *env: pb.PerformerEnv, path: str = G2, **fields: Any) -> Any:
        request = pb.DeployArtifactRequest(
            avs_address=AVS.value, registry_url="repo", digest=DIGEST, env=list(env), **fields
        )
        return self.call(path + "DeployArtifact", request, pb.DeployArtifactResponse)

    async def performers(self, path: str) -> list[pb.Performer]:
        listed = await self.call(
            path + "ListPerformers", pb.ListPerformersRequest(), pb.ListPerformersResponse
        )
        return list(listed.performers)

    def container_env(self, container_id: str) -> tuple[tuple[str, str], ...]:
        return self.harness.runtime.containers[container_id].spec.env


async def serve(kubernetes: KubernetesDeploys | None) -> AsyncIterator[Served]:
    harness = Harness()
    harness.runtime = InMemoryContainerRuntime(repo_digests={TAGGED.reference: REGISTRY_DIGEST})
    harness.environ.update({"AVS_API_KEY": "k-123", "OPERATOR_SECRET": "never"})
    management = ManagementConfig(allowed_value_from_env=("AVS_API_KEY", "UNSET_VARIABLE"))
    executor = harness.build(
        harness.settings(image=TAGGED, env=(("LOG_LEVEL", "info"),)), management=management
    )
    await executor.start()
    server = ExecutorServer(
        executor, host="127.0.0.1", port=0, management_port=None, kubernetes=kubernetes
    )
    port = await server.start()
    result = Served(harness, server, port)
    try:
        yield result
    finally:
        await result.channel.close()
        await server.stop(0)
        await executor.shutdown(0)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async for result in serve(None):
        yield result


@pytest.fixture
async def on_kubernetes() -> AsyncIterator[Served]:
    """The same, as an executor in Kubernetes mode whose AVS has service account `avs-sa`."""
    async for result in serve(KubernetesDeploys({AVS.value: "avs-sa"})):
        yield result


async def status(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code(), caught.value.details() or ""


@pytest.mark.parametrize("path", [G1, G2])
async def test_deploy_artifact_env_reaches_the_container_merged_with_the_avs_variables(
    served: Served, path: str
) -> None:
    reply = await served.deploy(
        pb.PerformerEnv(name="LOG_LEVEL", value="debug"),
        pb.PerformerEnv(name="API_KEY", value_from_env="AVS_API_KEY"),
        pb.PerformerEnv(name="EMPTY"),
        path=path,
    )
    assert reply.success
    [performer] = await served.performers(path)
    assert served.container_env(performer.container_id) == (
        ("LOG_LEVEL", "debug"),
        ("API_KEY", "k-123"),
        ("EMPTY", ""),
    )


@pytest.mark.parametrize(
    ("env", "fields", "code", "start"),
    [
        (
            [pb.PerformerEnv(name="A"), pb.PerformerEnv(name="B"), pb.PerformerEnv(name="2X")],
            {},
            grpc.StatusCode.INVALID_ARGUMENT,
            "env[2].name: must be an environment variable name",
        ),
        (
            [pb.PerformerEnv(name="A"), pb.PerformerEnv(name="A", value="again")],
            {},
            grpc.StatusCode.INVALID_ARGUMENT,
            "env[1].name: A is given more than once",
        ),
        (
            [pb.PerformerEnv(name="A", value="x", value_from_env="AVS_API_KEY")],
            {},
            grpc.StatusCode.INVALID_ARGUMENT,
            "env[0]: give at most one of value, value_from_env",
        ),
        (
            [pb.PerformerEnv(name="A", value="a\0b")],
            {},
            grpc.StatusCode.INVALID_ARGUMENT,
            "env[0].value: must not contain NUL characters",
        ),
        (
            [pb.PerformerEnv(name="A", value="x" * (32 * 1024 + 1))],
            {},
            grpc.StatusCode.INVALID_ARGUMENT,
            "env[0].value: is 32769 bytes long",
        ),
        (
            [pb.PerformerEnv(name="A", kubernetes_env=pb.KubernetesEnv())],
            {},
            grpc.StatusCode.INVALID_ARGUMENT,
            "env[0].kubernetes_env: needs deploymentMode kubernetes; this executor runs "
            "performers on Docker",
        ),
        (
            [],
            {"kubernetes": pb.KubernetesConfig(service_account_name="avs")},
            grpc.StatusCode.INVALID_ARGUMENT,
            "kubernetes: needs deploymentMode kubernetes; this executor runs performers on Docker",
        ),
        (
            [
                pb.PerformerEnv(name="A"),
                pb.PerformerEnv(name="S", value_from_env="OPERATOR_SECRET"),
            ],
            {},
            grpc.StatusCode.PERMISSION_DENIED,
            "env[1].value_from_env: copying the executor's variable OPERATOR_SECRET is not "
            "allowed; an operator may list it in management.allowedValueFromEnv",
        ),
        (
            [pb.PerformerEnv(name="S", value_from_env="UNSET_VARIABLE")],
            {},
            grpc.StatusCode.FAILED_PRECONDITION,
            "env[0].value_from_env: UNSET_VARIABLE is allowed but not set",
        ),
    ],
)
async def test_a_refused_env_gets_its_status_code_and_changes_nothing(
    served: Served,
    env: list[pb.PerformerEnv],
    fields: dict[str, Any],
    code: grpc.StatusCode,
    start: str,
) -> None:
    before = await served.performers(G2)
    got, details = await status(served.deploy(*env, **fields))
    assert got is code
    assert details.startswith(start)
    assert "never" not in details
    assert await served.performers(G2) == before


async def test_list_performers_shows_the_registry_digest_of_an_image_deployed_by_tag(
    served: Served,
) -> None:
    [g1] = await served.performers(G1)
    [g2] = await served.performers(G2)
    assert (g1.artifact_registry, g1.artifact_digest, g1.artifact_tag) == (
        TAGGED.repository,
        REGISTRY_DIGEST,
        "v1",
    )
    assert (g2.artifact_digest, g2.artifact_tag) == (REGISTRY_DIGEST, "v1")


def secret_env(name: str, secret: str, key: str) -> pb.PerformerEnv:
    reference = pb.SecretKeyRef(name=secret, key=key)
    return pb.PerformerEnv(
        name=name, kubernetes_env=pb.KubernetesEnv(value_from=pb.EnvValueFrom(reference))
    )


async def test_in_kubernetes_mode_a_kubernetes_env_reaches_the_pod_as_a_reference(
    on_kubernetes: Served,
) -> None:
    reply = await on_kubernetes.deploy(
        pb.PerformerEnv(name="MODE", value="fast"),
        secret_env("LOG_LEVEL", "avs-secrets", "log-level"),
        kubernetes=pb.KubernetesConfig(service_account_name="avs-sa"),
    )
    assert reply.success
    [performer] = await on_kubernetes.performers(G2)
    spec = on_kubernetes.harness.runtime.containers[performer.container_id].spec
    assert spec.env == (("MODE", "fast"),)  # the configured LOG_LEVEL is replaced by the secret's
    assert spec.env_references == (
        EnvReference("LOG_LEVEL", EnvSource.SECRET, "avs-secrets", "log-level"),
    )


@pytest.mark.parametrize(
    ("env", "fields", "start"),
    [
        ([secret_env("S", "Avs_Secrets", "k")], {},
         "env[0].kubernetes_env.value_from.secret_key_ref.name: must be a Kubernetes object name"),
        ([pb.PerformerEnv(name="S", kubernetes_env=pb.KubernetesEnv())], {},
         "env[0].kubernetes_env.value_from: is required"),
        ([], {"kubernetes": pb.KubernetesConfig(service_account_name="other")},
         "kubernetes.service_account_name: a deployment cannot choose the pods' service account "
         "('other'); set avsPerformers[].kubernetes.serviceAccountName in the config (this AVS "
         "has 'avs-sa')"),
    ],
)  # fmt: skip
async def test_in_kubernetes_mode_a_refused_request_names_its_field(
    on_kubernetes: Served, env: list[pb.PerformerEnv], fields: dict[str, Any], start: str
) -> None:
    before = await on_kubernetes.performers(G2)
    got, details = await status(on_kubernetes.deploy(*env, **fields))
    assert got is grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(start)
    assert await on_kubernetes.performers(G2) == before
