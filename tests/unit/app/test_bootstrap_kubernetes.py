"""The composition root in Kubernetes mode: it builds the Kubernetes runtime (imported only
then) from the config's blocks, carries Secret and ConfigMap references into the pods' specs,
and tells DeployArtifact the configured service accounts; a Docker config still gets Docker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from executor_adapters.config import SigningCurve, parse_config
from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.kubernetes import (
    ClusterSettings,
    KubernetesContainerRuntime,
    PerformerReach,
    PodSettings,
)
from executor_adapters.memory import (
    FakeResultSigner,
    InMemoryContainerRuntime,
    ScriptedPerformerConnector,
    SequentialIds,
)
from executor_app.bootstrap import (
    build_executor,
    cluster_settings,
    kubernetes_deploys,
)
from executor_core.addresses import AvsAddress
from executor_core.performer_env import RequestedEnv
from executor_core.performers import Endpoint, EnvReference, EnvSource, PerformerImage
from tests.unit.config.samples import KEYSTORE_TEXT, OPERATOR, REPO

AVS = "0x" + "a1" * 20
OTHER_AVS = "0x" + "b2" * 20
SECRET = EnvReference("API_KEY", EnvSource.SECRET, "avs-secrets", "api-key")

KUBERNETES = f"""
operator:
  address: "{OPERATOR}"
  signingKeys:
    bls: {{keystore: {json.dumps(KEYSTORE_TEXT)}}}
kubernetes:
  namespace: performers
  kubeConfigPath: kube/config
  connectionTimeout: 12s
  performerEndpoint: service
avsPerformers:
  - avsAddress: "{AVS}"
    deploymentMode: kubernetes
    image: {{repository: example, tag: v1}}
    verifyAggregatorSignature: false
    kubernetes:
      serviceAccountName: avs-performer
      endpointOverride: performer.example:30080
      resources: {{requests: {{cpu: 250m}}, limits: {{nvidia.com/gpu: 1}}}}
      nodeSelector: {{accelerator: gpu}}
    envs:
      - {{name: LOG_LEVEL, value: info}}
      - name: API_KEY
        kubernetesEnv: {{valueFrom: {{secretKeyRef: {{name: avs-secrets, key: api-key}}}}}}
  - avsAddress: "{OTHER_AVS}"
    deploymentMode: kubernetes
    image: {{repository: other, tag: v1}}
    verifyAggregatorSignature: false
"""

DOCKER = f"""
operator:
  address: "{OPERATOR}"
  signingKeys:
    bls: {{keystore: {json.dumps(KEYSTORE_TEXT)}}}
avsPerformers:
  - avsAddress: "{AVS}"
    image: {{repository: example, tag: v1}}
    verifyAggregatorSignature: false
"""


def test_the_kubernetes_blocks_become_the_runtimes_cluster_and_pod_settings(
    tmp_path: Path,
) -> None:
    config = parse_config(KUBERNETES, base_dir=tmp_path, environ={})
    assert cluster_settings(config) == ClusterSettings(
        namespace="performers",
        kubeconfig_path=str(tmp_path / "kube" / "config"),
        in_cluster=False,
        connection_timeout=12.0,
        reach=PerformerReach.SERVICE,
        pods={
            AVS: PodSettings(
                service_account_name="avs-performer",
                endpoint_override=Endpoint("performer.example", 30080),
                requests={"cpu": "250m"},
                limits={"nvidia.com/gpu": "1"},
                node_selector={"accelerator": "gpu"},
            )
        },
    )


def test_without_the_blocks_the_cluster_settings_are_the_runtimes_defaults(tmp_path: Path) -> None:
    text = DOCKER.replace("    image:", "    deploymentMode: kubernetes\n    image:")
    config = parse_config(text, base_dir=tmp_path, environ={})
    assert config.kubernetes is None
    assert config.avs_performers[0].kubernetes is None
    settings = cluster_settings(config)
    assert settings == ClusterSettings()
    assert settings.performer_reach is PerformerReach.PORT_FORWARD


async def test_a_kubernetes_config_builds_the_kubernetes_runtime_without_connecting(
    tmp_path: Path,
) -> None:
    config = parse_config(KUBERNETES, base_dir=tmp_path, environ={})
    app = await build_executor(
        config,
        signers={SigningCurve.BN254: FakeResultSigner()},
        ids=SequentialIds(),
        host="127.0.0.1",
        port=0,
    )
    try:
        assert isinstance(app.runtime, KubernetesContainerRuntime)
        assert app.runtime.namespace == "performers"
    finally:
        await app.runtime.aclose()


async def test_a_docker_config_still_builds_the_docker_runtime(tmp_path: Path) -> None:
    config = parse_config(DOCKER, base_dir=tmp_path, environ={})
    assert kubernetes_deploys(config) is None
    app = await build_executor(
        config,
        signers={SigningCurve.BN254: FakeResultSigner()},
        ids=SequentialIds(),
        host="127.0.0.1",
        port=0,
    )
    try:
        assert isinstance(app.runtime, AiodockerContainerRuntime)
    finally:
        await app.runtime.aclose()


@pytest.mark.parametrize(
    ("example", "runtime", "imported"),
    [
        ("executor.yaml", "AiodockerContainerRuntime", False),
        ("executor-g2.yaml", "AiodockerContainerRuntime", False),
        ("executor-kubernetes.yaml", "KubernetesContainerRuntime", True),
    ],
)
def test_the_kubernetes_adapter_is_imported_only_in_kubernetes_mode(
    example: str, runtime: str, imported: bool
) -> None:
    program = (
        "import sys\n"
        "from executor_adapters.config import load_config\n"
        "from executor_app.bootstrap import container_runtime\n"
        "runtime = container_runtime(load_config(sys.argv[1], environ={}))\n"
        "print(type(runtime).__name__, 'kubernetes_asyncio' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", program, str(REPO / "examples" / "config" / example)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout.split() == [runtime, str(imported)]


def test_deploy_artifact_learns_each_avss_configured_service_account(tmp_path: Path) -> None:
    deploys = kubernetes_deploys(parse_config(KUBERNETES, base_dir=tmp_path, environ={}))
    assert deploys is not None
    assert deploys.service_account(AvsAddress.parse(AVS)) == "avs-performer"
    assert deploys.service_account(AvsAddress.parse(OTHER_AVS)) == ""
    assert deploys.service_account(AvsAddress.parse("0x" + "c3" * 20)) == ""


async def test_secret_references_reach_the_pods_spec_and_a_deployment_may_replace_them(
    tmp_path: Path,
) -> None:
    config = parse_config(KUBERNETES, base_dir=tmp_path, environ={})
    runtime = InMemoryContainerRuntime()
    app = await build_executor(
        config,
        runtime=runtime,
        connector=ScriptedPerformerConnector(lambda task_id, payload: payload),
        signers={SigningCurve.BN254: FakeResultSigner()},
        ids=SequentialIds(),
        host="127.0.0.1",
        port=0,
    )
    await app.start()
    try:
        (started,) = [
            c for c in runtime.containers.values() if c.spec.image.repository == "example"
        ]
        assert started.spec.env == (("LOG_LEVEL", "info"),)
        assert started.spec.env_references == (SECRET,)

        other = EnvReference("API_KEY", EnvSource.CONFIG_MAP, "avs-config", "api-key")
        token = EnvReference("TOKEN", EnvSource.SECRET, "avs-secrets", "token")
        env = [
            RequestedEnv(name="API_KEY", reference=other),
            RequestedEnv(name="LOG_LEVEL", reference=EnvReference(
                "LOG_LEVEL", EnvSource.CONFIG_MAP, "avs-config", "log-level"
            )),
            RequestedEnv(name="TOKEN", reference=token),
            RequestedEnv(name="MODE", value="fast"),
        ]  # fmt: skip
        await app.executor.deploy_artifact(
            AvsAddress.parse(AVS), PerformerImage("example", tag="v2"), env=env
        )
        (deployed,) = [c for c in runtime.containers.values() if c.spec.image.tag == "v2"]
        assert deployed.spec.env == (("MODE", "fast"),)
        assert [r.name for r in deployed.spec.env_references] == ["API_KEY", "LOG_LEVEL", "TOKEN"]
        assert deployed.spec.env_references[0] == other
    finally:
        await asyncio.wait_for(app.stop(grace=1), 10)
