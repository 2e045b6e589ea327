"""End to end, second generation: a G2 aggregator client, the real executor, a real performer
container in Docker, and anvil holding the operator sets, keys and certificate verifiers.

Every result is checked as the aggregator checks it and then on the node: the result signature
by the EVM's own precompiles (BN254) or ecrecover (ECDSA), the auth signature likewise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import attrs
import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from executor_adapters.config import MetricsConfig, parse_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_adapters.signing import Bn254ResultSigner
from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.ecdsa import curve as ecdsa
from executor_adapters.signing.keccak import keccak256
from executor_app.bootstrap import ExecutorApp
from executor_core.events import TaskCompleted
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.chain_support import DevChain
from tests.docker_support import REPO, require_example_image
from tests.e2e.apps import started_executor
from tests.g2_aggregator import G2Aggregator, auth_digest, bn254_digest, ecdsa_digest_bytes
from tests.vectors import load_vector

pytestmark = pytest.mark.docker

AVS = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
OPERATOR = "0x6b58f6762689df33fe8fa3fc40fb5a3089d3a8cc"
KEYS = {k["name"]: int(k["sk_hex"], 16) for k in load_vector("bn254_keys.json")["keys"]}
OPERATOR_BN254 = Bn254ResultSigner(KEYS["ponos-executor"].to_bytes(32, "big"))
OPERATOR_ECDSA_SECRET = bytes.fromhex("5c" * 32)
OPERATOR_ECDSA_ADDRESS = ecdsa.address_of(OPERATOR_ECDSA_SECRET)
BN254_AGGREGATOR = G2Aggregator(
    "0x90f79bf6eb2c4f870365e785982e1f101e93b906", bn254_secret=KEYS["ponos-aggregator"]
)
ECDSA_AGGREGATOR_SECRET = bytes.fromhex("a1" * 32)
ECDSA_AGGREGATOR = G2Aggregator(
    ecdsa.address_of(ECDSA_AGGREGATOR_SECRET), ecdsa_secret=ECDSA_AGGREGATOR_SECRET
)
AGGREGATOR_SET, BN254_SET, ECDSA_SET, ECDSA_AGGREGATOR_SET, UNCONFIGURED_SET = 0, 1, 2, 3, 4
BN254_CURVE, ECDSA_CURVE = 2, 1

CONFIG = """
grpcPort: 9090
operator:
  address: "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
  operatorPrivateKey: {{privateKey: "0x{ecdsa}"}}
  signingKeys:
    bls: {{keystoreFile: {keys}/executor-bn254.json, password: ""}}
    ecdsa: {{privateKey: "0x{ecdsa}"}}
l1Chain: {{rpcUrl: "{rpc}", chainId: "31337", timeout: 1s}}
taskTimeout: 5s
avsPerformers:
  - image: {{repository: hourglass-example-performer, tag: latest}}
    processType: server
    avsAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    acceptG1Tasks: true
    health: {{checkInterval: 1s}}
simulation:
  simulatePeering:
    enabled: true
    aggregatorPeers:
      - operatorAddress: "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
        publicKey: "{aggregator_g2}"
"""


def set_up_operator_sets(chain: DevChain) -> str:
    """The AVS as devkit's contracts leave it, plus the sets the failure cases need."""
    registrar = chain.register_avs(AVS, AGGREGATOR_SET, [BN254_SET, ECDSA_SET])
    aggregator_sk = KEYS["ponos-aggregator"]
    chain.configure_operator_set(AVS, AGGREGATOR_SET, BN254_CURVE)
    chain.set_bn254_key(
        AVS,
        AGGREGATOR_SET,
        BN254_AGGREGATOR.address,
        bn254.public_key_g1(aggregator_sk),
        bn254.public_key_g2(aggregator_sk),
    )
    chain.configure_operator_set(AVS, BN254_SET, BN254_CURVE)
    chain.add_member(AVS, BN254_SET, OPERATOR)
    chain.set_bn254_key(
        AVS, BN254_SET, OPERATOR, OPERATOR_BN254.public_key_g1, OPERATOR_BN254.public_key_g2
    )
    chain.configure_operator_set(AVS, ECDSA_SET, ECDSA_CURVE)
    chain.add_member(AVS, ECDSA_SET, OPERATOR)
    chain.set_ecdsa_address(AVS, ECDSA_SET, OPERATOR, OPERATOR_ECDSA_ADDRESS)
    chain.configure_operator_set(AVS, ECDSA_AGGREGATOR_SET, ECDSA_CURVE)
    chain.set_ecdsa_address(
        AVS, ECDSA_AGGREGATOR_SET, ECDSA_AGGREGATOR.address, ECDSA_AGGREGATOR.address
    )
    chain.add_member(AVS, UNCONFIGURED_SET, OPERATOR)
    return registrar


@pytest.fixture
async def g2_app(dev_chain: DevChain, run_id: str, tmp_path: Path) -> AsyncIterator[ExecutorApp]:
    require_example_image()
    set_up_operator_sets(dev_chain)
    text = CONFIG.format(
        ecdsa=OPERATOR_ECDSA_SECRET.hex(),
        keys=REPO / "examples/keys",
        rpc=dev_chain.node.url,
        aggregator_g2=bn254.public_key_g2(KEYS["ponos-aggregator"]).hex(),
    )
    config = parse_config(text, base_dir=tmp_path, environ={})
    config = attrs.evolve(config, metrics=MetricsConfig(enabled=True, port=0))
    async with started_executor(config) as app:
        yield app


@pytest.fixture
async def client(g2_app: ExecutorApp) -> AsyncIterator[ExecutorClient]:
    async with ExecutorClient(f"127.0.0.1:{g2_app.port}") as c:
        yield c


def task_id(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def submission(
    chain: DevChain,
    n: int,
    *,
    aggregator: G2Aggregator = BN254_AGGREGATOR,
    operator_set_id: int = BN254_SET,
    block: int | None = None,
    **changes: object,
) -> pb.TaskSubmission:
    return aggregator.submission(
        task_id=task_id(n),
        avs=AVS,
        executor=OPERATOR,
        operator_set_id=operator_set_id,
        block=chain.node.block_number() if block is None else block,
        payload=n.to_bytes(32, "big"),
        **changes,  # type: ignore[arg-type]
    )


def assert_bn254_result_verifies_on_chain(chain: DevChain, result: pb.TaskResult) -> None:
    digest = bn254_digest(result.task_id, result.output)
    assert (
        chain.certificate_digest(  # the contract's own digest is the one we signed
            1_760_000_000, chain.message_hash(bytes.fromhex(result.task_id[2:]), result.output)
        )
        == digest
    )
    assert chain.verify_bn254(
        digest, OPERATOR_BN254.public_key_g1, OPERATOR_BN254.public_key_g2, result.result_signature
    )
    auth = auth_digest(result, OPERATOR)
    assert bn254.verify(OPERATOR_BN254.public_key_g2, auth, result.auth_signature)
    if hasattr(chain, "verify_bn254_standard"):
        assert chain.verify_bn254_standard(
            auth, OPERATOR_BN254.public_key_g2, result.auth_signature
        )


async def test_a_bn254_aggregator_gets_a_result_the_chain_accepts(
    client: ExecutorClient, dev_chain: DevChain
) -> None:
    result = await client.submit_task(submission(dev_chain, 7), timeout=10)
    assert result.task_id == task_id(7)
    assert result.output == (49).to_bytes(32, "big")
    assert (result.version, result.operator_set_id, result.avs_address) == (1, BN254_SET, AVS)
    assert result.operator_address.lower() == OPERATOR
    assert_bn254_result_verifies_on_chain(dev_chain, result)


async def test_chain_reads_are_timed_and_counted_by_method_and_node_client_version(
    client: ExecutorClient, dev_chain: DevChain, g2_app: ExecutorApp
) -> None:
    await client.submit_task(submission(dev_chain, 8), timeout=10)
    assert g2_app.node_api is not None
    url = f"http://127.0.0.1:{g2_app.node_api.port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    samples = {
        (s.name, s.labels.get("method"), s.labels.get("outcome")): (s.value, s.labels)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    calls, labels = samples[("eigen_rpc_request_total", "eth_call", "ok")]
    assert calls >= 1
    assert labels["client_version"].startswith("anvil")
    count, _ = samples[("eigen_rpc_request_duration_seconds_count", "eth_call", None)]
    assert count == calls
    services = f"http://127.0.0.1:{g2_app.node_api.port}/eigen/node/services"
    async with aiohttp.ClientSession() as session, session.get(services) as response:
        listed = {s["id"]: s["status"] for s in (await response.json())["services"]}
    assert listed["chain"] == "Up"


async def test_an_ecdsa_operator_set_gets_a_result_the_chain_accepts(
    client: ExecutorClient, dev_chain: DevChain
) -> None:
    result = await client.submit_task(
        submission(dev_chain, 8, operator_set_id=ECDSA_SET), timeout=10
    )
    signed = ecdsa_digest_bytes(result.task_id, result.output, dev_chain.domain_separator())
    message_hash = dev_chain.message_hash(bytes.fromhex(result.task_id[2:]), result.output)
    assert dev_chain.certificate_digest_bytes(1_760_000_000, message_hash) == signed
    assert dev_chain.verify_ecdsa(
        keccak256(signed), result.result_signature, OPERATOR_ECDSA_ADDRESS
    )
    assert dev_chain.verify_ecdsa(
        auth_digest(result, OPERATOR), result.auth_signature, OPERATOR_ECDSA_ADDRESS
    )


async def test_an_ecdsa_aggregator_is_accepted_from_the_block_its_set_took_over(
    client: ExecutorClient, dev_chain: DevChain
) -> None:
    registrar = dev_chain.avs_registrar(AVS)
    before = dev_chain.node.block_number()
    dev_chain.set_avs_config(registrar, ECDSA_AGGREGATOR_SET, [BN254_SET, ECDSA_SET])
    result = await client.submit_task(
        submission(dev_chain, 9, aggregator=ECDSA_AGGREGATOR), timeout=10
    )
    assert_bn254_result_verifies_on_chain(dev_chain, result)
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # at the older block it had no key
        await client.submit_task(
            submission(dev_chain, 10, aggregator=ECDSA_AGGREGATOR, block=before), timeout=10
        )
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("wrong executor", grpc.StatusCode.PERMISSION_DENIED, "executor_address"),
        ("tampered payload", grpc.StatusCode.UNAUTHENTICATED, "signature"),
        ("block before membership", grpc.StatusCode.PERMISSION_DENIED, "operator_set_id"),
        ("not a member", grpc.StatusCode.PERMISSION_DENIED, "operator_set_id"),
        ("unknown curve", grpc.StatusCode.FAILED_PRECONDITION, "no key curve"),
        ("version 2", grpc.StatusCode.INVALID_ARGUMENT, "version"),
        ("short task id", grpc.StatusCode.INVALID_ARGUMENT, "task_id"),
        ("unknown avs", grpc.StatusCode.NOT_FOUND, "AVS"),
    ],
)
async def test_a_bad_submission_gets_its_status_and_nothing_runs(
    client: ExecutorClient, dev_chain: DevChain, case: str, code: grpc.StatusCode, field: str
) -> None:
    request = {
        "wrong executor": lambda: submission(dev_chain, 20),
        "tampered payload": lambda: submission(dev_chain, 21, signed_payload=b"other"),
        "block before membership": lambda: submission(dev_chain, 22, block=1),
        "not a member": lambda: submission(dev_chain, 23, operator_set_id=9),
        "unknown curve": lambda: submission(dev_chain, 24, operator_set_id=UNCONFIGURED_SET),
        "version 2": lambda: submission(dev_chain, 25, version=2),
        "short task id": lambda: submission(dev_chain, 26),
        "unknown avs": lambda: submission(dev_chain, 27),
    }[case]()
    if case == "wrong executor":
        request.executor_address = "0x" + "12" * 20
    if case == "short task id":
        request.task_id = "0x1234"
    if case == "unknown avs":
        request.avs_address = "0x" + "ee" * 20
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.submit_task(request, timeout=10)
    assert refused.value.code() is code
    assert field in (refused.value.details() or "")
    assert "Traceback" not in (refused.value.details() or "")


async def test_a_g1_submission_to_this_avs_is_served_by_g1_rules_beside_g2(
    client: ExecutorClient,
) -> None:
    payload = (5).to_bytes(32, "big")
    request = pb.TaskSubmission(
        task_id="0x" + "55" * 32,
        aggregator_address=BN254_AGGREGATOR.address,
        avs_address=AVS,
        payload=payload,
        signature=bn254.sign(KEYS["ponos-aggregator"], payload),
    )
    result = await client.submit_task(request, timeout=10)
    assert result.version == 0
    assert bn254.verify_solidity(
        OPERATOR_BN254.public_key_g2, keccak256(result.output), result.result_signature
    )


async def test_a_duplicate_task_gets_the_same_bytes_and_the_performer_runs_once(
    client: ExecutorClient, g2_app: ExecutorApp, dev_chain: DevChain
) -> None:
    runs: list[object] = []
    g2_app.executor.subscribe(
        lambda event: runs.append(event) if isinstance(event, TaskCompleted) else None
    )
    request = submission(dev_chain, 30)
    first, second = await asyncio.gather(
        client.submit_task(request, timeout=10), client.submit_task(request, timeout=10)
    )
    third = await client.submit_task(request, timeout=10)
    assert bytes(first) == bytes(second) == bytes(third)
    assert len(runs) == 1  # the performer ran the task once
    assert_bn254_result_verifies_on_chain(dev_chain, first)


async def test_an_unreachable_chain_endpoint_is_unavailable_within_the_deadline(
    client: ExecutorClient, dev_chain: DevChain
) -> None:
    block = dev_chain.node.mine()  # a block nothing has read yet: the cache cannot answer
    request = submission(dev_chain, 40, block=block)
    started = time.monotonic()
    with dev_chain.node.paused(), pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.submit_task(request, timeout=4)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < 3.5
    result = await client.submit_task(request, timeout=10)  # and once it is back, it serves
    assert_bn254_result_verifies_on_chain(dev_chain, result)
