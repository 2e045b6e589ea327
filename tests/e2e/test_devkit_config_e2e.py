"""The executor.yaml that devkit's AVS template renders starts the executor, which then serves
a second-generation task whose result the chain accepts.

Only `l1Chain.rpcUrl` is changed (devkit points it at `host.docker.internal`, which does not
resolve here). The performer is the in-memory one: the file names devkit's `my-avs` image,
which this machine does not have; the chain, the keys and the gRPC connection are real.
"""

from __future__ import annotations

import attrs
import grpc
import pytest

from executor_adapters.config import SigningCurve, load_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_adapters.memory import InMemoryContainerRuntime, ScriptedPerformerConnector
from executor_adapters.signing import Bn254ResultSigner
from executor_adapters.signing.bn254 import curve as bn254
from executor_app.bootstrap import build_executor
from executor_app.signers import load_signers
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.chain_support import DevChain
from tests.docker_support import REPO
from tests.g2_aggregator import G2Aggregator, auth_digest, bn254_digest
from tests.vectors import load_vector

DEVKIT_FILE = REPO / "tests/unit/config/devkit_executor.yaml"
KEYS = {k["name"]: int(k["sk_hex"], 16) for k in load_vector("bn254_keys.json")["keys"]}
AGGREGATOR = G2Aggregator(
    "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65", bn254_secret=KEYS["ponos-aggregator"]
)


async def test_the_devkit_config_starts_the_executor_and_serves_g2(dev_chain: DevChain) -> None:
    config = load_config(DEVKIT_FILE, environ={})
    assert config.l1_chain is not None
    config = attrs.evolve(
        config, l1_chain=attrs.evolve(config.l1_chain, rpc_url=dev_chain.node.url)
    )
    operator = config.operator.address.value
    avs = config.avs_performers[0].avs_address.value
    signer = (await load_signers(config))[SigningCurve.BN254]
    assert isinstance(signer, Bn254ResultSigner)
    dev_chain.register_avs(avs, 0, [1])
    dev_chain.configure_operator_set(avs, 0, 2)
    sk = KEYS["ponos-aggregator"]
    dev_chain.set_bn254_key(
        avs, 0, AGGREGATOR.address, bn254.public_key_g1(sk), bn254.public_key_g2(sk)
    )
    dev_chain.configure_operator_set(avs, 1, 2)
    dev_chain.add_member(avs, 1, operator)
    dev_chain.set_bn254_key(avs, 1, operator, signer.public_key_g1, signer.public_key_g2)

    app = await build_executor(
        config,
        runtime=InMemoryContainerRuntime(),
        connector=ScriptedPerformerConnector(lambda task_id, payload: payload[::-1]),
        host="127.0.0.1",
        port=0,
    )
    await app.start()
    try:
        async with ExecutorClient(f"127.0.0.1:{app.port}") as client:
            request = AGGREGATOR.submission(
                task_id="0x" + "77" * 32,
                avs=avs,
                executor=operator,
                operator_set_id=1,
                block=dev_chain.node.block_number(),
                payload=b"devkit",
            )
            result = await client.submit_task(request, timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as refused:  # a G2 file takes no G1 tasks
                await client.submit_task(
                    pb.TaskSubmission(task_id="0x01", avs_address=avs, payload=b"x"), timeout=10
                )
    finally:
        await app.stop(grace=1)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert (refused.value.details() or "").startswith("version: 0")
    assert result.output == b"tikved"
    assert dev_chain.verify_bn254(
        bn254_digest(result.task_id, result.output),
        signer.public_key_g1,
        signer.public_key_g2,
        result.result_signature,
    )
    assert dev_chain.verify_bn254_standard(
        auth_digest(result, operator), signer.public_key_g2, result.auth_signature
    )
