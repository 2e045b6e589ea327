"""What a performer's Pod, Service and network policy say, built from the core's spec."""

from __future__ import annotations

from typing import Any

import pytest

from executor_adapters.kubernetes._labels import label_value
from executor_adapters.kubernetes._manifests import (
    POD_LABEL,
    network_policy_manifest,
    pod_manifest,
    policy_is_internal,
    service_manifest,
)
from executor_adapters.kubernetes.settings import PodSettings
from executor_core.labels import AVS_ADDRESS_LABEL, PERFORMER_ID_LABEL
from executor_core.performers import (
    ContainerHardening,
    ContainerSpec,
    EnvReference,
    EnvSource,
    PerformerImage,
)

AVS = "0x" + "ab" * 20
PERFORMER = f"performer-{AVS}-" + "c" * 32
DIGEST = "sha256:" + "d" * 64


def spec(**overrides: Any) -> ContainerSpec:
    values: dict[str, Any] = {
        "image": PerformerImage("127.0.0.1:5000/performer", digest=DIGEST),
        "name": "avs-performer-abcdef-0123456789ab",
        "labels": {AVS_ADDRESS_LABEL: AVS, PERFORMER_ID_LABEL: PERFORMER},
    }
    values.update(overrides)
    return ContainerSpec(**values)


def container(pod: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod["spec"]["containers"]
    result: dict[str, Any] = only
    return result


def test_the_image_is_run_by_digest_and_pulled_if_not_present() -> None:
    made = container(pod_manifest(spec(), PodSettings()))

    assert made["image"] == f"127.0.0.1:5000/performer@{DIGEST}"
    assert made["imagePullPolicy"] == "IfNotPresent"


def test_the_pod_carries_upstreams_labels_ours_and_its_own_name() -> None:
    pod = pod_manifest(spec(), PodSettings())
    labels = pod["metadata"]["labels"]

    assert labels["hourglass.eigenlayer.io/avs"] == AVS
    assert labels["hourglass.eigenlayer.io/performer"] == label_value(PERFORMER)
    assert labels[POD_LABEL] == "avs-performer-abcdef-0123456789ab"
    assert pod["metadata"]["annotations"][PERFORMER_ID_LABEL] == PERFORMER


def test_port_8080_is_probed_over_grpc_with_upstreams_timings() -> None:
    made = container(pod_manifest(spec(), PodSettings()))

    assert made["ports"] == [{"name": "grpc", "containerPort": 8080, "protocol": "TCP"}]
    assert made["livenessProbe"] == {
        "grpc": {"port": 8080},
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    assert made["readinessProbe"]["grpc"] == {"port": 8080}
    assert made["readinessProbe"]["failureThreshold"] == 3


def test_the_kubelet_never_restarts_a_performer_the_executor_does() -> None:
    assert pod_manifest(spec(), PodSettings())["spec"]["restartPolicy"] == "Never"


def test_env_has_upstreams_variables_then_the_specs_which_replace_them() -> None:
    made = container(pod_manifest(spec(env=(("GRPC_PORT", "9"), ("A", "1"))), PodSettings()))

    assert made["env"] == [
        {"name": "AVS_ADDRESS", "value": AVS},
        {"name": "GRPC_PORT", "value": "9"},
        {"name": "A", "value": "1"},
    ]


def test_references_read_secrets_and_config_maps_unless_a_value_replaces_them() -> None:
    references = (
        EnvReference("TOKEN", EnvSource.SECRET, "avs-secrets", "token"),
        EnvReference("MODE", EnvSource.CONFIG_MAP, "avs-config", "mode"),
        EnvReference("A", EnvSource.SECRET, "avs-secrets", "a"),
    )
    made = container(
        pod_manifest(spec(env=(("A", "1"),), env_references=references), PodSettings())
    )

    assert made["env"][3:] == [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "avs-secrets", "key": "token"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "avs-config", "key": "mode"}}},
    ]


def test_hardening_becomes_the_security_context_and_limits() -> None:
    hardening = ContainerHardening(
        cap_add=("NET_BIND_SERVICE",),
        memory_bytes=512 * 1024 * 1024,
        cpus=1.5,
        read_only_root_filesystem=True,
        user="1000:1000",
    )
    pod = pod_manifest(spec(hardening=hardening), PodSettings())
    made = container(pod)

    assert made["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
        "readOnlyRootFilesystem": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "runAsNonRoot": True,
    }
    assert made["resources"] == {
        "limits": {"cpu": "1500m", "memory": str(512 * 1024 * 1024)},
        "requests": {"cpu": "100m", "memory": str(128 * 1024 * 1024)},
    }
    assert made["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["spec"]["volumes"][0]["emptyDir"]["medium"] == "Memory"
    assert pod["spec"]["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}


def test_a_user_name_is_refused_as_kubernetes_takes_numbers() -> None:
    with pytest.raises(ValueError, match="numeric"):
        pod_manifest(spec(hardening=ContainerHardening(user="performer")), PodSettings())


def test_requests_never_exceed_a_lower_limit() -> None:
    hardening = ContainerHardening(cpus=0.05, memory_bytes=64 * 1024 * 1024)

    resources = container(pod_manifest(spec(hardening=hardening), PodSettings()))["resources"]

    assert resources["requests"] == {"cpu": "50m", "memory": str(64 * 1024 * 1024)}


def test_without_limits_nothing_is_requested() -> None:
    hardening = ContainerHardening(cpus=0, memory_bytes=0)

    assert container(pod_manifest(spec(hardening=hardening), PodSettings()))["resources"] == {}


def test_pod_settings_give_account_requests_limits_and_node_selector() -> None:
    settings = PodSettings(
        service_account_name="avs-performer",
        requests={"cpu": "250m", "memory": "256Mi"},
        limits={"nvidia.com/gpu": "1"},
        node_selector={"gpu": "true"},
    )
    pod = pod_manifest(spec(), settings)

    assert pod["spec"]["serviceAccountName"] == "avs-performer"
    assert pod["spec"]["automountServiceAccountToken"] is True
    assert pod["spec"]["nodeSelector"] == {"gpu": "true"}
    assert container(pod)["resources"] == {
        "limits": {"cpu": "2000m", "memory": str(1024 * 1024 * 1024), "nvidia.com/gpu": "1"},
        "requests": {"cpu": "250m", "memory": "256Mi"},
    }


def test_without_a_service_account_no_token_is_mounted() -> None:
    pod = pod_manifest(spec(), PodSettings())

    assert pod["spec"]["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod["spec"]


def test_the_service_selects_only_its_pod_and_is_owned_by_it() -> None:
    pod = pod_manifest(spec(), PodSettings())
    pod["metadata"]["uid"] = "1234"

    service = service_manifest(pod)

    assert service["metadata"]["name"] == "performer-avs-performer-abcdef-0123456789ab"
    assert service["spec"]["selector"] == {POD_LABEL: "avs-performer-abcdef-0123456789ab"}
    assert service["spec"]["ports"][0]["port"] == 8080
    assert service["metadata"]["ownerReferences"][0]["uid"] == "1234"


def test_an_internal_network_is_a_policy_with_no_egress() -> None:
    internal = network_policy_manifest("performers", {"a": "b"}, internal=True)
    open_one = network_policy_manifest("performers", {"a": "b"}, internal=False)

    assert internal["spec"]["egress"] == []
    assert policy_is_internal(internal)
    assert not policy_is_internal(open_one)
    assert internal["spec"]["podSelector"] == {
        "matchLabels": {"hourglass.eigenlayer.io/network": "performers"}
    }


def test_a_pod_on_a_network_carries_its_label() -> None:
    labels = pod_manifest(spec(network="performers"), PodSettings())["metadata"]["labels"]

    assert labels["hourglass.eigenlayer.io/network"] == "performers"
