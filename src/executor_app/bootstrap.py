"""The composition root: picks the adapters and wires them into the core.

Every port can be replaced by keyword, which is how the tests (and users' own tests) run the
real executor on in-memory fakes. Performers run on Docker, or on Kubernetes when the config's
entries say `deploymentMode: kubernetes`; the Kubernetes adapter is imported only then, since
loading its client takes about 1.5 s and 38 MB.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import attrs

from executor_adapters.chain import JsonRpcChainReader
from executor_adapters.chain.availability import ChainAvailability
from executor_adapters.chain.contracts import ChainConfigError
from executor_adapters.config import (
    AvsPerformerConfig,
    ExecutorConfig,
    KubernetesConfig,
    PerformerKubernetesConfig,
)
from executor_adapters.config.schema import KUBERNETES
from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.event_log import EventLog
from executor_adapters.grpc.executor_service import KubernetesDeploys
from executor_adapters.grpc.performer_client import GrpcioPerformerConnector
from executor_adapters.grpc.server import ExecutorServer
from executor_adapters.http import NodeApiServer
from executor_adapters.metrics import ExecutorMetrics
from executor_adapters.peering.chain import ChainAggregatorKeys
from executor_adapters.peering.simulated import (
    AggregatorPeer,
    PeersFileError,
    SimulatedAggregatorKeys,
)
from executor_adapters.signing.bn254.task_verifier import Bn254TaskSignatureVerifier
from executor_adapters.signing.crypto_pool import crypto_workers
from executor_adapters.signing.ecdsa.task_verifier import EcdsaTaskSignatureVerifier
from executor_adapters.signing.keccak import Keccak256Hasher
from executor_adapters.storage import (
    InMemoryProcessedTasks,
    SqliteDeploymentStore,
    SqliteProcessedTasks,
    StateDatabase,
    StateDatabaseError,
)
from executor_adapters.system import SystemClock, UuidIdSource
from executor_app.management_keys import management_authenticator
from executor_app.signers import (
    NEW_AVS_CURVE,
    Signers,
    StartupError,
    load_signers,
    signer_for,
)
from executor_core.addresses import AvsAddress
from executor_core.errors import AvsNotFound, ChainUnavailable
from executor_core.events import EventHub
from executor_core.executor import Executor, NewAvsPolicy
from executor_core.g2_rules import G2Rules
from executor_core.live_performer import PerformerDeps
from executor_core.performers import ContainerHardening, PerformerImage
from executor_core.ports import (
    AggregatorKeys,
    ChainReader,
    Clock,
    ContainerRuntime,
    DeploymentStore,
    IdSource,
    KeyCurve,
    OperatorSigner,
    PerformerConnector,
    ProcessedTasks,
    ResultSigner,
    TaskSignatureVerifier,
)
from executor_core.settings import AvsSettings, DeploymentPolicy, HealthPolicy, ManagementPolicy
from executor_core.signature_batches import SignatureBatcher
from executor_core.task_auth import TaskAuthenticator
from executor_core.task_dedupe import TaskDeduplicator

if TYPE_CHECKING:
    from executor_adapters.kubernetes import ClusterSettings, PodSettings

log = logging.getLogger("executor_app")


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
        chain: JsonRpcChainReader | None = None,
        database: StateDatabase | None = None,
        node_api: NodeApiServer | None = None,
    ) -> None:
        self.config = config
        self.executor = executor
        self.server = server
        self.runtime = runtime
        self.instance_id = instance_id
        self.chain = chain
        self.database = database
        self.node_api = node_api
        self.port: int | None = None

    async def start(self) -> int:
        """Start the performers, then serve; return the gRPC port."""
        await self.executor.start()
        try:
            self.port = await self.server.start()
            if self.node_api is not None:
                await self.node_api.start()
        except BaseException:
            await self.server.stop(0)
            await self.executor.shutdown(0)
            raise
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        """Stop serving and remove every container, letting running tasks finish within grace."""
        grace = self.config.shutdown_grace_period if grace is None else grace
        if self.node_api is not None:
            await self.node_api.stop()
        try:
            await asyncio.gather(self.server.stop(grace), self.executor.shutdown(grace))
        finally:
            await self.runtime.aclose()
            if self.chain is not None:
                await self.chain.aclose()
            if self.database is not None:
                await self.database.aclose()

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
                startup_timeout=config.deployment.timeout,
                failure_threshold=entry.health.failure_threshold,
            ),
            verify_aggregator_signature=entry.verify_aggregator_signature,
            env=tuple((env.name, env.value) for env in entry.envs if env.kubernetes_env is None),
            env_references=tuple(
                env.kubernetes_env for env in entry.envs if env.kubernetes_env is not None
            ),
            accepts_g1=config.accepts_g1(entry),
            container=entry.container.hardening(),
            signing_curve=entry.signing_curve.value,
        )
        for entry in config.avs_performers
    ]


def pod_settings(block: PerformerKubernetesConfig) -> PodSettings:
    """An AVS's `kubernetes` block as the Kubernetes runtime's pod settings."""
    from executor_adapters.kubernetes import PodSettings

    return PodSettings(
        service_account_name=block.service_account_name,
        endpoint_override=block.endpoint_override,
        requests=dict(block.resources.requests),
        limits=dict(block.resources.limits),
        node_selector=dict(block.node_selector),
    )


def cluster_settings(config: ExecutorConfig) -> ClusterSettings:
    """The top-level `kubernetes` block, and each AVS's, as the Kubernetes runtime's settings;
    this imports the Kubernetes adapter."""
    from executor_adapters.kubernetes import ClusterSettings, PerformerReach

    cluster = config.kubernetes or KubernetesConfig()
    endpoint = cluster.performer_endpoint
    return ClusterSettings(
        namespace=cluster.namespace,
        kubeconfig_path=cluster.kube_config_path,
        in_cluster=cluster.in_cluster,
        connection_timeout=cluster.connection_timeout,
        reach=None if endpoint is None else PerformerReach(endpoint.value),
        pods={
            entry.avs_address.value.lower(): pod_settings(entry.kubernetes)
            for entry in config.avs_performers
            if entry.kubernetes is not None
        },
    )


def container_runtime(config: ExecutorConfig) -> ContainerRuntime:
    """The runtime of the config's deployment mode: Kubernetes (imported only then) or Docker.

    Neither connects before its first use."""
    if config.deployment_mode == KUBERNETES:
        from executor_adapters.kubernetes import KubernetesContainerRuntime

        return KubernetesContainerRuntime(cluster_settings(config))
    return AiodockerContainerRuntime(relay_image=config.performer_network_relay_image)


def kubernetes_deploys(config: ExecutorConfig) -> KubernetesDeploys | None:
    """What DeployArtifact may say about Kubernetes: nothing on Docker (None)."""
    if config.deployment_mode != KUBERNETES:
        return None
    return KubernetesDeploys(
        {
            entry.avs_address.value.lower(): _service_account(entry)
            for entry in config.avs_performers
        }
    )


def _service_account(entry: AvsPerformerConfig) -> str:
    return "" if entry.kubernetes is None else entry.kubernetes.service_account_name


def deployment_policy(config: ExecutorConfig) -> DeploymentPolicy:
    """Translate the `deployment` block into the core's policy."""
    deployment = config.deployment
    return DeploymentPolicy(
        deployment_timeout=deployment.timeout,
        pull_timeout=deployment.pull_timeout,
        probation_period=deployment.probation_period,
        drain_timeout=deployment.drain_timeout,
        max_recreations=deployment.recreate.max_attempts,
        recreate_initial_delay=deployment.recreate.initial_delay,
        recreate_max_delay=deployment.recreate.max_delay,
        engine_retry_max_delay=deployment.recreate.engine_retry_max_delay,
    )


def new_avs_policy(config: ExecutorConfig, signers: Signers) -> NewAvsPolicy:
    """What an AVS gets that DeployArtifact names but the config does not (as upstream, a slot
    of its own): one worker, default health checks, the hardened container defaults, the
    operator's BN254 signer, and the aggregator check whenever peers are configured. Without a
    BN254 key it is refused."""
    checked = config.simulation.simulate_peering.enabled or config.l1_chain is not None

    def settings_for(avs: AvsAddress, image: PerformerImage) -> tuple[AvsSettings, ResultSigner]:
        who = f"AVS {avs}, which the config does not name,"
        try:
            signer = signer_for(signers, NEW_AVS_CURVE, who)
        except StartupError as exc:
            raise AvsNotFound(str(exc)) from None
        settings = AvsSettings(
            avs_address=avs,
            image=image,
            health=HealthPolicy(startup_timeout=config.deployment.timeout),
            verify_aggregator_signature=checked,
            accepts_g1=config.accepts_g1(None),
            container=ContainerHardening(),  # the hardened defaults
            signing_curve=NEW_AVS_CURVE.value,
        )
        return settings, signer

    return settings_for


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


def operator_signers(signers: Signers) -> dict[KeyCurve, OperatorSigner]:
    """The signers that can sign second-generation results, by KeyRegistrar curve."""
    found: dict[KeyCurve, OperatorSigner] = {}
    for signer in signers.values():
        if isinstance(signer, OperatorSigner):
            found.setdefault(signer.curve, signer)
    return found


def build_core(
    config: ExecutorConfig,
    *,
    signers: Signers,
    runtime: ContainerRuntime,
    connector: PerformerConnector | None = None,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    aggregator_keys: AggregatorKeys | None = None,
    task_verifier: TaskSignatureVerifier | None = None,
    chain: ChainReader | None = None,
    processed_tasks: ProcessedTasks | None = None,
    instance_id: str | None = None,
    stop_grace: float = 10.0,
    environ: Mapping[str, str] | None = None,
    executor_name: str | None = None,
    deployments: DeploymentStore | None = None,
) -> Executor:
    """The core, wired from the config with no I/O of its own: the app builds it this way,
    and so do the tests (with fakes for any port).

    `signers` holds one signer per curve; each configured AVS takes its curve's for
    first-generation results, and second-generation results take the one of the curve
    KeyRegistrar gives the task's operator set. With `l1Chain` in the config, `chain` reads it.
    A DeployArtifact's `value_from_env` copies from `environ`, the process environment unless
    given, and only the variables `management.allowedValueFromEnv` lists.
    """
    ids = ids or UuidIdSource()
    events = EventHub()
    events.subscribe(EventLog())
    deps = PerformerDeps(
        runtime=runtime,
        connector=connector or GrpcioPerformerConnector(max_message_size=config.max_message_size),
        clock=clock or SystemClock(),
        ids=ids,
        instance_id=instance_id or ids.new_id(),
        executor_name=executor_name or config.executor_name(),
        network=config.performer_network_name or None,
        network_internal=config.performer_network_internal,
        stop_grace=stop_grace,
        policy=deployment_policy(config),
        events=events,
    )
    signatures = SignatureBatcher(
        task_verifier or Bn254TaskSignatureVerifier(),
        deps.clock,
        workers=crypto_workers(),
        events=events,
    )
    by_avs = {
        entry.avs_address: signer_for(signers, entry.signing_curve, f"AVS {entry.avs_address}")
        for entry in config.avs_performers
    }
    g2 = dedupe = None
    if config.l1_chain is not None:
        if chain is None:
            raise ValueError("the config has l1Chain: give the chain reader")
        g2 = G2Rules(
            operator=config.operator.address,
            chain=chain,
            hasher=Keccak256Hasher(),
            signers=operator_signers(signers),
            bn254_signatures=signatures,
            ecdsa_verifier=EcdsaTaskSignatureVerifier(),
        )
        bounds = config.deduplication
        dedupe = TaskDeduplicator(
            processed_tasks
            or InMemoryProcessedTasks(
                deps.clock,
                retention=bounds.retention,
                max_entries=bounds.max_entries,
                max_bytes=bounds.max_bytes,
            )
        )
    if aggregator_keys is None:
        if chain is not None and not config.simulation.simulate_peering.enabled:
            aggregator_keys = ChainAggregatorKeys(chain, clock=deps.clock)
        else:
            aggregator_keys = simulated_aggregator_keys(config)
    return Executor(
        operator_address=config.operator.address.value,
        avs_settings=avs_settings(config),
        signers=by_avs,
        new_avs=new_avs_policy(config, signers),
        deps=deps,
        authenticator=TaskAuthenticator(aggregator_keys, signatures),
        default_task_timeout=config.task_timeout,
        g2=g2,
        dedupe=dedupe,
        management=ManagementPolicy(
            max_unlisted_avs=config.management.max_unlisted_avs,
            allowed_repositories=config.management.allowed_registries,
            allowed_value_from_env=config.management.allowed_value_from_env,
        ),
        environment=os.environ if environ is None else environ,
        deployments=deployments,
        management_auth=management_authenticator(config, signers, clock=deps.clock, events=events),
    )


async def open_chain(config: ExecutorConfig) -> JsonRpcChainReader | None:
    """Connect to `l1Chain.rpcUrl` when the config has one; a StartupError says why not."""
    chain = config.l1_chain
    if chain is None:
        return None
    overrides = {
        name: address
        for name, address in attrs.asdict(chain.contracts, recurse=False).items()
        if address is not None
    }
    try:
        return await JsonRpcChainReader.open(
            chain.rpc_url,
            timeout=chain.timeout,
            expected_chain_id=chain.chain_id,
            overrides=overrides,
        )
    except (ChainUnavailable, ChainConfigError) as exc:
        raise StartupError(f"l1Chain: {exc}") from exc


def _node_api(
    config: ExecutorConfig, executor: Executor, chain: JsonRpcChainReader | None
) -> NodeApiServer | None:
    """The HTTP listener with `/metrics` fed by the executor's events and the chain client's
    requests, if the config wants it."""
    if not config.metrics.enabled:
        return None
    metrics = ExecutorMetrics(executor)
    executor.subscribe(metrics.listen)
    availability = None
    if chain is not None:
        availability = ChainAvailability(chain.rpc.endpoint)
        chain.rpc.observers += [metrics.rpc_observer(chain.client_version), availability]
    return NodeApiServer(
        executor,
        host=config.metrics.listen_host,
        port=config.metrics.port,
        node_version=executor_version(),
        metrics=metrics,
        chain=availability,
    )


def executor_version() -> str:
    """The installed package's version, as `executor --version` prints it."""
    try:
        return version("hourglass-executor-py")
    except PackageNotFoundError:
        return "unknown"


async def open_state(config: ExecutorConfig) -> StateDatabase | None:
    """The state database of `storage` (SQLite, in its directory); None for `memory`."""
    directory = config.storage.database_dir
    if directory is None:
        return None
    try:
        return await StateDatabase.open(directory)
    except (OSError, StateDatabaseError) as exc:
        raise StartupError(f"storage: {exc}") from exc


def _stores(config: ExecutorConfig, database: StateDatabase | None, clock: Clock) -> dict[str, Any]:
    if database is None:
        return {}
    bounds = config.deduplication
    return {
        "deployments": SqliteDeploymentStore(database),
        "processed_tasks": SqliteProcessedTasks(
            database,
            clock,
            retention=bounds.retention,
            max_entries=bounds.max_entries,
            max_bytes=bounds.max_bytes,
        ),
    }


def _executor_name(config: ExecutorConfig, port: int | None, instance_id: str) -> str:
    """The config's identity; an executor on an ephemeral port (0, as tests ask for) has no
    stable one, so each run gets its own and never touches another's containers."""
    if port == 0 and not config.instance_name:
        return f"{config.executor_name(0)}-{instance_id[:12]}"
    return config.executor_name(port)


async def build_executor(
    config: ExecutorConfig,
    *,
    runtime: ContainerRuntime | None = None,
    connector: PerformerConnector | None = None,
    signers: Signers | None = None,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    aggregator_keys: AggregatorKeys | None = None,
    task_verifier: TaskSignatureVerifier | None = None,
    chain: ChainReader | None = None,
    host: str = "0.0.0.0",
    port: int | None = None,
    management_port: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExecutorApp:
    """Build the executor from its config; any port given by keyword replaces the real adapter.

    The operator's keys are decrypted here, unless `signers` gives one signer per curve, and
    the chain endpoint of `l1Chain` is connected, unless `chain` is given. Without `runtime`,
    performers run on Docker, or on Kubernetes in Kubernetes mode (`container_runtime`).
    """
    ids = ids or UuidIdSource()
    instance_id = ids.new_id()
    loaded = signers if signers is not None else await load_signers(config)
    database = await open_state(config)
    try:
        opened = await open_chain(config) if chain is None else None
    except BaseException:
        if database is not None:
            await database.aclose()
        raise
    runtime = runtime or container_runtime(config)
    stores = _stores(config, database, clock or SystemClock())
    try:
        executor = build_core(
            config,
            signers=loaded,
            runtime=runtime,
            connector=connector,
            clock=clock,
            ids=ids,
            aggregator_keys=aggregator_keys,
            task_verifier=task_verifier,
            chain=chain or opened,
            instance_id=instance_id,
            environ=environ,
            executor_name=_executor_name(config, port, instance_id),
            **stores,
        )
    except BaseException:
        if opened is not None:
            await opened.aclose()
        if database is not None:
            await database.aclose()
        raise
    server = ExecutorServer(
        executor,
        host=host,
        port=config.grpc_port if port is None else port,
        management_port=config.management_server_grpc_port
        if management_port is None
        else management_port,
        max_message_size=config.max_message_size,
        open_management=config.management.allow_remote_without_auth,
        kubernetes=kubernetes_deploys(config),
    )
    return ExecutorApp(
        config=config,
        executor=executor,
        server=server,
        runtime=runtime,
        instance_id=instance_id,
        chain=opened,
        database=database,
        node_api=_node_api(config, executor, opened),
    )
