"""Blue-green deployments on Kubernetes end to end: a real API server, a real kubelet pulling
from a real registry, the executor configured with `deploymentMode: kubernetes` and reached
over real gRPC; performers are reached through the API server's port-forward.

The state machine, health policy and task path are the Docker mode's; these tests pin down that
they behave the same on pods: no task lost across a promotion, a broken image refused with the
old pod serving on, a rollback in probation, a killed performer recreated, removal deleting
exactly what was made.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from executor_adapters.config import load_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_app.bootstrap import ExecutorApp
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import REPO, free_port
from tests.e2e.deployments import (
    InProcessExecutors,
    deploy_request,
    executor_process,
    swap_under_load,
    tag_of,
    wait_for,
)
from tests.e2e.signed_tasks import AVS, signed_task
from tests.kubernetes_support import LocalCluster
from tests.registry_support import LocalRegistry

POD_LABEL = "hourglass.eigenlayer.io/pod"
AVS_LABEL = "hourglass.eigenlayer.io/avs"
PEER_KEY = (
    "2d9070dd755001e31106e8fd58e12f391d09748e5e729512847a944f59966c3311647e4f059bc95ca7f82ecf"
    "104758658faa6c3fd18e520c84ba494659b0c6aa015b70ece5cf79963f6295b2db088213732f8bd5c2c4560"
    "39cd76991e8f24fc225de170c25e59665e9ed95313f43f0bfc93122445e048c9a91fbdea84c71d169"
)


@pytest.fixture
def namespace(kubernetes_cluster: LocalCluster, registry: LocalRegistry) -> Iterator[str]:
    """A namespace of the test's own, deleted (with all that is in it) afterwards."""
    kubernetes_cluster.trust_registry(registry.url)
    kubernetes_cluster.trust_registry(registry.unreachable_url)
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    kubernetes_cluster.request(
        "POST",
        "/api/v1/namespaces",
        {"metadata": {"name": name, "labels": {"com.eigenlayer.hourglass.test": "1"}}},
    )
    yield name
    kubernetes_cluster.request("DELETE", f"/api/v1/namespaces/{name}")


def config_text(
    cluster: LocalCluster,
    namespace: str,
    image: Any,
    *,
    env: str = "",
    top: str = "grpcPort: 9090\n",
    **deployment: str,
) -> str:
    policy = {"timeout": "20s", "probationPeriod": "0s", "drainTimeout": "10s", **deployment}
    keystore = REPO / "examples/keys/executor-bn254.json"
    return f"""
{top}performerNetworkName: performers
operator:
  address: "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
  signingKeys:
    bls:
      keystoreFile: {keystore}
      password: ""
kubernetes:
  namespace: {namespace}
  kubeConfigPath: {cluster.kubeconfig}
  connectionTimeout: 10s
  performerEndpoint: portForward
deployment:
{"".join(f"  {key}: {value}{chr(10)}" for key, value in policy.items())}  recreate:
    initialDelay: 0.5s
avsPerformers:
  - avsAddress: "{AVS}"
    deploymentMode: kubernetes
    image:
      repository: {image.repository}
      tag: {image.tag}
    workerCount: 4
    health:
      checkInterval: 0.5s
      timeout: 1s
      failureThreshold: 2
    container:
      readOnlyRootFilesystem: true
      tmpfsSize: 16m
      user: "65532:65532"
      memory: 512m
      cpus: 1
{env}simulation:
  simulatePeering:
    enabled: true
    aggregatorPeers:
      - networkAddress: "127.0.0.1:9000"
        publicKey: "{PEER_KEY}"
        operatorAddress: "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
        operatorSetId: 0
"""


@pytest.fixture
async def start_executor(
    kubernetes_cluster: LocalCluster, namespace: str, registry: LocalRegistry, tmp_path: Path
) -> AsyncIterator[Any]:
    executors = InProcessExecutors()

    async def start(*, env: str = "", **deployment: str) -> tuple[ExecutorApp, ExecutorClient]:
        path = tmp_path / f"executor-{len(executors)}.yaml"
        path.write_text(
            config_text(kubernetes_cluster, namespace, registry.v1, env=env, **deployment)
        )
        return await executors.start(load_config(path))

    yield start
    await executors.aclose()


def pods(cluster: LocalCluster, namespace: str) -> list[dict[str, Any]]:
    listed = cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods")
    assert isinstance(listed, dict)
    return [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]


def names(cluster: LocalCluster, namespace: str, kind: str, *, api: str = "/api/v1") -> list[str]:
    listed = cluster.request("GET", f"{api}/namespaces/{namespace}/{kind}")
    assert isinstance(listed, dict)
    return sorted(item["metadata"]["name"] for item in listed["items"])


async def test_the_configured_performer_runs_in_a_pod_with_its_service(
    kubernetes_cluster: LocalCluster, namespace: str, start_executor: Any
) -> None:
    _, client = await start_executor()

    (performer,) = (await client.list_performers()).performers
    (pod,) = pods(kubernetes_cluster, namespace)

    assert performer.container_id == pod["metadata"]["name"]
    assert pod["metadata"]["labels"][AVS_LABEL] == AVS.lower()
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert names(kubernetes_cluster, namespace, "services") == [
        f"performer-{pod['metadata']['name']}"
    ]
    policies = names(
        kubernetes_cluster, namespace, "networkpolicies", api="/apis/networking.k8s.io/v1"
    )
    assert policies == ["performers"]
    result = await client.submit_task(signed_task("0x01", 7), timeout=30)
    assert int.from_bytes(result.output[:32], "big") == 49


async def test_v1_to_v2_under_load_loses_no_task_and_never_goes_back(
    kubernetes_cluster: LocalCluster,
    namespace: str,
    start_executor: Any,
    registry: LocalRegistry,
) -> None:
    _, client = await start_executor()
    await client.deploy_artifact(deploy_request(registry.v1), timeout=90)

    swap = await swap_under_load(client, deploy_request(registry.v2), clients=16)

    swap.assert_nothing_lost_and_never_back("v1", "v2", at_least=100)
    (performer,) = (await client.list_performers()).performers
    assert (performer.status, performer.artifact_digest) == ("InService", registry.v2.digest)

    async def old_pod_gone() -> bool:
        return [p["metadata"]["name"] for p in pods(kubernetes_cluster, namespace)] == [
            performer.container_id
        ]

    await wait_for(old_pod_gone, 30, "the v1 pod to be drained and deleted")
    assert names(kubernetes_cluster, namespace, "services") == [
        f"performer-{performer.container_id}"
    ]


async def test_a_broken_image_is_refused_and_the_serving_pod_stays(
    kubernetes_cluster: LocalCluster,
    namespace: str,
    start_executor: Any,
    registry: LocalRegistry,
) -> None:
    _, client = await start_executor(timeout="12s")
    await client.deploy_artifact(deploy_request(registry.v1), timeout=90)
    (before,) = (await client.list_performers()).performers

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.deploy_artifact(deploy_request(registry.broken), timeout=90)

    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    (after,) = (await client.list_performers()).performers
    assert (after.performer_id, after.container_id) == (before.performer_id, before.container_id)

    async def only_the_serving_pod() -> bool:
        return [p["metadata"]["name"] for p in pods(kubernetes_cluster, namespace)] == [
            before.container_id
        ]

    await wait_for(only_the_serving_pod, 30, "the broken pod to be deleted")
    result = await client.submit_task(signed_task("0x02", 3), timeout=30)
    assert tag_of(result.output) == "v1"


async def test_an_unknown_digest_is_not_found_as_the_kubelet_reports_it(
    namespace: str, start_executor: Any, registry: LocalRegistry
) -> None:
    _, client = await start_executor()
    request = pb.DeployArtifactRequest(
        avs_address=AVS, registry_url=registry.v1.repository, digest="sha256:" + "0" * 64
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.deploy_artifact(request, timeout=90)

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_an_image_that_turns_unhealthy_before_it_is_ready_is_refused(
    start_executor: Any, registry: LocalRegistry
) -> None:
    _, client = await start_executor()
    await client.deploy_artifact(deploy_request(registry.v1), timeout=90)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.deploy_artifact(deploy_request(registry.turns_bad), timeout=90)

    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    (performer,) = (await client.list_performers()).performers
    assert performer.artifact_digest == registry.v1.digest


async def test_an_image_that_turns_unhealthy_in_probation_is_rolled_back(
    start_executor: Any, registry: LocalRegistry
) -> None:
    _, client = await start_executor(probationPeriod="40s")
    await client.deploy_artifact(deploy_request(registry.v1), timeout=90)
    # The image turns bad 4 s after it starts, before the kubelet's first readiness probe (at
    # 5 s), so the pod would never be Ready; later, it is promoted first and then turns bad.
    later = deploy_request(registry.turns_bad)
    later.env = [pb.PerformerEnv(name="UNHEALTHY_AFTER_S", value="15")]
    await client.deploy_artifact(later, timeout=90)
    (promoted,) = (await client.list_performers()).performers
    assert promoted.artifact_digest == registry.turns_bad.digest

    async def rolled_back() -> bool:
        performers = (await client.list_performers()).performers
        return [p.artifact_digest for p in performers] == [registry.v1.digest] and all(
            p.application_healthy for p in performers
        )

    await wait_for(rolled_back, 60, "the previous image to be back in service")
    result = await client.submit_task(signed_task("0x03", 5), timeout=30)
    assert tag_of(result.output) == "v1"


async def test_a_killed_performer_is_recreated_under_its_id(
    kubernetes_cluster: LocalCluster, namespace: str, start_executor: Any
) -> None:
    _, client = await start_executor()
    (before,) = (await client.list_performers()).performers
    (pod,) = pods(kubernetes_cluster, namespace)
    container_id = pod["status"]["containerStatuses"][0]["containerID"].removeprefix(
        "containerd://"
    )

    killed = await asyncio.to_thread(
        subprocess.run,
        [
            "ctr",
            "--address",
            kubernetes_cluster.containerd_address,
            "--namespace",
            "k8s.io",
            "tasks",
            "kill",
            "--signal",
            "SIGKILL",
            container_id,
        ],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 0, killed.stderr

    async def recreated() -> bool:
        (p,) = (await client.list_performers()).performers
        return p.container_id != before.container_id and p.application_healthy

    await wait_for(recreated, 60, "the performer to be recreated in a new pod")
    (after,) = (await client.list_performers()).performers
    assert after.performer_id == before.performer_id
    result = await client.submit_task(signed_task("0x04", 4), timeout=30)
    assert int.from_bytes(result.output[:32], "big") == 16


async def test_removing_the_performer_deletes_its_pod_and_service_and_nothing_else(
    kubernetes_cluster: LocalCluster, namespace: str, start_executor: Any
) -> None:
    kubernetes_cluster.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"metadata": {"name": "not-ours", "labels": {AVS_LABEL: AVS.lower()}}},
    )
    _, client = await start_executor()
    (performer,) = (await client.list_performers()).performers

    await client.remove_performer(performer.performer_id, timeout=60)

    async def gone() -> bool:
        return pods(kubernetes_cluster, namespace) == []

    await wait_for(gone, 30, "the pod to be deleted")
    assert names(kubernetes_cluster, namespace, "services") == []
    assert names(kubernetes_cluster, namespace, "configmaps") == ["kube-root-ca.crt", "not-ours"]


async def test_a_secret_reference_reaches_the_performer_without_passing_the_executor(
    kubernetes_cluster: LocalCluster, namespace: str, start_executor: Any
) -> None:
    kubernetes_cluster.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/secrets",
        {"metadata": {"name": "avs-secrets"}, "stringData": {"tag": "from-secret"}},
    )
    env = """    envs:
      - name: RESULT_TAG
        kubernetesEnv:
          valueFrom:
            secretKeyRef:
              name: avs-secrets
              key: tag
"""
    _, client = await start_executor(env=env)

    result = await client.submit_task(signed_task("0x05", 2), timeout=30)

    assert tag_of(result.output) == "from-secret"


class Run:
    """One `executor run` process, its log in a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self.marker = log.stat().st_size if log.exists() else 0
        self.proc = executor_process(config, log)

    async def serving(self) -> str:
        """Wait for `executor serving`; return what this run logged until then."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")[self.marker :]
            if '"executor serving"' in text:
                return text
            if self.proc.poll() is not None:
                pytest.fail(f"executor exited ({self.proc.returncode}) before serving:\n{text}")
            await asyncio.sleep(0.1)
        pytest.fail("executor did not serve within 120 s")

    def stop(self, sig: signal.Signals) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)


async def test_after_a_sigkill_the_next_run_adopts_its_pod_and_a_clean_stop_leaves_nothing(
    kubernetes_cluster: LocalCluster,
    namespace: str,
    registry: LocalRegistry,
    tmp_path: Path,
) -> None:
    port = free_port()
    top = (
        f"grpcPort: {port}\ninstanceName: k8s-crash\nshutdownGracePeriod: 5s\n"
        f"storage: {{type: sqlite, dir: {tmp_path / 'state'}}}\n"
    )
    config = tmp_path / "executor.yaml"
    config.write_text(config_text(kubernetes_cluster, namespace, registry.v1, top=top))
    log = tmp_path / "executor.log"

    first = Run(config, log)
    await first.serving()
    (before,) = pods(kubernetes_cluster, namespace)
    async with ExecutorClient(f"127.0.0.1:{port}") as client:
        await client.deploy_artifact(deploy_request(registry.v2), timeout=90)
        (deployed,) = (await client.list_performers()).performers
    first.stop(signal.SIGKILL)

    second = Run(config, log)
    text = await second.serving()
    (after,) = pods(kubernetes_cluster, namespace)
    assert after["metadata"]["name"] == deployed.container_id != before["metadata"]["name"]
    assert '"performer of an earlier run adopted"' in text
    async with ExecutorClient(f"127.0.0.1:{port}") as client:
        (listed,) = (await client.list_performers()).performers
        assert (listed.performer_id, listed.artifact_digest) == (
            deployed.performer_id,
            registry.v2.digest,
        )
        result = await client.submit_task(signed_task("0x06", 6), timeout=30)
        assert tag_of(result.output) == "v2"

    assert second.stop(signal.SIGINT) == 0
    assert pods(kubernetes_cluster, namespace) == []
    assert names(kubernetes_cluster, namespace, "services") == []
    assert (
        names(kubernetes_cluster, namespace, "networkpolicies", api="/apis/networking.k8s.io/v1")
        == []
    )
