"""The `kubernetes` backend of the contract: the local cluster of tests/kubernetes_support.py seen
from the tests, beside the adapter under test.

Each test gets a namespace of its own (labelled TEST_LABEL and RUN_LABEL, deleted after the
test with everything in it) and a `KubernetesContainerRuntime` in it that reaches pods by
port-forward through the API server. The tests look at what the adapter made with admin calls
(`LocalCluster.request`) and act behind its back on the node's containerd with `ctr`: killing a
container's process, removing an image so that the next start pulls it. Nothing here connects
to a pod or Service address.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
import urllib.error
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from executor_core.performers import MIB, ContainerHardening, PerformerImage
from tests import kubernetes_support
from tests.contract.container_runtime.support import (
    CASE_LABEL,
    RUN_ID,
    RUN_LABEL,
    TEST_LABEL,
    DockerTestImages,
    StandInRegistry,
    build_context,
)
from tests.docker_support import EXAMPLE_IMAGE
from tests.kubernetes_support import K8S_NAMESPACE, LocalCluster

NETWORK_LABEL = "hourglass.eigenlayer.io/network"
"""Where the adapter records a pod's performer network (executor_adapters.kubernetes)."""
OOM_MARKER = "performer-test: allocating past the limit"
NODE_LEVEL_FIELDS = ("pids_limit", "log_max_size_bytes", "log_max_files")
"""Hardening a pod cannot carry: the kubelet's `podPidsLimit`, `containerLogMaxSize` and
`containerLogMaxFiles` apply to every pod of the node (docs/operations.md, "Confinement")."""
_POLL = 0.1
_WAIT = 30.0


@attrs.frozen
class KubernetesTestImages:
    serving: PerformerImage
    """The example performer (it answers grpc.health.v1, which the pod's readiness probe asks),
    imported into the node; by tag, never pulled."""
    exiting: PerformerImage
    """Docker's exiting test image, imported into the node under its full name."""
    missing: PerformerImage
    """In the stand-in registry, which has no images."""
    oom: PerformerImage
    """Allocates 512 MiB at once, imported into the node."""


def prepare_images(
    cluster: LocalCluster, docker_images: DockerTestImages, stand_in: StandInRegistry
) -> KubernetesTestImages:
    """Build what Docker lacks, import it into the node, and let the node ask the stand-in."""
    oom = PerformerImage(docker_images.exiting.repository.replace("/exits", "/oom"), tag=RUN_ID)
    _docker_build(
        oom.reference,
        ["sh", "-c", f"echo '{OOM_MARKER}' >&2; exec python3 -c 'bytearray(512 * 1024 * 1024)'"],
    )
    repository, _, tag = EXAMPLE_IMAGE.partition(":")
    images = KubernetesTestImages(
        serving=PerformerImage(repository, tag=tag),
        exiting=docker_images.exiting,
        missing=docker_images.missing,
        oom=oom,
    )
    for image in (images.serving, images.exiting, images.oom):
        cluster.import_image(image.reference)
    cluster.trust_registry(stand_in.host)
    return images


def _docker_build(tag: str, cmd: list[str]) -> None:
    labels = [f"--label={TEST_LABEL}=1", f"--label={RUN_LABEL}={RUN_ID}"]
    built = subprocess.run(
        ["docker", "build", "--pull=false", "--quiet", "-t", tag, *labels, "-"],
        input=build_context(cmd).getvalue(),
        capture_output=True,
        check=False,
    )
    if built.returncode != 0:
        raise RuntimeError(f"docker build {tag} failed: {built.stderr.decode(errors='replace')}")


def remove_from_node(cluster: LocalCluster, references: Iterable[str]) -> None:
    """Make the node forget images (every name given: tag, digest, image id), so that the
    kubelet's next `IfNotPresent` start pulls."""
    present = set(cluster.images())
    for reference in references:
        if reference not in present:
            continue
        removed = subprocess.run(
            _ctr(cluster, "images", "rm", reference), capture_output=True, text=True, check=False
        )
        if removed.returncode != 0 and "not found" not in removed.stderr:
            raise RuntimeError(f"ctr images rm {reference}: {removed.stderr.strip()}")


def _ctr(cluster: LocalCluster, *args: str) -> list[str]:
    return ["ctr", "--address", cluster.containerd_address, "--namespace", K8S_NAMESPACE, *args]


@attrs.frozen
class KubeNamespace:
    """One test's namespace, looked at and acted on as admin, not through the adapter."""

    cluster: LocalCluster
    name: str

    @classmethod
    def make(cls, cluster: LocalCluster, case_id: str) -> KubeNamespace:
        """A labelled namespace, once its `default` ServiceAccount exists (pods need it)."""
        namespace = cls(cluster, f"hg-contract-{case_id}")
        cluster.request(
            "POST",
            "/api/v1/namespaces",
            {
                "metadata": {
                    "name": namespace.name,
                    "labels": {TEST_LABEL: "1", RUN_LABEL: RUN_ID, CASE_LABEL: case_id},
                }
            },
        )
        deadline = time.monotonic() + _WAIT
        while namespace.get_sync("serviceaccounts/default") is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"namespace {namespace.name} got no default ServiceAccount")
            time.sleep(_POLL)
        return namespace

    def delete(self) -> None:
        """Delete the namespace with everything in it (it is this test's): pods at once first,
        so that the node is free for the next test without waiting for their grace."""
        path = f"/api/v1/namespaces/{self.name}"
        ours = urllib.parse.quote(f"{TEST_LABEL}=1")
        try:
            self.cluster.request(
                "DELETE", f"{path}/pods?labelSelector={ours}", {"gracePeriodSeconds": 0}
            )
            self.cluster.request("DELETE", path, {"propagationPolicy": "Background"})
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise

    def path(self, relative: str, *, group: str = "") -> str:
        base = f"/apis/{group}" if group else "/api/v1"
        return f"{base}/namespaces/{self.name}/{relative}"

    def get_sync(self, relative: str, *, group: str = "") -> dict[str, Any] | None:
        """The object as JSON; None when it is not there."""
        try:
            found = self.cluster.request("GET", self.path(relative, group=group))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        assert isinstance(found, dict)
        return found

    async def get(self, relative: str, *, group: str = "") -> dict[str, Any] | None:
        return await asyncio.to_thread(self.get_sync, relative, group=group)

    async def create(self, relative: str, body: Mapping[str, Any], *, group: str = "") -> Any:
        return await asyncio.to_thread(
            self.cluster.request, "POST", self.path(relative, group=group), dict(body)
        )

    async def pod(self, name: str) -> dict[str, Any]:
        found = await self.get(f"pods/{name}")
        assert found is not None, f"pod {name} is not there"
        return found

    async def pods(self, labels: Mapping[str, str]) -> list[str]:
        selector = urllib.parse.quote(",".join(f"{k}={v}" for k, v in labels.items()))
        found = await asyncio.to_thread(
            self.cluster.request, "GET", self.path(f"pods?labelSelector={selector}")
        )
        assert isinstance(found, dict)
        return [pod["metadata"]["name"] for pod in found["items"]]

    async def crash(self, pod_name: str) -> None:
        """SIGKILL the pod's performer process through containerd, behind the kubelet's back,
        and wait until the pod shows it terminated (as `docker kill` and `wait` do)."""
        status = (await self.pod(pod_name))["status"]["containerStatuses"][0]
        container_id = status["containerID"].removeprefix("containerd://")
        killer = await asyncio.create_subprocess_exec(
            *_ctr(self.cluster, "tasks", "kill", "--signal", "SIGKILL", container_id),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await killer.communicate()
        assert killer.returncode == 0, output.decode(errors="replace")
        deadline = time.monotonic() + _WAIT
        while "terminated" not in (await self.pod(pod_name))["status"]["containerStatuses"][0].get(
            "state", {}
        ):
            assert time.monotonic() < deadline, f"pod {pod_name} never showed its container dead"
            await asyncio.sleep(_POLL)


def write_kubeconfig(path: Path, cluster: LocalCluster, token: str) -> Path:
    """A kubeconfig for the cluster's API server with a bearer token (a ServiceAccount's)."""
    return kubernetes_support.write_kubeconfig(
        path, cluster.api_url, cluster.ca_file, "account", token
    )


# --- reading a pod's confinement back ------------------------------------------------------

_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?")
_FACTORS = {
    None: 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 1024,
    "Mi": MIB,
    "Gi": 1024 * MIB,
    "Ti": 1024**4,
}


def quantity(text: str) -> float:
    """A Kubernetes quantity as a number (the API server writes `268435456` back as `256Mi`)."""
    match = _QUANTITY.fullmatch(text)
    assert match is not None, text
    return float(match[1]) * _FACTORS[match[2]]


def hardening_from_pod(pod: Mapping[str, Any]) -> ContainerHardening:
    """Read a pod's confinement back from its spec, checking what every performer pod has.

    The node-level fields (NODE_LEVEL_FIELDS) are not in a pod spec: they come back as the
    defaults, and the tests replace them by what they asked for (see `comparable`).
    """
    spec = pod["spec"]
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["capabilities"]["drop"] == ["ALL"]
    assert context["privileged"] is False
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    limits = (container.get("resources") or {}).get("limits") or {}
    read_only = bool(context.get("readOnlyRootFilesystem"))
    tmpfs_size = ContainerHardening().tmpfs_size_bytes
    if read_only:
        volumes = {v["name"]: v for v in spec["volumes"]}
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        empty_dir = volumes[mount["name"]]["emptyDir"]
        assert empty_dir["medium"] == "Memory"
        tmpfs_size = int(quantity(empty_dir["sizeLimit"]))
    else:
        assert not container.get("volumeMounts")
    user = ""
    if "runAsUser" in context:
        user = str(context["runAsUser"])
        if "runAsGroup" in context:
            user += f":{context['runAsGroup']}"
        assert context["runAsNonRoot"] is (context["runAsUser"] != 0)
    return ContainerHardening(
        no_new_privileges=context["allowPrivilegeEscalation"] is False,
        cap_add=tuple(context["capabilities"].get("add") or ()),
        memory_bytes=int(quantity(limits["memory"])) if "memory" in limits else 0,
        cpus=quantity(limits["cpu"]) if "cpu" in limits else 0,
        read_only_root_filesystem=read_only,
        tmpfs_size_bytes=tmpfs_size,
        user=user,
    )


def policy_is_internal(policy: Mapping[str, Any]) -> bool:
    """An internal network is a NetworkPolicy that governs egress and allows none."""
    spec = policy["spec"]
    return "Egress" in spec.get("policyTypes", []) and not spec.get("egress")
