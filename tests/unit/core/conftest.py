"""An Executor wired to the in-memory adapters, as users build one in their own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from executor_adapters.memory import (
    FakeClock,
    FakeResultSigner,
    FakeTaskSignatureVerifier,
    InMemoryAggregatorKeys,
    InMemoryContainerRuntime,
    ScriptedPerformerConnector,
    SequentialIds,
    fake_task_signature,
)
from executor_core.addresses import Address, AvsAddress
from executor_core.executor import Executor, NewAvsPolicy
from executor_core.performer_instance import PerformerDeps
from executor_core.performers import PerformerImage
from executor_core.settings import AvsSettings, DeploymentPolicy, HealthPolicy
from executor_core.signature_batches import SignatureBatcher
from executor_core.task_auth import TaskAuthenticator

AVS = AvsAddress.parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")
OTHER_AVS = AvsAddress.parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc")
OPERATOR = "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
IMAGE = PerformerImage("hourglass-example-performer", tag="latest")
FAST_POLICY = DeploymentPolicy(
    deployment_timeout=2,
    pull_timeout=2,
    probation_period=0,
    drain_timeout=2,
    max_recreations=3,
    recreate_initial_delay=0.01,
    recreate_max_delay=0.05,
)
AGGREGATOR = Address.parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906")
AGGREGATOR_KEY = bytes(range(128))


def aggregator_signature(payload: bytes) -> bytes:
    """What the test aggregator signs a payload with (see FakeTaskSignatureVerifier)."""
    return fake_task_signature(AGGREGATOR_KEY, payload)


def square(task_id: bytes, payload: bytes) -> bytes:
    n = int.from_bytes(payload, "big")
    return (n * n % 2**256).to_bytes(32, "big")


class Harness:
    """Builds executors on fakes; tests adjust the pieces before calling `build`."""

    def __init__(self) -> None:
        self.runtime = InMemoryContainerRuntime()
        self.handler: Callable[[bytes, bytes], Awaitable[bytes] | bytes] = square
        self.connector = ScriptedPerformerConnector(self._dispatch)
        self.signer = FakeResultSigner()
        self.clock = FakeClock()
        self.ids = SequentialIds()
        self.aggregator_keys = InMemoryAggregatorKeys(default={AGGREGATOR: [AGGREGATOR_KEY]})
        self.verifier = FakeTaskSignatureVerifier()
        self.executors: list[Executor] = []

    async def _dispatch(self, task_id: bytes, payload: bytes) -> bytes:
        result = self.handler(task_id, payload)
        if isinstance(result, bytes):
            return result
        return await result

    def settings(self, avs: AvsAddress = AVS, **overrides: Any) -> AvsSettings:
        values: dict[str, Any] = {
            "avs_address": avs,
            "image": IMAGE,
            "worker_count": 2,
            "queue_size": 2,
            "health": HealthPolicy(check_interval=0.05, timeout=0.5, startup_timeout=2),
            "verify_aggregator_signature": False,
        }
        values.update(overrides)
        return AvsSettings(**values)

    def build(
        self,
        *settings: AvsSettings,
        network: str | None = None,
        timeout: float = 5,
        policy: DeploymentPolicy = FAST_POLICY,
        new_avs: NewAvsPolicy | None = None,
    ) -> Executor:
        chosen = settings or (self.settings(),)
        executor = Executor(
            operator_address=OPERATOR,
            avs_settings=chosen,
            signers={s.avs_address: self.signer for s in chosen},
            deps=PerformerDeps(
                runtime=self.runtime,
                connector=self.connector,
                clock=self.clock,
                ids=self.ids,
                instance_id="test-instance",
                network=network,
                stop_grace=0,
                policy=policy,
            ),
            new_avs=new_avs,
            authenticator=TaskAuthenticator(
                self.aggregator_keys, SignatureBatcher(self.verifier, self.clock, workers=2)
            ),
            default_task_timeout=timeout,
        )
        self.executors.append(executor)
        return executor


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    for executor in h.executors:
        await executor.shutdown(0)
