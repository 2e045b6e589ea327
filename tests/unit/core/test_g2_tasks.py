"""Second-generation tasks through the core, with real keys and an in-memory chain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from executor_adapters.config import SigningCurve
from executor_adapters.config.schema import L1ChainConfig
from executor_adapters.memory import InMemoryChain
from executor_adapters.signing import Bn254ResultSigner, EcdsaResultSigner
from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.ecdsa import curve as ecdsa
from executor_adapters.signing.keccak import Keccak256Hasher, keccak256
from executor_adapters.storage import SqliteProcessedTasks, StateDatabase
from executor_app.bootstrap import build_core
from executor_core import certificates
from executor_core.addresses import Address, AvsAddress
from executor_core.errors import (
    AvsNotFound,
    ChainUnavailable,
    InvalidArgument,
    InvalidTaskSignature,
    NotForThisOperator,
    NotInOperatorSet,
    OperatorSetNotConfigured,
    OutputTooLarge,
    TaskAlreadyProcessed,
    UnknownAggregator,
)
from executor_core.executor import Executor
from executor_core.g2_rules import eip55
from executor_core.ports import KeyCurve, OperatorSet, ProcessedTasks
from executor_core.tasks import G2Envelope, Task, TaskId, TaskResult
from tests.unit.core.conftest import AVS, FAST_POLICY, OPERATOR, Harness, executor_config

HASHER = Keccak256Hasher()
OPERATOR_ADDRESS = Address.parse(OPERATOR)
AGGREGATOR = Address.parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906")
AGGREGATOR_SK = 0x2A2A2A
AGGREGATOR_ECDSA_SK = (0x77).to_bytes(32, "big")
AGGREGATOR_ECDSA_ADDRESS = Address.parse(ecdsa.address_of(AGGREGATOR_ECDSA_SK))
OPERATOR_BN254 = Bn254ResultSigner((0x1234567).to_bytes(32, "big"))
OPERATOR_ECDSA = EcdsaResultSigner((0x55).to_bytes(32, "big"))
AGGREGATOR_SET, EXECUTOR_SET, ECDSA_SET = 0, 1, 2
BLOCK = 10
TASK_ID = "0x" + "ab" * 32


class G2Harness(Harness):
    def __init__(self) -> None:
        super().__init__()
        self.chain = InMemoryChain(
            domain_separator=certificates.ecdsa_domain_separator(
                HASHER, Address.parse("0xb3cd1a457dea9a9a6f6406c6419b1c326670a96f")
            )
        )
        self.runs = 0
        self.handler = self._count_and_reverse

    def _count_and_reverse(self, task_id: bytes, payload: bytes) -> bytes:
        self.runs += 1
        return payload[::-1]

    def build_g2(
        self, *, accept_g1: bool | None = None, processed_tasks: ProcessedTasks | None = None
    ) -> Executor:
        config = executor_config(
            (self.settings(verify_aggregator_signature=True),),
            network=None,
            timeout=5,
            policy=FAST_POLICY,
        )
        entries = tuple(attrs.evolve(e, accept_g1_tasks=accept_g1) for e in config.avs_performers)
        config = attrs.evolve(
            config,
            avs_performers=entries,
            l1_chain=L1ChainConfig(rpc_url="http://127.0.0.1:1"),
        )
        executor = build_core(
            config,
            signers={SigningCurve.BN254: OPERATOR_BN254, SigningCurve.ECDSA: OPERATOR_ECDSA},
            runtime=self.runtime,
            connector=self.connector,
            clock=self.clock,
            ids=self.ids,
            chain=self.chain,
            processed_tasks=processed_tasks,
            instance_id="test-instance",
            stop_grace=0,
        )
        self.executors.append(executor)
        return executor

    def set_up_chain(self) -> None:
        chain = self.chain
        chain.set_avs_config(AVS, AGGREGATOR_SET, [EXECUTOR_SET, ECDSA_SET], from_block=1)
        aggregators = OperatorSet(AVS, AGGREGATOR_SET)
        chain.set_curve(aggregators, KeyCurve.BN254, from_block=1)
        chain.set_bn254_key(
            aggregators, AGGREGATOR, bn254.public_key_g2(AGGREGATOR_SK), from_block=1
        )
        chain.set_curve(OperatorSet(AVS, EXECUTOR_SET), KeyCurve.BN254, from_block=1)
        chain.add_member(OperatorSet(AVS, EXECUTOR_SET), OPERATOR_ADDRESS, from_block=5)
        chain.set_curve(OperatorSet(AVS, ECDSA_SET), KeyCurve.ECDSA, from_block=1)
        chain.add_member(OperatorSet(AVS, ECDSA_SET), OPERATOR_ADDRESS, from_block=5)
        chain.block_number = 20


def g2_task(
    payload: bytes = b"hello",
    *,
    task_id: str = TASK_ID,
    operator_set_id: int = EXECUTOR_SET,
    block: int = BLOCK,
    executor: Address = OPERATOR_ADDRESS,
    signed_payload: bytes | None = None,
    aggregator: Address = AGGREGATOR,
    ecdsa_key: bytes | None = None,
) -> Task:
    """A submission as a Ponos aggregator signs it: over keccak256 of the 224-byte message."""
    message = certificates.submission_message(
        HASHER,
        task_hash=bytes.fromhex(task_id[2:]),
        avs=AVS,
        executor=executor,
        operator_set_id=operator_set_id,
        reference_timestamp=1_700_000_000,
        task_block_number=block,
        payload=payload if signed_payload is None else signed_payload,
    )
    digest = keccak256(message)
    if ecdsa_key is None:
        signature = bn254.sign(AGGREGATOR_SK, digest)
    else:
        signature = ecdsa.sign_hash(ecdsa_key, digest)
    return Task(
        task_id=TaskId(task_id),
        avs_address=AVS,
        payload=payload,
        aggregator_address=aggregator,
        aggregator_signature=signature,
        envelope=G2Envelope(
            operator_set_id=operator_set_id,
            reference_timestamp=1_700_000_000,
            executor_address=executor,
            task_block_number=block,
        ),
    )


@pytest.fixture
async def g2() -> AsyncIterator[G2Harness]:
    h = G2Harness()
    h.set_up_chain()
    yield h
    for executor in h.executors:
        await executor.shutdown(0)


async def started(h: G2Harness, **kwargs: bool | None) -> Executor:
    executor = h.build_g2(**kwargs)  # type: ignore[arg-type]
    await executor.start()
    return executor


def message_hash(result: TaskResult) -> bytes:
    return certificates.message_hash(HASHER, bytes.fromhex(TASK_ID[2:]), result.output)


def auth_digest(result: TaskResult) -> bytes:
    return keccak256(
        certificates.auth_bytes(
            HASHER,
            task_hash=bytes.fromhex(TASK_ID[2:]),
            avs=AVS,
            operator=OPERATOR_ADDRESS,
            operator_set_id=result.operator_set_id,
            result_signature=result.signature,
        )
    )


async def test_a_bn254_task_gets_a_certificate_digest_signature_and_an_auth_signature(
    g2: G2Harness,
) -> None:
    executor = await started(g2)
    result = await executor.submit_task(g2_task(b"hello"), timeout=5)
    assert (result.output, result.version, result.operator_set_id) == (b"olleh", 1, EXECUTOR_SET)
    assert result.avs_address == AVS.value
    digest = certificates.bn254_certificate_digest(HASHER, 1_700_000_000, message_hash(result))
    assert bn254.verify_solidity(OPERATOR_BN254.public_key_g2, digest, result.signature)
    assert bn254.verify(OPERATOR_BN254.public_key_g2, auth_digest(result), result.auth_signature)


async def test_an_ecdsa_operator_set_gets_ecdsa_signatures_with_the_verifiers_domain(
    g2: G2Harness,
) -> None:
    executor = await started(g2)
    result = await executor.submit_task(g2_task(operator_set_id=ECDSA_SET), timeout=5)
    separator = await g2.chain.ecdsa_domain_separator()
    signed = certificates.ecdsa_certificate_digest_bytes(
        HASHER, 1_700_000_000, message_hash(result), separator
    )
    assert len(signed) == 66
    assert len(result.signature) == 65
    assert ecdsa.recover_address(keccak256(signed), result.signature) == OPERATOR_ECDSA.address
    assert ecdsa.recover_address(auth_digest(result), result.auth_signature) == (
        OPERATOR_ECDSA.address
    )


async def test_an_ecdsa_aggregator_is_checked_by_address_recovery(g2: G2Harness) -> None:
    aggregators = OperatorSet(AVS, 7)
    g2.chain.set_avs_config(AVS, 7, [EXECUTOR_SET], from_block=8)
    g2.chain.set_curve(aggregators, KeyCurve.ECDSA, from_block=8)
    g2.chain.set_ecdsa_address(aggregators, AGGREGATOR, AGGREGATOR_ECDSA_ADDRESS, from_block=8)
    executor = await started(g2)
    result = await executor.submit_task(g2_task(ecdsa_key=AGGREGATOR_ECDSA_SK), timeout=5)
    assert result.output == b"olleh"
    with pytest.raises(InvalidTaskSignature, match="signature"):
        await executor.submit_task(
            g2_task(task_id="0x" + "cd" * 32, ecdsa_key=(0x78).to_bytes(32, "big")), timeout=5
        )


async def test_a_task_for_another_executor_is_refused_before_any_chain_read(
    g2: G2Harness,
) -> None:
    executor = await started(g2)
    other = Address.parse("0x" + "99" * 20)
    with pytest.raises(NotForThisOperator, match="executor_address"):
        await executor.submit_task(g2_task(executor=other), timeout=5)
    assert g2.chain.total_calls == 0
    assert g2.runs == 0


async def test_a_tampered_payload_fails_the_aggregator_signature(g2: G2Harness) -> None:
    executor = await started(g2)
    with pytest.raises(InvalidTaskSignature, match="signature: does not verify"):
        await executor.submit_task(g2_task(b"hello", signed_payload=b"hellO"), timeout=5)
    assert g2.runs == 0


async def test_membership_is_checked_at_the_tasks_block(g2: G2Harness) -> None:
    executor = await started(g2)
    with pytest.raises(NotInOperatorSet, match="at block 4"):
        await executor.submit_task(g2_task(block=4), timeout=5)
    other_set = OperatorSet(AVS, 9)
    g2.chain.set_curve(other_set, KeyCurve.BN254, from_block=1)
    with pytest.raises(NotInOperatorSet, match="operator set 9"):
        await executor.submit_task(g2_task(operator_set_id=9), timeout=5)
    assert g2.runs == 0


async def test_an_aggregator_without_a_key_in_the_aggregator_set_is_refused(
    g2: G2Harness,
) -> None:
    executor = await started(g2)
    stranger = Address.parse("0x" + "42" * 20)
    with pytest.raises(UnknownAggregator, match="aggregator_address"):
        await executor.submit_task(g2_task(aggregator=stranger), timeout=5)


async def test_an_operator_set_without_a_curve_cannot_be_served(g2: G2Harness) -> None:
    unconfigured = OperatorSet(AVS, 3)
    g2.chain.add_member(unconfigured, OPERATOR_ADDRESS, from_block=5)
    executor = await started(g2)
    with pytest.raises(OperatorSetNotConfigured, match="no key curve"):
        await executor.submit_task(g2_task(operator_set_id=3), timeout=5)
    assert g2.runs == 0


async def test_a_g1_task_to_a_g2_only_avs_is_refused_naming_the_version(g2: G2Harness) -> None:
    executor = await started(g2)
    g1 = Task(task_id=TaskId("0x01"), avs_address=AVS, payload=b"x")
    with pytest.raises(InvalidArgument) as refused:
        await executor.submit_task(g1, timeout=5)
    assert refused.value.field == "version"
    assert g2.runs == 0


async def test_a_g2_config_serves_g1_tasks_when_it_says_so(g2: G2Harness) -> None:
    g2.aggregator_keys.default = {}
    executor = await started(g2, accept_g1=True)
    g1 = Task(task_id=TaskId("0x01"), avs_address=AVS, payload=b"x")
    with pytest.raises(UnknownAggregator):  # admitted as G1, then checked by G1's rules
        await executor.submit_task(attrs.evolve(g1, aggregator_address=AGGREGATOR), timeout=5)


async def test_a_repeated_task_gets_the_same_result_and_the_performer_runs_once(
    g2: G2Harness,
) -> None:
    executor = await started(g2)
    first = await executor.submit_task(g2_task(), timeout=5)
    again = await executor.submit_task(g2_task(), timeout=5)
    assert again == first
    assert g2.runs == 1


async def test_a_task_repeated_after_a_restart_gets_the_same_bytes_from_the_database(
    g2: G2Harness, tmp_path: Path
) -> None:
    database = await StateDatabase.open(tmp_path)
    try:
        results = []
        for _ in range(2):  # the second executor is the first one restarted on the same file
            store = SqliteProcessedTasks(
                database, g2.clock, retention=3600, max_entries=100, max_bytes=10**6
            )
            executor = g2.build_g2(processed_tasks=store)
            await executor.start()
            results.append(await executor.submit_task(g2_task(), timeout=5))
            await executor.shutdown(0)
        assert results[0] == results[1]
        assert g2.runs == 1
    finally:
        await database.aclose()


async def test_a_repeat_that_arrives_while_the_first_runs_waits_for_its_result(
    g2: G2Harness,
) -> None:
    release = asyncio.Event()

    async def slow(task_id: bytes, payload: bytes) -> bytes:
        g2.runs += 1
        await release.wait()
        return b"done"

    g2.handler = slow
    executor = await started(g2)
    first = asyncio.create_task(executor.submit_task(g2_task(), timeout=5))
    second = asyncio.create_task(executor.submit_task(g2_task(), timeout=5))
    await asyncio.sleep(0.05)
    release.set()
    assert (await first) == (await second)
    assert g2.runs == 1


async def test_a_failed_run_is_not_kept_and_the_next_repeat_runs_again(g2: G2Harness) -> None:
    executor = await started(g2)
    g2.chain.unavailable = True
    with pytest.raises(ChainUnavailable):
        await executor.submit_task(g2_task(), timeout=5)
    g2.chain.unavailable = False
    result = await executor.submit_task(g2_task(), timeout=5)
    assert result.output == b"olleh"


async def test_a_different_request_reusing_a_processed_task_id_is_refused(
    g2: G2Harness,
) -> None:
    executor = await started(g2)
    await executor.submit_task(g2_task(b"one"), timeout=5)
    with pytest.raises(TaskAlreadyProcessed, match="task_id"):
        await executor.submit_task(g2_task(b"two"), timeout=5)


async def test_an_output_the_aggregator_would_drop_is_not_signed(g2: G2Harness) -> None:
    g2.handler = lambda task_id, payload: b"\0" * certificates.MAX_AGGREGATED_OUTPUT
    executor = await started(g2)
    with pytest.raises(OutputTooLarge, match="1572864 bytes"):
        await executor.submit_task(g2_task(), timeout=5)


async def test_an_unknown_avs_is_not_found_before_any_chain_read(g2: G2Harness) -> None:
    executor = await started(g2)
    task = attrs.evolve(g2_task(), avs_address=AvsAddress.parse("0x" + "01" * 20))
    with pytest.raises(AvsNotFound):
        await executor.submit_task(task, timeout=5)
    assert g2.chain.total_calls == 0


async def test_a_g2_task_without_a_chain_in_the_config_is_refused_naming_the_version(
    harness: Harness,
) -> None:
    executor = harness.build()
    await executor.start()
    with pytest.raises(InvalidArgument) as refused:
        await executor.submit_task(g2_task(), timeout=5)
    assert refused.value.field == "version"


async def test_the_result_names_the_operator_as_go_ethereum_writes_it(g2: G2Harness) -> None:
    executor = await started(g2)
    result = await executor.submit_task(g2_task(), timeout=5)
    assert result.operator_address == "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"


def test_eip55_matches_the_eips_own_examples() -> None:
    for spelled in (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ):
        assert eip55(HASHER, Address.parse(spelled)) == spelled
