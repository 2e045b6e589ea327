"""The composition root carries each AVS's `container` block into its containers' specs, gives
AVSs that DeployArtifact adds the hardened defaults, and makes the performer network internal
when the config says so."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from executor_adapters.config import SigningCurve, parse_config
from executor_adapters.memory import (
    FakeResultSigner,
    InMemoryContainerRuntime,
    ScriptedPerformerConnector,
    SequentialIds,
)
from executor_app.bootstrap import build_executor
from executor_core.addresses import AvsAddress
from executor_core.performers import MIB, ContainerHardening, PerformerImage
from tests.unit.config.samples import KEYSTORE_TEXT, OPERATOR

AVS = "0x" + "a1" * 20
NEW_AVS = "0x" + "d4" * 20

CONFIG = f"""
operator:
  address: "{OPERATOR}"
  signingKeys:
    bls: {{keystore: {json.dumps(KEYSTORE_TEXT)}}}
performerNetworkName: performers
performerNetworkInternal: true
performerNetworkRelayImage: {{repository: hourglass-python-base, tag: bookworm}}
avsPerformers:
  - avsAddress: "{AVS}"
    image: {{repository: example, tag: v1}}
    verifyAggregatorSignature: false
    container:
      capAdd: [NET_BIND_SERVICE]
      memory: 256m
      readOnlyRootFilesystem: true
      user: "65532"
"""


async def test_container_settings_and_the_internal_network_reach_the_runtime(
    tmp_path: Path,
) -> None:
    config = parse_config(CONFIG, base_dir=tmp_path, environ={})
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
        (network,) = runtime.networks.values()
        assert (network.name, network.internal) == ("performers", True)
        (configured,) = runtime.containers.values()
        assert configured.spec.network == "performers"
        assert configured.spec.hardening == ContainerHardening(
            cap_add=("NET_BIND_SERVICE",),
            memory_bytes=256 * MIB,
            read_only_root_filesystem=True,
            user="65532",
        )

        await app.executor.deploy_artifact(
            AvsAddress.parse(NEW_AVS), PerformerImage("example", tag="v2")
        )
        added = [c for c in runtime.containers.values() if c.spec.image.reference == "example:v2"]
        assert [c.spec.hardening for c in added] == [ContainerHardening()]
    finally:
        await asyncio.wait_for(app.stop(grace=1), 10)
    assert runtime.containers == {}
