"""An Executor wired to the in-memory adapters, as users build one in their own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs
import pytest

from executor_adapters.config import (
    AvsPerformerConfig,
    DeploymentConfig,
    EcdsaKeyConfig,
    EnvVarConfig,
    ExecutorConfig,
    HealthCheckConfig,
    ManagementConfig,
    OperatorConfig,
    RecreateConfig,
    SigningCurve,
    SigningKeysConfig,
)
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
from executor_app.bootstrap import build_core
from executor_core.addresses import Address, AvsAddress
from executor_core.executor import Executor
from executor_core.performers import PerformerImage
from executor_core.ports import DeploymentStore, ResultSigner
from executor_core.settings import AvsSettings, DeploymentPolicy, HealthPolicy
from executor_core.tasks import Task, TaskId

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


def make_task(
    task_id: str,
    avs: str = AVS.value,
    payload: bytes = b"",
    *,
    aggregator_address: str = "",
    signature: bytes = b"",
) -> Task:
    """A task as the gRPC adapter hands one to the core."""
    return Task(
        task_id=TaskId(task_id),
        avs_address=AvsAddress.parse(avs),
        payload=payload,
        aggregator_address=Address.parse(aggregator_address) if aggregator_address else None,
        aggregator_signature=signature,
        avs_address_as_sent=avs,
    )


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
        self.signer_curves: set[SigningCurve] = set(SigningCurve)
        """Curves the operator has keys for; AVSs added by DeployArtifact need BN254."""
        self.environ: dict[str, str] = {}
        """The executor's environment, which DeployArtifact's `value_from_env` copies from."""

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
        management: ManagementConfig | None = None,
        authentication: bool = False,
        signers: Mapping[SigningCurve, ResultSigner] | None = None,
        deployments: DeploymentStore | None = None,
    ) -> Executor:
        """The executor as the app builds it (`build_core`), from a config made of the pieces."""
        chosen = settings or (self.settings(),)
        config = executor_config(chosen, network=network, timeout=timeout, policy=policy)
        if management is not None:
            config = attrs.evolve(config, management=management)
        config = attrs.evolve(config, authentication_enabled=authentication)
        executor = build_core(
            config,
            signers=dict.fromkeys(self.signer_curves, self.signer) if signers is None else signers,
            runtime=self.runtime,
            connector=self.connector,
            clock=self.clock,
            ids=self.ids,
            aggregator_keys=self.aggregator_keys,
            task_verifier=self.verifier,
            instance_id="test-instance",
            deployments=deployments,
            stop_grace=0,
            environ=self.environ,
        )
        self.executors.append(executor)
        return executor


def executor_config(
    avs: Sequence[AvsSettings], *, network: str | None, timeout: float, policy: DeploymentPolicy
) -> ExecutorConfig:
    """The config that gives the core these settings (the inverse of `bootstrap.avs_settings`)."""
    return ExecutorConfig(
        operator=OperatorConfig(
            address=Address.parse(OPERATOR),
            signing_keys=SigningKeysConfig(
                ecdsa=EcdsaKeyConfig(source="test", private_key="11" * 32)
            ),
        ),
        avs_performers=tuple(
            AvsPerformerConfig(
                avs_address=s.avs_address,
                image=s.image,
                signing_curve=SigningCurve.ECDSA,
                worker_count=s.worker_count,
                task_queue_size=s.queue_size,
                health=HealthCheckConfig(
                    check_interval=s.health.check_interval,
                    timeout=s.health.timeout,
                    failure_threshold=s.health.failure_threshold,
                ),
                verify_aggregator_signature=s.verify_aggregator_signature,
                envs=tuple(EnvVarConfig(name=name, value=value) for name, value in s.env),
            )
            for s in avs
        ),
        performer_network_name=network or "",
        task_timeout=timeout,
        deployment=DeploymentConfig(
            timeout=policy.deployment_timeout,
            pull_timeout=policy.pull_timeout,
            probation_period=policy.probation_period,
            drain_timeout=policy.drain_timeout,
            recreate=RecreateConfig(
                max_attempts=policy.max_recreations,
                initial_delay=policy.recreate_initial_delay,
                max_delay=policy.recreate_max_delay,
            ),
        ),
    )


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    for executor in h.executors:
        await executor.shutdown(0)
