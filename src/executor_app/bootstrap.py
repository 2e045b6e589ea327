"""The composition root: picks the adapters and wires them into the core.

Every port can be replaced by keyword, which is how the tests (and users' own tests) run the
real executor on in-memory fakes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from executor_adapters.config import ExecutorConfig
from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.grpc.performer_client import GrpcioPerformerConnector
from executor_adapters.grpc.server import ExecutorServer
from executor_adapters.peering.simulated import (
    AggregatorPeer,
    PeersFileError,
    SimulatedAggregatorKeys,
)
from executor_adapters.signing import load_bn254_signer
from executor_adapters.signing.task_verifier import Bn254TaskSignatureVerifier
from executor_adapters.system import SystemClock, UuidIdSource
from executor_core.addresses import AvsAddress
from executor_core.avs_performer import PerformerDeps
from executor_core.errors import ExecutorError
from executor_core.executor import Executor
from executor_core.ports import (
    AggregatorKeys,
    Clock,
    ContainerRuntime,
    IdSource,
    PerformerConnector,
    ResultSigner,
    TaskSignatureVerifier,
)
from executor_core.settings import AvsSettings, HealthPolicy
from executor_core.task_auth import TaskAuthenticator


class StartupError(ExecutorError):
    """The executor cannot start with this configuration."""


class ExecutorApp:
    """A built executor: the core, its gRPC server and the adapters it must close."""

    def __init__(
        self,
        *,
        config: ExecutorConfig,
        executor: Executor,
        server: ExecutorServer,
        runtime: ContainerRuntime,
        instance_id: str,
    ) -> None:
        self.config = config
        self.executor = executor
        self.server = server
        self.runtime = runtime
        self.instance_id = instance_id
        self.port: int | None = None

    async def start(self) -> int:
        """Start the performers, then serve; return the gRPC port."""
        await self.executor.start()
        try:
            self.port = await self.server.start()
        except BaseException:
            await self.executor.shutdown(0)
            raise
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        """Stop serving and remove every container, letting running tasks finish within grace."""
        grace = self.config.shutdown_grace_period if grace is None else grace
        try:
            await asyncio.gather(self.server.stop(grace), self.executor.shutdown(grace))
        finally:
            await self.runtime.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def avs_settings(config: ExecutorConfig) -> list[AvsSettings]:
    """Translate the configured performers into the core's settings."""
    return [
        AvsSettings(
            avs_address=entry.avs_address,
            image=entry.image,
            worker_count=entry.worker_count,
            queue_size=entry.task_queue_size,
            health=HealthPolicy(
                check_interval=entry.health.check_interval,
                timeout=entry.health.timeout,
            ),
            verify_aggregator_signature=entry.verify_aggregator_signature,
        )
        for entry in config.avs_performers
    ]


async def load_signers(config: ExecutorConfig) -> dict[AvsAddress, ResultSigner]:
    """Decrypt the operator's keys once and give each AVS the signer of its curve."""
    bls = config.operator.signing_keys.bls
    unsupported = [
        f"avsPerformers[{i}].signingCurve: {entry.signing_curve} signing is not supported yet"
        for i, entry in enumerate(config.avs_performers)
        if entry.signing_curve != "bn254"
    ]
    if unsupported:
        raise StartupError("; ".join(unsupported))
    signer = await load_bn254_signer(bls.keystore, bls.password, source=bls.source)
    return {entry.avs_address: signer for entry in config.avs_performers}


def simulated_aggregator_keys(config: ExecutorConfig) -> SimulatedAggregatorKeys:
    """Aggregator keys from `simulation.simulatePeering` and its peers file."""
    peering = config.simulation.simulate_peering
    peers = [
        AggregatorPeer(p.operator_address, p.public_key, p.operator_set_id)
        for p in peering.aggregator_peers
    ]
    peers_file = Path(peering.aggregator_peers_file) if peering.aggregator_peers_file else None
    try:
        return SimulatedAggregatorKeys(peers if peering.enabled else [], peers_file=peers_file)
    except (OSError, PeersFileError) as exc:
        raise StartupError(f"simulation.simulatePeering.aggregatorPeersFile: {exc}") from exc


async def build_executor(
    config: ExecutorConfig,
    *,
    runtime: ContainerRuntime | None = None,
    connector: PerformerConnector | None = None,
    signers: Mapping[AvsAddress, ResultSigner] | None = None,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    aggregator_keys: AggregatorKeys | None = None,
    task_verifier: TaskSignatureVerifier | None = None,
    host: str = "0.0.0.0",
    port: int | None = None,
) -> ExecutorApp:
    """Build the executor from its config; any port given by keyword replaces the real adapter."""
    ids = ids or UuidIdSource()
    instance_id = ids.new_id()
    runtime = runtime or AiodockerContainerRuntime()
    deps = PerformerDeps(
        runtime=runtime,
        connector=connector or GrpcioPerformerConnector(max_message_size=config.max_message_size),
        clock=clock or SystemClock(),
        ids=ids,
        instance_id=instance_id,
        network=config.performer_network_name or None,
    )
    executor = Executor(
        operator_address=config.operator.address.value,
        avs_settings=avs_settings(config),
        signers=signers if signers is not None else await load_signers(config),
        deps=deps,
        authenticator=TaskAuthenticator(
            aggregator_keys or simulated_aggregator_keys(config),
            task_verifier or Bn254TaskSignatureVerifier(),
        ),
        default_task_timeout=config.task_timeout,
    )
    server = ExecutorServer(
        executor,
        host=host,
        port=config.grpc_port if port is None else port,
        max_message_size=config.max_message_size,
    )
    return ExecutorApp(
        config=config, executor=executor, server=server, runtime=runtime, instance_id=instance_id
    )
