"""What only the Kubernetes adapter does, seen on the real local cluster: the objects it makes
(labels and annotations, the Service, the image reference), what the kubelet's failures become,
and that the Role of examples/kubernetes/executor-rbac.yaml is all it needs.

The tests read the cluster as admin (`KubeNamespace`); the RBAC tests run the adapter with the
token of a ServiceAccount of their namespace instead of the admin kubeconfig.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ruamel.yaml import YAML

from executor_adapters.kubernetes import (
    ClusterSettings,
    KubernetesContainerRuntime,
    PerformerReach,
)
from executor_core.errors import ContainerRuntimeError, ContainerStartFailed
from executor_core.labels import PERFORMER_ID_LABEL
from executor_core.performers import (
    MIB,
    ContainerHardening,
    Endpoint,
    EnvReference,
    EnvSource,
    PerformerImage,
)
from executor_core.ports import ContainerEvent, ContainerEventKind
from tests.contract.container_runtime.kubernetes_backend import (
    OOM_MARKER,
    KubeNamespace,
    KubernetesTestImages,
    write_kubeconfig,
)
from tests.contract.container_runtime.support import (
    EXIT_MARKER,
    EventWatch,
    SpecFactory,
    Watch,
)
from tests.docker_support import REPO

pytestmark = pytest.mark.kubernetes
kubernetes_backend = pytest.mark.parametrize("backend", ["kubernetes"], indirect=True)

RBAC_FILE = REPO / "examples" / "kubernetes" / "executor-rbac.yaml"
EXECUTOR_ACCOUNT = "hourglass-executor"
POD_LABEL = "hourglass.eigenlayer.io/pod"
LONG_VALUE = "performer-" + "0123456789abcdef" * 6 + " / not a label value"
"""Longer than the 63 characters of a label value, and with characters a label refuses."""


async def health_status(endpoint: Endpoint) -> int:
    """grpc.health.v1 Check through the endpoint (the adapter's port-forward)."""
    async with grpc.aio.insecure_channel(
        f"{endpoint.host}:{endpoint.port}", options=[("grpc.enable_http_proxy", 0)]
    ) as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=20
        )
        return int(answer.status)


# --- what the adapter makes ------------------------------------------------------------------


@kubernetes_backend
async def test_long_label_values_are_digests_in_labels_and_whole_in_annotations(
    runtime: KubernetesContainerRuntime,
    kube: KubeNamespace,
    make_spec: SpecFactory,
    labels: dict[str, str],
    watch: Watch,
) -> None:
    spec = make_spec(extra_labels={PERFORMER_ID_LABEL: LONG_VALUE})
    started = await runtime.start_container(spec)

    metadata = (await kube.pod(started.container_id))["metadata"]
    as_label = metadata["labels"][PERFORMER_ID_LABEL]
    assert as_label.startswith("sha256-")
    assert len(as_label) <= 63
    assert metadata["annotations"][PERFORMER_ID_LABEL] == LONG_VALUE
    assert labels.items() <= metadata["labels"].items()  # values that fit stay as they are
    assert metadata["labels"][POD_LABEL] == spec.name

    # What the executor selects by and reads back is the value it gave.
    selector = {**labels, PERFORMER_ID_LABEL: LONG_VALUE}
    assert await runtime.list_containers(selector) == [started.container_id]
    assert await runtime.list_containers({**labels, PERFORMER_ID_LABEL: "other"}) == []
    (found,) = await runtime.find_containers(selector)
    assert spec.labels.items() <= found.labels.items()
    assert found.running
    assert found.endpoint is not None
    events = await watch(selector)
    await runtime.remove_container(started.container_id, grace_seconds=1)
    assert (await events.next()).container_id == started.container_id


@kubernetes_backend
async def test_the_service_is_made_with_the_pod_and_deleted_with_it(
    runtime: KubernetesContainerRuntime,
    kube: KubeNamespace,
    make_spec: SpecFactory,
    labels: dict[str, str],
) -> None:
    started = await runtime.start_container(make_spec())
    pod = await kube.pod(started.container_id)

    service = await kube.get(f"services/performer-{started.container_id}")

    assert service is not None
    assert service["spec"]["selector"] == {POD_LABEL: started.container_id}
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8080, 8080)]
    assert service["spec"]["type"] == "ClusterIP"
    (owner,) = service["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == (
        "Pod",
        started.container_id,
        pod["metadata"]["uid"],
    )
    assert labels.items() <= service["metadata"]["labels"].items()

    await runtime.remove_container(started.container_id, grace_seconds=1)

    assert await kube.get(f"pods/{started.container_id}") is None
    assert await kube.get(f"services/performer-{started.container_id}") is None


@kubernetes_backend
async def test_an_image_by_digest_is_used_as_given_if_not_present(
    runtime: KubernetesContainerRuntime,
    kube: KubeNamespace,
    make_spec: SpecFactory,
    pullable_image: PerformerImage,
) -> None:
    started = await runtime.start_container(make_spec(image=pullable_image))

    pod = await kube.pod(started.container_id)
    (container,) = pod["spec"]["containers"]
    assert container["image"] == pullable_image.reference
    assert "@sha256:" in container["image"]
    assert container["imagePullPolicy"] == "IfNotPresent"
    (status,) = pod["status"]["containerStatuses"]
    assert status["imageID"].endswith(f"@{pullable_image.digest}")
    assert started.image_digest == pullable_image.digest


@kubernetes_backend
async def test_a_missing_secret_key_fails_the_start_naming_it_and_leaves_nothing(
    runtime: KubernetesContainerRuntime,
    kube: KubeNamespace,
    make_spec: SpecFactory,
    labels: dict[str, str],
) -> None:
    await kube.create(
        "secrets",
        {
            "metadata": {"name": "avs-secrets", "labels": labels},
            "data": {"present": base64.b64encode(b"value").decode()},
        },
    )
    reference = EnvReference("API_KEY", EnvSource.SECRET, "avs-secrets", "absent-key")
    spec = attrs.evolve(make_spec(), env_references=(reference,))

    with pytest.raises(ContainerStartFailed, match="CreateContainerConfigError") as failure:
        await runtime.start_container(spec)

    assert "absent-key" in str(failure.value)
    assert "avs-secrets" in str(failure.value)
    assert await runtime.list_containers(labels) == []
    assert await kube.get(f"pods/{spec.name}") is None
    assert await kube.get(f"services/performer-{spec.name}") is None


@kubernetes_backend
async def test_a_failed_start_reports_the_last_log_lines(
    runtime: KubernetesContainerRuntime, make_spec: SpecFactory, exiting_image: PerformerImage
) -> None:
    with pytest.raises(ContainerStartFailed, match="exited with code 3") as failure:
        await runtime.start_container(make_spec(image=exiting_image))

    assert EXIT_MARKER in str(failure.value)


@kubernetes_backend
async def test_an_oom_kill_gives_oom_killed_then_died(
    runtime: KubernetesContainerRuntime,
    kubernetes_images: KubernetesTestImages,
    make_spec: SpecFactory,
    labels: dict[str, str],
    watch: Watch,
) -> None:
    events = await watch(labels)
    spec = make_spec(
        image=kubernetes_images.oom, hardening=ContainerHardening(memory_bytes=64 * MIB)
    )

    with pytest.raises(ContainerStartFailed, match="OOMKilled") as failure:
        await runtime.start_container(spec)

    assert OOM_MARKER in str(failure.value)
    assert [await events.next(), await events.next()] == [
        ContainerEvent(spec.name, ContainerEventKind.OOM_KILLED, 137),
        ContainerEvent(spec.name, ContainerEventKind.DIED, 137),
    ]


# --- RBAC: the example Role is enough, and a missing right is named -------------------------


async def _executor_account(
    kube: KubeNamespace, labels: dict[str, str], tmp_path: Path, *, without: str | None = None
) -> Path:
    """Apply examples/kubernetes/executor-rbac.yaml in the namespace (less the rule for the
    resource `without`), labelled, and return a kubeconfig with a token of its ServiceAccount."""
    paths = {
        "ServiceAccount": ("serviceaccounts", ""),
        "Role": ("roles", "rbac.authorization.k8s.io/v1"),
        "RoleBinding": ("rolebindings", "rbac.authorization.k8s.io/v1"),
    }
    for document in YAML(typ="safe").load_all(RBAC_FILE.read_text()):
        body: dict[str, Any] = copy.deepcopy(document)
        body["metadata"]["labels"] = labels
        if without is not None and body["kind"] == "Role":
            body["rules"] = [r for r in body["rules"] if without not in r["resources"]]
            assert len(body["rules"]) == len(document["rules"]) - 1
        relative, group = paths[body["kind"]]
        await kube.create(relative, body, group=group)
    answer = await kube.create(
        f"serviceaccounts/{EXECUTOR_ACCOUNT}/token",
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600},
        },
    )
    token = answer["status"]["token"]
    return write_kubeconfig(tmp_path / "executor.kubeconfig", kube.cluster, token)


@pytest.fixture
async def account_runtime(
    kube: KubeNamespace,
    labels: dict[str, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[KubernetesContainerRuntime]:
    """The adapter with the executor account's token (the Role less the rule for the resource
    `request.param`, if given), in the test's namespace."""
    without = getattr(request, "param", None)
    kubeconfig = await _executor_account(kube, labels, tmp_path, without=without)
    runtime = KubernetesContainerRuntime(
        ClusterSettings(
            namespace=kube.name,
            kubeconfig_path=str(kubeconfig),
            reach=PerformerReach.PORT_FORWARD,
        ),
        start_timeout=60,
        poll_interval=0.2,
    )
    yield runtime
    await runtime.aclose()


@kubernetes_backend
async def test_the_example_role_can_start_reach_list_watch_and_remove_a_performer(
    account_runtime: KubernetesContainerRuntime,
    make_spec: SpecFactory,
    labels: dict[str, str],
    network_name: str,
) -> None:
    runtime = account_runtime
    network = await runtime.ensure_network(network_name, labels, internal=True)
    events = EventWatch(runtime, labels)
    await asyncio.sleep(0)
    try:
        started = await runtime.start_container(make_spec(network=network_name))

        assert await health_status(started.endpoint) == health_pb2.HealthCheckResponse.SERVING
        assert await runtime.list_containers(labels) == [started.container_id]
        (found,) = await runtime.find_containers(labels)
        assert found.endpoint is not None
        assert await health_status(found.endpoint) == health_pb2.HealthCheckResponse.SERVING

        await runtime.remove_container(started.container_id, grace_seconds=1)

        died = await events.next()
        assert (died.container_id, died.kind) == (started.container_id, ContainerEventKind.DIED)
        assert await runtime.list_containers(labels) == []
        await runtime.remove_network(network.network_id)
    finally:
        await events.stop()


@kubernetes_backend
@pytest.mark.parametrize("account_runtime", ["pods/portforward"], indirect=True)
async def test_without_pods_portforward_the_start_fails_naming_the_rbac(
    account_runtime: KubernetesContainerRuntime,
    kube: KubeNamespace,
    make_spec: SpecFactory,
    labels: dict[str, str],
) -> None:
    spec = make_spec()

    with pytest.raises(ContainerRuntimeError, match="pods/portforward") as failure:
        await account_runtime.start_container(spec)

    assert "RBAC" in str(failure.value)
    assert "403" in str(failure.value)
    assert await kube.pods(labels) == []
    assert await kube.get(f"services/performer-{spec.name}") is None
