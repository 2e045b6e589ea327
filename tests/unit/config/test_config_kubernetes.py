"""Kubernetes mode: `deploymentMode: kubernetes`, the top-level `kubernetes` block, each AVS's
`kubernetes` block and `envs[].kubernetesEnv`, and what each mode refuses or ignores."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.config import (
    ConfigError,
    EnvVarConfig,
    IgnoredKey,
    KubernetesConfig,
    PerformerEndpoint,
    PerformerKubernetesConfig,
    ResourcesConfig,
    load_config,
)
from executor_adapters.config._structure import endpoint
from executor_adapters.config.schema import quantity_problem
from executor_adapters.kubernetes import PodSettings
from executor_adapters.kubernetes.settings import parse_endpoint
from executor_app.bootstrap import avs_settings
from executor_core.addresses import AvsAddress
from executor_core.performers import Endpoint, EnvReference, EnvSource
from tests.unit.config.samples import AVS, OTHER_AVS, REPO, load, minimal, performer

EXAMPLE = REPO / "examples" / "config" / "executor-kubernetes.yaml"
NO_OPERATOR = "the executor creates Pods itself; no operator or custom resource is involved"
SECRET_ENV = {
    "name": "API_KEY",
    "kubernetesEnv": {"valueFrom": {"secretKeyRef": {"name": "avs-secrets", "key": "api-key"}}},
}


def kubernetes_file(**entry: Any) -> dict[str, Any]:
    """The minimal document with its AVS in Kubernetes mode, `entry` added to the AVS."""
    document = minimal()
    document["avsPerformers"][0] |= {"deploymentMode": "kubernetes", **entry}
    return document


def pods(block: Any) -> dict[str, Any]:
    return kubernetes_file(kubernetes=block)


def problems_of(document: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(document, **kwargs)
    return caught.value.problems


def ignored(document: Any) -> dict[str, str]:
    return {key.path: key.reason for key in load(document).ignored_keys}


# --- the example and upstream's keys ----------------------------------------------------------


def test_the_kubernetes_example_loads_in_kubernetes_mode_with_nothing_ignored() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config.deployment_mode == "kubernetes"
    assert config.kubernetes == KubernetesConfig(
        namespace="hourglass-performers",
        connection_timeout=30.0,
        performer_endpoint=PerformerEndpoint.PORT_FORWARD,
    )
    (entry,) = config.avs_performers
    assert entry.kubernetes == PerformerKubernetesConfig(
        resources=ResourcesConfig(requests=(("cpu", "250m"), ("memory", "256Mi"))),
        node_selector=(("kubernetes.io/os", "linux"),),
    )
    assert entry.envs[1].kubernetes_env == EnvReference(
        "API_KEY", EnvSource.SECRET, "avs-secrets", "api-key"
    )
    assert entry.container.user == "65532:65532"
    assert config.ignored_keys == ()


def test_upstreams_kubernetes_keys_load_in_any_case_with_the_operator_keys_ignored() -> None:
    document = minimal()
    document["Kubernetes"] = {
        "Namespace": "performers",
        "OperatorNamespace": "hourglass-system",
        "CRDGroup": "hourglass.eigenlayer.io",
        "CRDVersion": "v1alpha1",
        "ConnectionTimeout": "45s",
        "KubeConfigPath": "/etc/executor/kubeconfig",
        "InCluster": False,
    }
    document["avsPerformers"][0] |= {
        "DeploymentMode": "kubernetes",
        "Kubernetes": {"ServiceAccountName": "avs-performer", "EndpointOverride": "10.0.0.7:30080"},
        "Envs": [
            {
                "Name": "API_KEY",
                "KubernetesEnv": {
                    "ValueFrom": {"ConfigMapKeyRef": {"Name": "avs-config", "Key": "api-key"}}
                },
            }
        ],
    }
    config = load(document)
    assert config.kubernetes == KubernetesConfig(
        namespace="performers", kube_config_path="/etc/executor/kubeconfig", connection_timeout=45
    )
    (entry,) = config.avs_performers
    assert entry.deployment_mode == "kubernetes"
    assert entry.kubernetes == PerformerKubernetesConfig(
        service_account_name="avs-performer", endpoint_override=Endpoint("10.0.0.7", 30080)
    )
    assert entry.envs == (
        EnvVarConfig(
            name="API_KEY",
            kubernetes_env=EnvReference("API_KEY", EnvSource.CONFIG_MAP, "avs-config", "api-key"),
        ),
    )
    assert config.ignored_keys == tuple(
        IgnoredKey(path=f"kubernetes.{key}", reason=NO_OPERATOR)
        for key in ("crdGroup", "crdVersion", "operatorNamespace")
    )


def test_without_the_block_the_cluster_has_the_defaults() -> None:
    config = load(kubernetes_file())
    assert config.kubernetes is None
    assert config.avs_performers[0].kubernetes is None
    defaults = KubernetesConfig()
    assert (defaults.namespace, defaults.kube_config_path, defaults.in_cluster) == (
        "default",
        "",
        False,
    )
    assert (defaults.connection_timeout, defaults.performer_endpoint) == (30.0, None)
    assert PerformerKubernetesConfig() == PerformerKubernetesConfig(
        service_account_name="", endpoint_override=None, resources=ResourcesConfig()
    )


# --- the top-level block ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"), [("30s", 30.0), ("1m30s", 90.0), (5, 5.0), (0.5, 0.5), ("500ms", 0.5)]
)
def test_the_connection_timeout_is_a_duration_like_the_others(written: Any, seconds: float) -> None:
    document = kubernetes_file() | {"kubernetes": {"connectionTimeout": written}}
    assert load(document).kubernetes == KubernetesConfig(connection_timeout=seconds)


@pytest.mark.parametrize("choice", list(PerformerEndpoint))
def test_the_performer_endpoint_is_service_or_port_forward(choice: PerformerEndpoint) -> None:
    document = kubernetes_file() | {"kubernetes": {"performerEndpoint": choice.value}}
    assert load(document).kubernetes == KubernetesConfig(performer_endpoint=choice)


def test_a_relative_kube_config_path_is_taken_from_the_config_files_directory(
    tmp_path: Path,
) -> None:
    def path_of(written: str) -> str:
        document = kubernetes_file() | {"kubernetes": {"kubeConfigPath": written}}
        cluster = load(document, base_dir=tmp_path).kubernetes
        assert cluster is not None
        return cluster.kube_config_path

    assert path_of("kube/config") == str(tmp_path / "kube" / "config")
    assert path_of("../config") == str(tmp_path.parent / "config")
    assert path_of("/etc/kubeconfig") == "/etc/kubeconfig"
    assert path_of("~/.kube/config") == str(Path.home() / ".kube" / "config")
    assert path_of("") == ""


def test_a_kube_config_path_beside_in_cluster_is_recorded_as_ignored() -> None:
    block = {"inCluster": True, "kubeConfigPath": "/etc/kubeconfig"}
    assert ignored(kubernetes_file() | {"kubernetes": block}) == {
        "kubernetes.kubeConfigPath": "kubernetes.inCluster is true: the executor uses its own "
        "pod's service account"
    }


@pytest.mark.parametrize(
    ("block", "line"),
    [
        ({"namespace": "Performers"}, "kubernetes.namespace: must be a namespace name "
         "(lower-case letters, digits and '-', at most 63)"),
        ({"namespace": "a.b"}, "kubernetes.namespace: must be a namespace name"),
        ({"namespace": "x" * 64}, "kubernetes.namespace: must be a namespace name"),
        ({"connectionTimeout": 0}, "kubernetes.connectionTimeout: must be greater than 0"),
        ({"connectionTimeout": "soon"}, "kubernetes.connectionTimeout: must be a duration"),
        ({"inCluster": "yes"}, "kubernetes.inCluster: must be true or false"),
        ({"performerEndpoint": "nodePort"},
         "kubernetes.performerEndpoint: must be one of service, portForward"),
        ({"kubeConfigPath": 1}, "kubernetes.kubeConfigPath: must be a string"),
        ({"crdGroup": 1}, "kubernetes.crdGroup: must be a string"),
        ({"namespaces": "x"}, "kubernetes.namespaces: unknown key"),
        ("default", "kubernetes: must be a mapping"),
    ],
)  # fmt: skip
def test_a_bad_cluster_key_is_reported_at_its_path(block: Any, line: str) -> None:
    (problem,) = problems_of(kubernetes_file() | {"kubernetes": block})
    assert problem.startswith(line)


# --- each AVS's block -------------------------------------------------------------------------


def test_every_key_of_an_avs_block_is_read() -> None:
    block = {
        "serviceAccountName": "avs-performer",
        "endpointOverride": "performer.example:8080",
        "resources": {
            "requests": {"cpu": "500m", "memory": "1Gi"},
            "limits": {"nvidia.com/gpu": 1, "cpu": 1.5, "ephemeral-storage": "2Gi"},
        },
        "nodeSelector": {"kubernetes.io/arch": "amd64", "accelerator": "gpu", "empty": ""},
    }
    entry = load(pods(block)).avs_performers[0]
    assert entry.kubernetes == PerformerKubernetesConfig(
        service_account_name="avs-performer",
        endpoint_override=Endpoint("performer.example", 8080),
        resources=ResourcesConfig(
            requests=(("cpu", "500m"), ("memory", "1Gi")),
            limits=(("cpu", "1.5"), ("ephemeral-storage", "2Gi"), ("nvidia.com/gpu", "1")),
        ),
        node_selector=(("accelerator", "gpu"), ("empty", ""), ("kubernetes.io/arch", "amd64")),
    )  # the samples' dumper sorts keys


@pytest.mark.parametrize(
    ("written", "read"),
    [(1, "1"), (2, "2"), (0.5, "0.5"), (1.5, "1.5"), ("500m", "500m"), ("1Gi", "1Gi"),
     ("100M", "100M"), ("1e3", "1e3"), ("0.25", "0.25")],
)  # fmt: skip
def test_a_quantity_is_text_and_a_number_is_read_as_its_text(written: Any, read: str) -> None:
    block = {"resources": {"limits": {"cpu": written}}}
    resources = load(pods(block)).avs_performers[0].kubernetes
    assert resources is not None
    assert resources.resources.limits == (("cpu", read),)


@pytest.mark.parametrize(
    ("written", "read"),
    [("[::1]:8080", Endpoint("::1", 8080)), ("10.1.2.3:1", Endpoint("10.1.2.3", 1)),
     ("a-b.c:65535", Endpoint("a-b.c", 65535)), ("", None)],
)  # fmt: skip
def test_an_endpoint_override_is_host_and_port(written: str, read: Endpoint | None) -> None:
    entry = load(pods({"endpointOverride": written})).avs_performers[0]
    assert entry.kubernetes is not None
    assert entry.kubernetes.endpoint_override == read


@pytest.mark.parametrize(
    ("block", "line"),
    [
        ({"serviceAccountName": "Avs_Performer"}, "serviceAccountName: must be empty or a "
         "service account name (lower-case letters, digits, '-' and '.', at most 253)"),
        ({"endpointOverride": "http://performer:8080"},
         "endpointOverride: must be host:port, such as performer.example:8080 (no scheme)"),
        ({"endpointOverride": "performer"}, "endpointOverride: must be host:port"),
        ({"endpointOverride": "performer:0"},
         "endpointOverride: must be host:port with a port between 1 and 65535"),
        ({"endpointOverride": "performer:70000"},
         "endpointOverride: must be host:port with a port between 1 and 65535"),
        ({"endpointOverride": "-bad-:80"},
         "endpointOverride: must be host:port: '-bad-' is not a host name"),
        ({"endpointOverride": "[1:2:3]:80"},
         "endpointOverride: must be host:port: [1:2:3] is not an IPv6 address"),
        ({"endpointOverride": "[::g]:80"}, "endpointOverride: must be host:port, such as"),
        ({"endpointOverride": 8080}, "endpointOverride: must be a string"),
        ({"resources": {"requests": {"cpu": "lots"}}},
         "resources.requests: cpu: 'lots' is not a quantity (such as 500m, 2, 0.5, 1Gi)"),
        ({"resources": {"limits": {"cpu": "-1"}}}, "resources.limits: cpu: '-1' is not a quantity"),
        ({"resources": {"limits": {"cpu": True}}},
         "resources.limits: cpu: must be a string (quote booleans)"),
        ({"resources": {"limits": {"bad name": "1"}}},
         "resources.limits: 'bad name' is not a resource name (such as cpu, memory, "
         "nvidia.com/gpu)"),
        ({"resources": {"limits": ["cpu"]}},
         "resources.limits: must be a mapping of resource names to quantities"),
        ({"resources": {"limit": {}}}, "resources.limit: unknown key"),
        ({"nodeSelector": {"zone": 1}},
         "nodeSelector: zone: must be a string (quote numbers and booleans)"),
        ({"nodeSelector": {"zone": "eu west"}}, "nodeSelector: zone: 'eu west' is not a label "
         "value"),
        ({"nodeSelector": {"-zone": "eu"}}, "nodeSelector: '-zone' is not a label key"),
        ({"nodeSelector": {"Bad_Prefix/zone": "eu"}},
         "nodeSelector: 'Bad_Prefix/zone': the prefix before '/' must be a DNS subdomain"),
        ({"nodeSelectors": {}}, "nodeSelectors: unknown key"),
    ],
)  # fmt: skip
def test_a_bad_avs_block_key_is_reported_at_its_path(block: dict[str, Any], line: str) -> None:
    (problem,) = problems_of(pods(block))
    assert problem.startswith(f"avsPerformers[0].kubernetes.{line}")


QUANTITY_LIKE = st.one_of(
    st.text(max_size=8),
    st.text(alphabet="0123456789.-+emkKMGTPEi ", max_size=8),
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,3})?(m|k|M|G|Ki|Mi|Gi|e[0-9])?", fullmatch=True),
)


@given(quantity=QUANTITY_LIKE)
def test_a_quantity_is_accepted_exactly_when_the_kubernetes_runtime_takes_it(
    quantity: str,
) -> None:
    try:
        PodSettings(limits={"cpu": quantity})
        runtime_takes = True
    except ValueError:
        runtime_takes = False
    config_takes = quantity_problem("cpu", quantity) is None
    assert config_takes == runtime_takes
    if config_takes:
        assert ResourcesConfig(limits=(("cpu", quantity),)).limits == (("cpu", quantity),)
    else:
        with pytest.raises(ValueError, match=re.compile(r"^cpu: .* is not a quantity", re.S)):
            ResourcesConfig(limits=(("cpu", quantity),))


HOSTS = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}", fullmatch=True)


@given(host=HOSTS, port=st.integers(-5, 70000))
def test_an_endpoint_override_reads_a_host_and_any_port_of_tcp(host: str, port: int) -> None:
    text = f"{host}:{port}"
    if 1 <= port <= 65535:
        assert endpoint(text) == Endpoint(host, port) == parse_endpoint(text)
        assert str(endpoint(text)) == text
    else:
        with pytest.raises(ValueError, match="must be host:port"):
            endpoint(text)


@given(text=st.text(max_size=30) | st.from_regex(r"[a-z\[\]:.0-9/]{0,20}", fullmatch=True))
def test_any_endpoint_text_is_read_or_refused_with_the_shape_it_needs(text: str) -> None:
    try:
        read = endpoint(text)
    except ValueError as exc:
        problem = str(exc)
    else:
        problem = None
    if problem is not None:
        assert problem.startswith("must be host:port")
        return
    if text == "":
        assert read is None
        return
    assert read is not None
    assert parse_endpoint(text) == read  # the runtime reads it the same way
    assert re.fullmatch(r"[A-Za-z0-9.:-]+", read.host)


# --- kubernetesEnv ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "kind"),
    [("secretKeyRef", EnvSource.SECRET), ("configMapKeyRef", EnvSource.CONFIG_MAP)],
)
def test_a_kubernetes_env_reads_a_secret_or_config_map_key(source: str, kind: EnvSource) -> None:
    env = {"name": "API_KEY", "kubernetesEnv": {"valueFrom": {source: {"name": "o", "key": "k"}}}}
    config = load(kubernetes_file(envs=[{"name": "LOG_LEVEL", "value": "info"}, env]))
    reference = EnvReference("API_KEY", kind, "o", "k")
    assert config.avs_performers[0].envs[1] == EnvVarConfig(
        name="API_KEY", kubernetes_env=reference
    )
    (settings,) = avs_settings(config)
    assert settings.env == (("LOG_LEVEL", "info"),)
    assert settings.env_references == (reference,)


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"value": "x"}, "envs[1].kubernetesEnv: give one of value, valueFromEnv, kubernetesEnv"),
        ({"valueFromEnv": "HOME"},
         "envs[1].kubernetesEnv: give one of value, valueFromEnv, kubernetesEnv"),
        ({"kubernetesEnv": {}},
         "envs[1].kubernetesEnv.valueFrom: required: a secretKeyRef or a configMapKeyRef"),
        ({"kubernetesEnv": {"valueFrom": {}}},
         "envs[1].kubernetesEnv.valueFrom: give exactly one of secretKeyRef, configMapKeyRef"),
        ({"kubernetesEnv": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"},
                                          "configMapKeyRef": {"name": "c", "key": "k"}}}},
         "envs[1].kubernetesEnv.valueFrom: give exactly one of secretKeyRef, configMapKeyRef"),
        ({"kubernetesEnv": {"valueFrom": {"secretKeyRef": {"name": "s"}}}},
         "envs[1].kubernetesEnv.valueFrom.secretKeyRef.key: required"),
        ({"kubernetesEnv": {"valueFrom": {"configMapKeyRef": {"key": "k"}}}},
         "envs[1].kubernetesEnv.valueFrom.configMapKeyRef.name: required"),
        ({"kubernetesEnv": {"valueFrom": {"secretKeyRef": {"name": "Avs_Secrets", "key": "k"}}}},
         "envs[1].kubernetesEnv.valueFrom.secretKeyRef.name: must be a Kubernetes object name"),
        ({"kubernetesEnv": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "a/b"}}}},
         "envs[1].kubernetesEnv.valueFrom.secretKeyRef.key: must be a Secret or ConfigMap key"),
        ({"kubernetesEnv": {"valueFrom": {"fieldRef": {}}}},
         "envs[1].kubernetesEnv.valueFrom.fieldRef: unknown key"),
    ],
)  # fmt: skip
def test_a_bad_kubernetes_env_is_reported_at_its_key(env: dict[str, Any], line: str) -> None:
    entry = copy.deepcopy(SECRET_ENV)
    entry |= env
    (problem,) = problems_of(kubernetes_file(envs=[{"name": "A"}, entry]), environ={"HOME": "/"})
    assert problem.startswith(f"avsPerformers[0].{line}")


def test_a_kubernetes_env_of_an_avs_on_docker_is_refused_naming_it() -> None:
    document = minimal()
    document["avsPerformers"][0]["envs"] = [{"name": "A"}, SECRET_ENV]
    assert problems_of(document) == [
        "avsPerformers[0].envs[1].kubernetesEnv: needs deploymentMode kubernetes; this AVS runs "
        "on Docker, which has no Secrets or ConfigMaps (give value or valueFromEnv)"
    ]


# --- one mode per executor --------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [("docker", "kubernetes"), ("kubernetes", "docker")])
def test_docker_and_kubernetes_performers_in_one_file_are_refused(first: str, second: str) -> None:
    document = minimal()
    document["avsPerformers"] = [
        performer(AVS) | {"deploymentMode": first},
        performer(OTHER_AVS) | {"deploymentMode": second},
    ]
    assert problems_of(document) == [
        f"avsPerformers[1].deploymentMode: {second} while avsPerformers[0] is {first}: one "
        "executor runs all its performers in one mode; run a second executor for the other"
    ]


def test_an_entry_without_a_mode_is_docker_and_mixes_with_kubernetes_neither() -> None:
    document = minimal()
    document["avsPerformers"] = [performer(AVS), performer(OTHER_AVS)]
    document["avsPerformers"][1]["deploymentMode"] = "kubernetes"
    assert problems_of(document) == [
        "avsPerformers[1].deploymentMode: kubernetes while avsPerformers[0] is docker: one "
        "executor runs all its performers in one mode; run a second executor for the other"
    ]
    both = copy.deepcopy(document)
    both["avsPerformers"][0]["deploymentMode"] = "kubernetes"
    assert load(both).deployment_mode == "kubernetes"


def test_kubernetes_blocks_of_a_docker_file_are_recorded_as_ignored() -> None:
    document = minimal() | {"kubernetes": {"namespace": "performers", "crdGroup": "x"}}
    document["avsPerformers"][0]["kubernetes"] = {"serviceAccountName": "avs-performer"}
    assert ignored(document) == {
        "avsPerformers[0].kubernetes": "this AVS runs on Docker (deploymentMode docker)",
        "kubernetes": "no avsPerformers entry has deploymentMode kubernetes: performers run "
        "on Docker",
    }


# --- container and network keys in Kubernetes mode --------------------------------------------


@pytest.mark.parametrize("user", ["", "0", "1000", "65532:65532"])
def test_a_numeric_user_runs_in_kubernetes_mode(user: str) -> None:
    config = load(kubernetes_file(container={"user": user}))
    assert config.avs_performers[0].container.user == user


@pytest.mark.parametrize("user", ["nobody", "1000:staff", "app:1000", "١٢"])
def test_a_user_name_is_refused_in_kubernetes_mode(user: str) -> None:
    problems = problems_of(kubernetes_file(container={"user": user}))
    if user == "١٢":  # not even a Docker user name: the container block's own check says so
        assert problems[0].startswith("avsPerformers[0].container.user: must be empty")
        return
    assert problems == [
        "avsPerformers[0].container.user: must be a numeric uid[:gid] in Kubernetes mode, which "
        f"takes no user names (runAsUser, runAsGroup), not {user!r}"
    ]
    assert load(with_mode_docker(kubernetes_file(container={"user": user})))


def with_mode_docker(document: dict[str, Any]) -> dict[str, Any]:
    document["avsPerformers"][0]["deploymentMode"] = "docker"
    return document


def test_container_keys_kubernetes_sets_per_node_are_recorded_as_ignored_when_given() -> None:
    container = {"pidsLimit": 512, "logMaxSize": "10m", "logMaxFile": 3, "memory": "512m"}
    logs = (
        "Kubernetes rotates container logs per node (the kubelet's containerLogMaxSize and "
        "containerLogMaxFiles), not per pod"
    )
    assert ignored(kubernetes_file(container=container)) == {
        "avsPerformers[0].container.pidsLimit": "Kubernetes limits processes per node (the "
        "kubelet's podPidsLimit), not per pod",
        "avsPerformers[0].container.logMaxSize": logs,
        "avsPerformers[0].container.logMaxFile": logs,
    }
    assert ignored(kubernetes_file(container={"memory": "512m"})) == {}
    assert ignored(with_mode_docker(kubernetes_file(container=container))) == {}


def test_the_pull_timeout_given_in_kubernetes_mode_is_recorded_as_ignored() -> None:
    document = kubernetes_file() | {"deployment": {"pullTimeout": "10m", "timeout": "5m"}}
    assert ignored(document) == {
        "deployment.pullTimeout": "in Kubernetes mode the node pulls the image as the pod "
        "starts, within timeout"
    }


def test_an_internal_network_needs_no_relay_image_in_kubernetes_mode() -> None:
    network = {"performerNetworkName": "performers", "performerNetworkInternal": True}
    config = load(kubernetes_file() | network)
    assert (config.performer_network_name, config.performer_network_internal) == (
        "performers",
        True,
    )
    relay = {"performerNetworkRelayImage": {"repository": "relay", "tag": "v1"}}
    assert ignored(kubernetes_file() | network | relay) == {
        "performerNetworkRelayImage": "in Kubernetes mode the performer network is a "
        "NetworkPolicy, with no relays"
    }
    assert problems_of(minimal() | network)[0].startswith(
        "performerNetworkRelayImage: required with performerNetworkInternal: true"
    )


def test_the_performer_network_must_be_a_network_policy_name_in_kubernetes_mode() -> None:
    assert problems_of(kubernetes_file() | {"performerNetworkName": "Perf_Net"}) == [
        "performerNetworkName: in Kubernetes mode it names a NetworkPolicy, so it must be "
        "lower-case letters, digits, '-' and '.' (at most 253)"
    ]
    assert load(minimal() | {"performerNetworkName": "Perf_Net"})


# --- values built in code ---------------------------------------------------------------------


def test_kubernetes_values_built_in_code_are_validated_like_the_file() -> None:
    with pytest.raises(ValueError, match="must be a namespace name"):
        KubernetesConfig(namespace="Bad")
    with pytest.raises(ValueError, match="must be greater than 0"):
        KubernetesConfig(connection_timeout=0)
    with pytest.raises(ValueError, match="'lots' is not a quantity"):
        ResourcesConfig(requests=(("cpu", "lots"),))
    with pytest.raises(ValueError, match="cpu given more than once"):
        ResourcesConfig(limits=(("cpu", "1"), ("cpu", "2")))
    with pytest.raises(ValueError, match="must be host:port"):
        PerformerKubernetesConfig(endpoint_override="performer:8080")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is not a label key"):
        PerformerKubernetesConfig(node_selector=(("-a", "b"),))
    reference = EnvReference("API_KEY", EnvSource.SECRET, "s", "k")
    with pytest.raises(ValueError, match="give one of value, valueFromEnv, kubernetesEnv"):
        EnvVarConfig(name="API_KEY", value="x", kubernetes_env=reference)
    with pytest.raises(ValueError, match="must be a reference for OTHER"):
        EnvVarConfig(name="OTHER", kubernetes_env=reference)
    entry = load(kubernetes_file()).avs_performers[0]
    assert attrs.evolve(entry, kubernetes=PerformerKubernetesConfig()).kubernetes is not None
    assert entry.avs_address == AvsAddress.parse(AVS)
