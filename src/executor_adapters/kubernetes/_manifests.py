"""The objects the Kubernetes runtime creates, as the API's JSON, built from the core's specs.

One performer is a Pod and a Service:

- the Pod runs one container, `performer`, on port 8080 (named `grpc`), with
  `imagePullPolicy: IfNotPresent` on the reference as deployed (a digest stays a digest; upstream
  pins `Never` and drops digests), `restartPolicy: Never` (the executor, not the kubelet, decides
  when a performer is recreated, as in Docker mode), upstream's gRPC probes, and the Docker mode's
  hardening as its security context;
- the Service `performer-<pod>` selects that pod alone, and is owned by it, so the garbage
  collector removes it with the pod should the executor die between the two deletions.

A performer network becomes a NetworkPolicy of the same name over the pods that name it: an
internal network allows no egress, as a Docker `Internal` network has no route out. Only a CNI
plugin that enforces NetworkPolicy (Calico, Cilium, …) makes that real.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from executor_adapters.kubernetes._labels import (
    AVS_LABEL,
    PERFORMER_LABEL,
    label_value,
    labels_and_annotations,
)
from executor_adapters.kubernetes.settings import PodSettings
from executor_core.labels import AVS_ADDRESS_LABEL, PERFORMER_ID_LABEL
from executor_core.performers import PERFORMER_PORT, ContainerHardening, ContainerSpec

__all__ = [
    "CONTAINER",
    "NETWORK_LABEL",
    "POD_LABEL",
    "network_policy_manifest",
    "pod_manifest",
    "policy_is_internal",
    "service_manifest",
    "service_name",
]

CONTAINER = "performer"
POD_LABEL = "hourglass.eigenlayer.io/pod"
"""Names the pod on itself, for its Service's selector: blue and green pods of one AVS carry
the same other labels."""
NETWORK_LABEL = "hourglass.eigenlayer.io/network"
LIVENESS = {"initialDelaySeconds": 30, "periodSeconds": 10, "timeoutSeconds": 5}
READINESS = {"initialDelaySeconds": 5, "periodSeconds": 15, "timeoutSeconds": 1}
"""Upstream's probes (reference §3.8), each with a failure threshold of 3."""
_TMP_VOLUME = "tmp"
DEFAULT_CPU_REQUEST_MILLICORES = 100
DEFAULT_MEMORY_REQUEST_BYTES = 128 * 1024 * 1024


def service_name(pod: str) -> str:
    return f"performer-{pod}"


def pod_manifest(spec: ContainerSpec, settings: PodSettings) -> dict[str, Any]:
    labels, annotations = labels_and_annotations(spec.labels)
    labels[POD_LABEL] = label_value(spec.name)
    avs = spec.labels.get(AVS_ADDRESS_LABEL, "")
    if avs:
        labels[AVS_LABEL] = label_value(avs)
    if PERFORMER_ID_LABEL in spec.labels:
        labels[PERFORMER_LABEL] = label_value(spec.labels[PERFORMER_ID_LABEL])
    if spec.network:
        labels[NETWORK_LABEL] = label_value(spec.network)
    hardening = spec.hardening
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.image.reference,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "grpc", "containerPort": PERFORMER_PORT, "protocol": "TCP"}],
        "env": _env(spec, avs),
        "resources": _resources(hardening, settings),
        "readinessProbe": _probe(READINESS),
        "livenessProbe": _probe(LIVENESS),
        "securityContext": _security_context(hardening),
    }
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "automountServiceAccountToken": bool(settings.service_account_name),
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
    }
    if settings.service_account_name:
        pod_spec["serviceAccountName"] = settings.service_account_name
    if settings.node_selector:
        pod_spec["nodeSelector"] = dict(settings.node_selector)
    if hardening.read_only_root_filesystem:
        container["volumeMounts"] = [{"name": _TMP_VOLUME, "mountPath": "/tmp"}]
        pod_spec["volumes"] = [
            {
                "name": _TMP_VOLUME,
                "emptyDir": {"medium": "Memory", "sizeLimit": str(hardening.tmpfs_size_bytes)},
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": spec.name, "labels": labels, "annotations": annotations},
        "spec": pod_spec,
    }


def _env(spec: ContainerSpec, avs: str) -> list[dict[str, Any]]:
    """Upstream's AVS_ADDRESS and GRPC_PORT first; the spec's own variables replace them, and a
    plain variable replaces a reference of the same name (a deployment's value wins)."""
    plain = dict([("AVS_ADDRESS", avs), ("GRPC_PORT", str(PERFORMER_PORT))] if avs else [])
    plain.update(spec.env)
    entries: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in plain.items()]
    for reference in spec.env_references:
        if reference.name in plain:
            continue
        source = {"name": reference.object_name, "key": reference.key}
        entries.append({"name": reference.name, "valueFrom": {reference.source.value: source}})
    return entries


def _probe(timing: Mapping[str, int]) -> dict[str, Any]:
    return {"grpc": {"port": PERFORMER_PORT}, **timing, "failureThreshold": 3}


def _resources(hardening: ContainerHardening, settings: PodSettings) -> dict[str, Any]:
    """The container block's cpus and memory as limits, and requests that reserve
    `DEFAULT_REQUESTS` (or less, if the limit is lower) unless the AVS names its own.

    Kubernetes would otherwise request the limits: 2 CPUs per pod by default, so a blue-green
    deployment would need room for two such pods on a node, and stay Pending without."""
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if hardening.cpus:
        millicores = math.ceil(hardening.cpus * 1000)
        limits["cpu"] = f"{millicores}m"
        requests["cpu"] = f"{min(millicores, DEFAULT_CPU_REQUEST_MILLICORES)}m"
    if hardening.memory_bytes:
        limits["memory"] = str(hardening.memory_bytes)
        requests["memory"] = str(min(hardening.memory_bytes, DEFAULT_MEMORY_REQUEST_BYTES))
    limits.update(settings.limits)
    requests.update(settings.requests)
    resources: dict[str, Any] = {}
    if limits:
        resources["limits"] = limits
    if requests:
        resources["requests"] = requests
    return resources


def _security_context(hardening: ContainerHardening) -> dict[str, Any]:
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": not hardening.no_new_privileges,
        "privileged": False,
        "capabilities": {"drop": ["ALL"], "add": list(hardening.cap_add)},
        "readOnlyRootFilesystem": hardening.read_only_root_filesystem,
    }
    if hardening.user:
        user, _, group = hardening.user.partition(":")
        if not user.isdigit() or (group and not group.isdigit()):
            raise ValueError(
                f"container.user {hardening.user!r}: Kubernetes takes a numeric uid[:gid] only"
            )
        context["runAsUser"] = int(user)
        if group:
            context["runAsGroup"] = int(group)
        context["runAsNonRoot"] = int(user) != 0
    return context


def service_manifest(pod: Mapping[str, Any]) -> dict[str, Any]:
    metadata = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": service_name(metadata["name"]),
            "labels": dict(metadata.get("labels") or {}),
            "annotations": dict(metadata.get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": metadata["name"],
                    "uid": metadata["uid"],
                }
            ],
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {POD_LABEL: metadata["labels"][POD_LABEL]},
            "ports": [
                {
                    "name": "grpc",
                    "port": PERFORMER_PORT,
                    "targetPort": PERFORMER_PORT,
                    "protocol": "TCP",
                }
            ],
        },
    }


def network_policy_manifest(
    name: str, labels: Mapping[str, str], *, internal: bool
) -> dict[str, Any]:
    as_labels, annotations = labels_and_annotations(labels)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": as_labels, "annotations": annotations},
        "spec": {
            "podSelector": {"matchLabels": {NETWORK_LABEL: label_value(name)}},
            "policyTypes": ["Egress"],
            "egress": [] if internal else [{}],
        },
    }


def policy_is_internal(policy: Mapping[str, Any]) -> bool:
    return not (policy.get("spec") or {}).get("egress")
