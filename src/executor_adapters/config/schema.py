"""The executor's configuration as frozen, validated values.

Attributes are snake_case; the file spells each key in camelCase (`grpc_port` is `grpcPort`) or
as the Go struct field, in any case (`GrpcPort`, `grpcport`); `_written` lists the few aliases.
Every field validator raises `ValueError` with the problem text the loader prints after the
field's path, so a value built in code is checked exactly like one read from a file. Rules that
span fields (an AVS needs a key of its curve, peers to check signatures, something to accept)
are the loader's, so that one pass reports them all.
Durations are float seconds; the file may also write them as text (`"15s"`, `"500ms"`, `"1m"`).

Both generations of the Go executor's schema load. Keys accepted without being used are not
fields here: the loader records each one it meets in `ExecutorConfig.ignored_keys`, with the
reason, and the CLI logs them at start. They are `operator.operatorPrivateKey` (the executor
sends no transactions), `contracts` and `overrideContracts` (TaskMailbox hashes are computed
locally), `kubernetes.{operatorNamespace, crdGroup, crdVersion}` (no operator is involved),
`signingKeys.ecdsa.remoteSignerConfig` and `simulation.simulatePeering.operatorPeers`; the
Kubernetes blocks of a Docker-mode file, and the container keys Kubernetes sets per node
rather than per pod, are recorded the same way (`_rules.ignored_values`).

All performers of one executor run in one mode (`ExecutorConfig.deployment_mode`): on Docker,
or on Kubernetes when the entries say `deploymentMode: kubernetes`; a file mixing them is refused.

Semantics that differ from upstream or are ours (docs/configuration.md has the full table):

- `avsPerformers[].processType` accepts only `server`, the only mode G1 could run.
- `workerCount` bounds how many tasks one AVS runs at once (G1 parsed it and ignored it), and
  `signingCurve` picks the result-signing key (G1 always signed BN254; G2 dropped the key).
- G1 tasks are accepted per AVS by `ExecutorConfig.accepts_g1`, G2 tasks when `l1Chain` is set.
- `authentication.enabled: true` turns on challenge authentication of the management API; it
  also accepts `management.authorizedKeys`, and `management.requireRequestBinding` is ours.
- Our additions: `taskQueueSize`, `health.*`, `container.*`, `performerNetworkInternal`,
  `performerNetworkRelayImage`, `verifyAggregatorSignature`,
  `aggregatorPeersFile`, `shutdownGracePeriod`, `taskTimeout`, `maxMessageSize`, `logging.*`,
  `deployment.*`, `deduplication.*`, `l1Chain.{timeout, contracts}`, `acceptG1Tasks`,
  `kubernetes.performerEndpoint`, `avsPerformers[].kubernetes.{resources, nodeSelector}`.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from typing import Any

import attrs

from executor_adapters.config._validators import (
    choices_problem,
    env_name,
    http_url,
    instance_of,
    int_in,
    is_bool,
    is_str,
    member_of,
    non_empty_str,
    non_negative_seconds,
    one_of,
    optional,
    positive_seconds,
)
from executor_core.addresses import Address, AvsAddress
from executor_core.performers import (
    MIB,
    ContainerHardening,
    Endpoint,
    EnvReference,
    PerformerImage,
    capability,
)

DEFAULT_GRPC_PORT = 9090
DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024
MAX_MESSAGE_SIZE_LIMIT = 2**31 - 1
MAX_CHAIN_ID = 2**64 - 1
G2_PUBLIC_KEY_SIZE = 128
PUBLIC_KEY_PROBLEM = "must be 256 hex digits (a 128-byte G2 point), 0x optional"
DOCKER = "docker"
KUBERNETES = "kubernetes"
DEPLOYMENT_MODES = (DOCKER, KUBERNETES)
_NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A Kubernetes namespace name (a DNS label)."""
OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
"""A Kubernetes object name (a DNS subdomain): service accounts, NetworkPolicies."""
QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?")
"""A resource quantity in the form the Kubernetes runtime takes: `500m`, `2`, `0.5`, `1Gi`."""
RESOURCE_NAME = re.compile(
    r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
)
"""`cpu`, `memory`, `nvidia.com/gpu`."""
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")


class SigningCurve(enum.StrEnum):
    """The curve an AVS expects task results to be signed on."""

    BN254 = "bn254"
    BLS381 = "bls381"
    ECDSA = "ecdsa"


class LogLevel(enum.StrEnum):
    """The lowest level that is logged."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogFormat(enum.StrEnum):
    """How log lines are written: JSON for collectors, text for people."""

    JSON = "json"
    TEXT = "text"


_address = instance_of(Address, "must be an address")
_maybe_address = optional(_address)


def _network_name(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or (value and not _NETWORK_NAME.fullmatch(value)):
        raise ValueError("must be empty or a Docker network name (letters, digits, _ . -)")


def _g2_public_key(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bytes) or len(value) != G2_PUBLIC_KEY_SIZE:
        raise ValueError(PUBLIC_KEY_PROBLEM)


def _performer_list(_: object, __: attrs.Attribute[Any], value: object) -> None:
    """Each AVS once; whether the list may be empty depends on `l1Chain` (a loader rule)."""
    if not isinstance(value, tuple):
        raise ValueError("must be a list")
    counts = Counter(entry.avs_address for entry in value)
    for address, count in counts.items():
        if count > 1:
            entries = [str(i) for i, entry in enumerate(value) if entry.avs_address == address]
            raise ValueError(
                f"avsAddress {address} appears in entries {', '.join(entries)} "
                "(addresses ignore case); each AVS may be listed once"
            )


def _env_list(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, EnvVarConfig) for v in value):
        raise ValueError("must be a list of environment variables")
    counts = Counter(entry.name for entry in value)
    twice = sorted(name for name, count in counts.items() if count > 1)
    if twice:
        raise ValueError(f"{', '.join(twice)} given more than once")


_INSTANCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def _instance_name(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or (value and not _INSTANCE_NAME.fullmatch(value)):
        raise ValueError(
            "must be up to 63 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )


def _deployment_mode(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if value not in DEPLOYMENT_MODES:
        raise ValueError(choices_problem(DEPLOYMENT_MODES))


class PerformerEndpoint(enum.StrEnum):
    """How the executor reaches performer pods (`kubernetes.performerEndpoint`, ours)."""

    SERVICE = "service"
    """By each pod's Service DNS name: the executor runs in the cluster."""
    PORT_FORWARD = "portForward"
    """Through the API server's port-forward of each pod: the executor runs outside."""


def _shown(text: object) -> str:
    return repr(str(text)[:80])


def _namespace(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not NAMESPACE.fullmatch(value):
        raise ValueError(
            "must be a namespace name (lower-case letters, digits and '-', at most 63)"
        )


def _service_account(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or (value and not OBJECT_NAME.fullmatch(value)):
        raise ValueError(
            "must be empty or a service account name (lower-case letters, digits, '-' and '.', "
            "at most 253)"
        )


def _string_pairs(value: object) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(pair, tuple)
        and len(pair) == 2
        and isinstance(pair[0], str)
        and isinstance(pair[1], str)
        for pair in value
    )


def quantity_problem(name: str, quantity: str) -> str | None:
    """What is wrong with `name: quantity` as a resource request or limit, or None."""
    if not RESOURCE_NAME.fullmatch(name):
        return f"{_shown(name)} is not a resource name (such as cpu, memory, nvidia.com/gpu)"
    if not QUANTITY.fullmatch(quantity):
        return f"{name}: {_shown(quantity)} is not a quantity (such as 500m, 2, 0.5, 1Gi)"
    return None


def _quantities(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not _string_pairs(value):
        raise ValueError("must be a mapping of resource names to quantities")
    assert isinstance(value, tuple)
    names = [name for name, _ in value]
    for name, quantity in value:
        problem = quantity_problem(name, quantity)
        if problem is not None:
            raise ValueError(problem)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} given more than once")


def label_problem(key: str, value: str) -> str | None:
    """What is wrong with `key: value` as a Kubernetes label (a node selector's), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and not (len(prefix) <= 253 and OBJECT_NAME.fullmatch(prefix)):
        return f"{_shown(key)}: the prefix before '/' must be a DNS subdomain"
    if not _LABEL_NAME.fullmatch(name):
        return (
            f"{_shown(key)} is not a label key (letters, digits, '-', '_' and '.', at most 63, "
            "after an optional prefix/)"
        )
    if value and not _LABEL_NAME.fullmatch(value):
        return (
            f"{key}: {_shown(value)} is not a label value (empty, or letters, digits, '-', '_' "
            "and '.', at most 63, starting and ending with a letter or digit)"
        )
    return None


def _node_selector(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not _string_pairs(value):
        raise ValueError("must be a mapping of label keys to label values")
    assert isinstance(value, tuple)
    keys = [key for key, _ in value]
    for key, label in value:
        problem = label_problem(key, label)
        if problem is not None:
            raise ValueError(problem)
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} given more than once")


ENDPOINT_PROBLEM = "must be host:port, such as performer.example:8080 (no scheme)"


@attrs.frozen(kw_only=True)
class BlsKeyConfig:
    """The operator's BLS keystore, read but not decrypted, and the password that opens it."""

    keystore: str = attrs.field(validator=non_empty_str, repr=False)
    """EIP-2335 keystore JSON text."""
    source: str = attrs.field(validator=non_empty_str)
    """Where the keystore came from (a file path, or `inline keystore`), for messages."""
    password: str = attrs.field(default="", validator=is_str, repr=False)


@attrs.frozen(kw_only=True)
class EcdsaKeyConfig:
    """The operator's ECDSA key: a Web3 v3 keystore (read, not decrypted) or a raw hex key."""

    keystore: str = attrs.field(default="", validator=is_str, repr=False)
    """Web3 Secret Storage v3 JSON text; empty when `private_key` is given instead."""
    source: str = attrs.field(validator=non_empty_str)
    password: str = attrs.field(default="", validator=is_str, repr=False)
    private_key: str = attrs.field(default="", validator=is_str, repr=False)
    """Hex secp256k1 key, for development only: the executor warns when it is used."""


@attrs.frozen(kw_only=True)
class SigningKeysConfig:
    """The operator's result-signing keys; each AVS's `signingCurve` picks one.

    `bls` holds a bn254 or bls381 keystore; `bls381` is for operators who also serve AVSs on
    the other BLS curve (a bls381 AVS uses it when given, `bls` otherwise).
    """

    bls: BlsKeyConfig | None = None
    bls381: BlsKeyConfig | None = None
    ecdsa: EcdsaKeyConfig | None = None


@attrs.frozen(kw_only=True)
class OperatorConfig:
    """The operator this executor works for."""

    address: Address = attrs.field(validator=_address)
    signing_keys: SigningKeysConfig


@attrs.frozen(kw_only=True)
class HealthCheckConfig:
    """How often, and how patiently, a performer's application health is probed (seconds)."""

    check_interval: float = attrs.field(default=15.0, validator=positive_seconds)
    timeout: float = attrs.field(default=1.0, validator=positive_seconds)
    failure_threshold: int = attrs.field(default=3, validator=int_in(1, 1000))
    """Consecutive failed checks after which the performer is recreated."""


@attrs.frozen(kw_only=True)
class RecreateConfig:
    """How a dead or unhealthy performer's container is recreated: back-off, then give up."""

    max_attempts: int = attrs.field(default=5, validator=int_in(0, 100))
    initial_delay: float = attrs.field(default=2.0, validator=positive_seconds)
    max_delay: float = attrs.field(default=30.0, validator=positive_seconds)
    engine_retry_max_delay: float = attrs.field(default=3.0, validator=positive_seconds)
    """While the Docker engine is unreachable, recreation is retried without limit, at most
    this many seconds apart; those retries do not count towards `max_attempts`."""


@attrs.frozen(kw_only=True)
class DeploymentConfig:
    """Blue-green deployment limits (seconds)."""

    timeout: float = attrs.field(default=60.0, validator=positive_seconds)
    """From container start until the new performer must be healthy."""
    pull_timeout: float = attrs.field(default=600.0, validator=positive_seconds)
    probation_period: float = attrs.field(default=30.0, validator=non_negative_seconds)
    """After promotion, a performer that turns unhealthy this soon is rolled back; 0 = never."""
    drain_timeout: float = attrs.field(default=60.0, validator=non_negative_seconds)
    recreate: RecreateConfig = attrs.field(factory=RecreateConfig)


@attrs.frozen(kw_only=True)
class EnvVarConfig:
    """A variable set in the performer's container.

    `value` is what the performer gets. When the file named `valueFromEnv`, the loader read the
    value from its environment at start and `value_from_env` keeps the variable's name. In
    Kubernetes mode `kubernetes_env` may name a Secret's or ConfigMap's key instead, which
    Kubernetes reads when it starts the pod, so the value never passes through the executor.
    """

    name: str = attrs.field(validator=env_name)
    value: str = attrs.field(default="", validator=is_str, repr=False)
    value_from_env: str = attrs.field(default="", validator=is_str)
    kubernetes_env: EnvReference | None = attrs.field(
        default=None,
        validator=optional(instance_of(EnvReference, "must be a Secret or ConfigMap reference")),
    )

    def __attrs_post_init__(self) -> None:
        if self.kubernetes_env is None:
            return
        if self.value or self.value_from_env:
            raise ValueError("kubernetesEnv: give one of value, valueFromEnv, kubernetesEnv")
        if self.kubernetes_env.name != self.name:
            raise ValueError(f"kubernetesEnv: must be a reference for {self.name}")


_HARDENED = ContainerHardening()
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?")
MIN_MEMORY = 6 * MIB
"""The smallest memory limit Docker accepts."""


def _capability_list(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of Linux capabilities, such as NET_BIND_SERVICE")
    for name in value:
        if name.strip().upper() == "ALL":
            raise ValueError("ALL would undo the drop; list the capabilities the performer needs")
        capability(name)  # raises with the problem


def _user(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or (value and not _USER.fullmatch(value)):
        raise ValueError("must be empty (the image's user) or user[:group], by name or number")


def _memory(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or (value != 0 and value < MIN_MEMORY):
        raise ValueError("must be 0 (no limit) or a size of at least 6m")


def _cpus(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number of CPUs, such as 2 or 0.5")
    if value != 0 and not 0.01 <= value <= 1024:
        raise ValueError("must be 0 (no limit) or a number of CPUs between 0.01 and 1024")


def _size_at_least(low: int, text: str) -> Any:
    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"must be a size of at least {text}")

    return check


@attrs.frozen(kw_only=True)
class ContainerConfig:
    """How an AVS's performer containers are confined (ours). The defaults are hardened;
    docs/operations.md says why, and which an image may need relaxed.

    Sizes are bytes, or text with a 1024-based unit as Docker takes it (`512m`, `1g`); a limit
    of 0 is no limit.
    """

    no_new_privileges: bool = attrs.field(default=True, validator=is_bool)
    cap_add: tuple[str, ...] = attrs.field(default=(), validator=_capability_list)
    """Capabilities given back after all are dropped (`NET_BIND_SERVICE`, `CAP_` optional)."""
    pids_limit: int = attrs.field(default=_HARDENED.pids_limit, validator=int_in(0, 4194304))
    memory: int = attrs.field(default=_HARDENED.memory_bytes, validator=_memory)
    """The memory limit in bytes, swap included."""
    cpus: float = attrs.field(default=_HARDENED.cpus, validator=_cpus)
    read_only_root_filesystem: bool = attrs.field(default=False, validator=is_bool)
    """Mount the image read-only, with a tmpfs `/tmp` of `tmpfs_size`."""
    tmpfs_size: int = attrs.field(
        default=_HARDENED.tmpfs_size_bytes, validator=_size_at_least(MIB, "1m")
    )
    user: str = attrs.field(default="", validator=_user)
    """`uid[:gid]` or names the image knows (numbers only in Kubernetes mode); empty runs as
    the image's own user."""
    log_max_size: int = attrs.field(
        default=_HARDENED.log_max_size_bytes, validator=_size_at_least(1024, "1k")
    )
    log_max_file: int = attrs.field(default=_HARDENED.log_max_files, validator=int_in(1, 100))

    def hardening(self) -> ContainerHardening:
        """The core's value of this block."""
        return ContainerHardening(
            no_new_privileges=self.no_new_privileges,
            cap_add=self.cap_add,
            pids_limit=self.pids_limit,
            memory_bytes=self.memory,
            cpus=float(self.cpus),
            read_only_root_filesystem=self.read_only_root_filesystem,
            tmpfs_size_bytes=self.tmpfs_size,
            user=self.user,
            log_max_size_bytes=self.log_max_size,
            log_max_files=self.log_max_file,
        )


Quantities = tuple[tuple[str, str], ...]
"""Resource name to quantity (`("cpu", "500m")`), in the file's order."""
Labels = tuple[tuple[str, str], ...]
"""Label key to value, in the file's order."""


@attrs.frozen(kw_only=True)
class ResourcesConfig:
    """Kubernetes resource requests and limits of an AVS's pods (ours). Quantities are text as
    Kubernetes writes them (`500m`, `1Gi`); a number in the file is read as its text."""

    requests: Quantities = attrs.field(default=(), validator=_quantities)
    limits: Quantities = attrs.field(default=(), validator=_quantities)
    """Beside `container.cpus` and `container.memory`, which become the `cpu` and `memory`
    limits; a `cpu` or `memory` given here replaces theirs."""


@attrs.frozen(kw_only=True)
class PerformerKubernetesConfig:
    """How the pods of one AVS are made in Kubernetes mode (`avsPerformers[].kubernetes`)."""

    service_account_name: str = attrs.field(default="", validator=_service_account)
    """The pods' service account, whose token is then mounted; empty mounts none."""
    endpoint_override: Endpoint | None = attrs.field(
        default=None, validator=optional(instance_of(Endpoint, ENDPOINT_PROBLEM))
    )
    """Reach every pod of the AVS at this `host:port` (an ingress, a NodePort) instead."""
    resources: ResourcesConfig = attrs.field(factory=ResourcesConfig)
    """Ours."""
    node_selector: Labels = attrs.field(default=(), validator=_node_selector)
    """Ours: the labels of the nodes the pods may run on."""


@attrs.frozen(kw_only=True)
class KubernetesConfig:
    """The cluster performers run in when the entries say `deploymentMode: kubernetes`."""

    namespace: str = attrs.field(default="default", validator=_namespace)
    """Where the executor creates its Pods, Services and NetworkPolicies."""
    kube_config_path: str = attrs.field(default="", validator=is_str)
    """A kubeconfig file, relative to the config file; empty: KUBECONFIG, else ~/.kube/config."""
    in_cluster: bool = attrs.field(default=False, validator=is_bool)
    """Use the service account of the pod the executor runs in (and not a kubeconfig)."""
    connection_timeout: float = attrs.field(default=30.0, validator=positive_seconds)
    """Bound in seconds of one API call (watches excepted)."""
    performer_endpoint: PerformerEndpoint | None = attrs.field(
        default=None, validator=optional(member_of(PerformerEndpoint))
    )
    """Ours: None reaches performers by Service in the cluster, by port-forward outside."""


@attrs.frozen(kw_only=True)
class AvsPerformerConfig:
    """One AVS this executor serves, and the performer image that does its work."""

    avs_address: AvsAddress = attrs.field(
        validator=instance_of(AvsAddress, "must be an AVS address")
    )
    image: PerformerImage = attrs.field(validator=instance_of(PerformerImage, "must be an image"))
    signing_curve: SigningCurve = attrs.field(
        default=SigningCurve.BN254, validator=member_of(SigningCurve)
    )
    """G2 dropped the key (the curve comes from chain); bn254 is what G1 always signed."""
    process_type: str = attrs.field(default="server", validator=one_of("server"))
    worker_count: int = attrs.field(default=1, validator=int_in(1))
    """Tasks of this AVS that may run at the same time."""
    task_queue_size: int = attrs.field(default=64, validator=int_in(0))
    """Tasks that may wait for a free worker before new ones are refused."""
    avs_registrar_address: Address | None = attrs.field(default=None, validator=_maybe_address)
    health: HealthCheckConfig = attrs.field(factory=HealthCheckConfig)
    verify_aggregator_signature: bool = attrs.field(default=True, validator=is_bool)
    """Refuse tasks the AVS's aggregator did not sign; turning it off is logged at start."""
    envs: tuple[EnvVarConfig, ...] = attrs.field(default=(), validator=_env_list)
    deployment_mode: str = attrs.field(default=DOCKER, validator=_deployment_mode)
    """`docker` or `kubernetes`; every entry of a file must say the same."""
    accept_g1_tasks: bool | None = attrs.field(default=None, validator=optional(is_bool))
    """Whether G1 (TaskSubmission version 0) tasks are served; None: `accepts_g1` decides."""
    container: ContainerConfig = attrs.field(factory=ContainerConfig)
    """How the AVS's performer containers are confined (ours)."""
    kubernetes: PerformerKubernetesConfig | None = attrs.field(
        default=None,
        validator=optional(instance_of(PerformerKubernetesConfig, "must be a mapping")),
    )
    """How its pods are made in Kubernetes mode; None: the defaults."""


@attrs.frozen(kw_only=True)
class AggregatorPeerConfig:
    """An aggregator whose task submissions are accepted while peering is simulated."""

    public_key: bytes = attrs.field(validator=_g2_public_key, repr=False)
    """The aggregator's BN254 G2 public key, 128 bytes (x.a1, x.a0, y.a1, y.a0)."""
    operator_address: Address = attrs.field(validator=_address)
    network_address: str = attrs.field(default="", validator=is_str)
    operator_set_id: int = attrs.field(default=0, validator=int_in(0, 2**32 - 1))


@attrs.frozen(kw_only=True)
class PeeringSimulationConfig:
    """Peers given in the file instead of being read from chain."""

    enabled: bool = attrs.field(default=False, validator=is_bool)
    aggregator_peers: tuple[AggregatorPeerConfig, ...] = attrs.field(default=())
    aggregator_peers_file: str = attrs.field(default="", validator=is_str)
    """A YAML/JSON list of more peers, re-read when it changes; relative to the config file."""


@attrs.frozen(kw_only=True)
class SimulationConfig:
    """Settings for running without a chain (local demos and tests)."""

    simulate_peering: PeeringSimulationConfig = attrs.field(factory=PeeringSimulationConfig)


DEFAULT_NODE_API_PORT = 9464


@attrs.frozen(kw_only=True)
class MetricsConfig:
    """The HTTP listener of the EigenLayer node API and the orchestrator probes."""

    enabled: bool = attrs.field(default=False, validator=is_bool)
    listen_host: str = attrs.field(default="127.0.0.1", validator=non_empty_str)
    port: int = attrs.field(default=DEFAULT_NODE_API_PORT, validator=int_in(0, 65535))


@attrs.frozen(kw_only=True)
class LoggingConfig:
    """What is logged and how it is written."""

    level: LogLevel = attrs.field(default=LogLevel.INFO, validator=member_of(LogLevel))
    format: LogFormat = attrs.field(default=LogFormat.JSON, validator=member_of(LogFormat))


@attrs.frozen(kw_only=True)
class ContractOverrides:
    """Contract addresses to use instead of the ones known for the chain's ID."""

    allocation_manager: Address | None = attrs.field(default=None, validator=_maybe_address)
    key_registrar: Address | None = attrs.field(default=None, validator=_maybe_address)
    task_mailbox: Address | None = attrs.field(default=None, validator=_maybe_address)
    bn254_certificate_verifier: Address | None = attrs.field(default=None, validator=_maybe_address)
    ecdsa_certificate_verifier: Address | None = attrs.field(default=None, validator=_maybe_address)


@attrs.frozen(kw_only=True)
class L1ChainConfig:
    """The chain G2 tasks are checked against: operator sets, keys and certificate verifiers."""

    rpc_url: str = attrs.field(validator=http_url)
    chain_id: int | None = attrs.field(default=None, validator=optional(int_in(1, MAX_CHAIN_ID)))
    """The chain ID expected from the RPC; None means whatever it reports."""
    timeout: float = attrs.field(default=5.0, validator=positive_seconds)
    """Seconds one JSON-RPC call may take."""
    contracts: ContractOverrides = attrs.field(factory=ContractOverrides)


@attrs.frozen(kw_only=True)
class StorageConfig:
    """Where deployments and processed G2 tasks persist across restarts.

    `memory` keeps nothing. `sqlite` keeps one SQLite database in `dir`; upstream's `badger`
    (with `badger.dir`) is read as the same, with our database in Badger's directory.
    """

    type: str = attrs.field(default="memory", validator=one_of("memory", "badger", "sqlite"))
    dir: str = attrs.field(default="", validator=is_str)
    """Ours: the directory of the database for `sqlite` (and `badger` without `badger.dir`)."""
    badger_dir: str = attrs.field(default="", validator=is_str)
    """The file's `badger.dir`."""

    @property
    def database_dir(self) -> str | None:
        """The directory the state database lives in; None when nothing persists."""
        if self.type == "memory":
            return None
        if self.type == "badger":
            return self.badger_dir or self.dir or None
        return self.dir or None


def _env_name_list(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple):
        raise ValueError("must list environment variable names")
    for name in value:
        try:
            env_name(_, attribute, name)
        except ValueError:
            raise ValueError(
                f"{str(name)[:80]!r} is not an environment variable name "
                "(letters, digits, _; no leading digit)"
            ) from None


def _registry_list(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(
        isinstance(v, str) and v and not v.startswith(("http://", "https://")) for v in value
    ):
        raise ValueError("must list registries such as ghcr.io or 127.0.0.1:5000 (no scheme)")


@attrs.frozen(kw_only=True)
class AuthorizedKeyConfig:
    """A key besides the operator's whose signatures authorise management calls; exactly one
    of the two keys is given (the loader's rule)."""

    ecdsa_address: Address | None = attrs.field(default=None, validator=_maybe_address)
    bn254_public_key: bytes | None = attrs.field(
        default=None, validator=optional(_g2_public_key), repr=False
    )
    """128-byte G2 point (x.a1, x.a0, y.a1, y.a0), as `executor keys show` prints it."""
    name: str = attrs.field(default="", validator=is_str)
    """How logs name the key (`ops-laptop`); its position in the list when empty."""


def _key_list(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, AuthorizedKeyConfig) for v in value):
        raise ValueError("must be a list of {ecdsaAddress} or {bn254PublicKey} mappings")


@attrs.frozen(kw_only=True)
class ManagementConfig:
    """Who may call the management API (DeployArtifact, ListPerformers, RemovePerformer)."""

    allow_remote_without_auth: bool = attrs.field(default=False, validator=is_bool)
    """Serve management calls from other hosts although they are not authenticated: whoever
    reaches the port can then run any image here. Off, only loopback callers are served."""
    max_unlisted_avs: int = attrs.field(default=4, validator=int_in(0, 1000))
    """AVSs that DeployArtifact may add although this file does not name them."""
    allowed_registries: tuple[str, ...] = attrs.field(default=(), validator=_registry_list)
    """Registries or repository prefixes DeployArtifact may deploy from; empty allows any."""
    allowed_value_from_env: tuple[str, ...] = attrs.field(default=(), validator=_env_name_list)
    """Executor variables a DeployArtifact's `env[].value_from_env` may copy into a container;
    empty allows none. The `envs[].valueFromEnv` of this file need no listing."""
    authorized_keys: tuple[AuthorizedKeyConfig, ...] = attrs.field(default=(), validator=_key_list)
    """With authentication on, keys besides the operator's that may sign management calls."""
    require_request_binding: bool = attrs.field(default=False, validator=is_bool)
    """Accept only signatures that cover the method and request (our client's bound form);
    upstream's clients sign the token alone and are then refused."""


@attrs.frozen(kw_only=True)
class DeduplicationConfig:
    """Bounds of the in-memory store of processed G2 tasks, which refuses a task seen twice."""

    retention: float = attrs.field(default=86400.0, validator=positive_seconds)
    """Seconds a processed task is remembered."""
    max_entries: int = attrs.field(default=100_000, validator=int_in(1))
    max_bytes: int = attrs.field(default=256 * 1024 * 1024, validator=int_in(1))


@attrs.frozen(kw_only=True)
class IgnoredKey:
    """A key the file gave that is accepted without effect, and why; logged once at start."""

    path: str = attrs.field(validator=non_empty_str)
    """Where it was, in camelCase: `avsPerformers[0].envs[1].kubernetesEnv`."""
    reason: str = attrs.field(validator=non_empty_str)


def _ignored_list(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, IgnoredKey) for v in value):
        raise ValueError("must be a tuple of IgnoredKey")


@attrs.frozen(kw_only=True)
class ExecutorConfig:
    """Everything the executor needs to start, as read from its config file."""

    operator: OperatorConfig
    avs_performers: tuple[AvsPerformerConfig, ...] = attrs.field(
        default=(), validator=_performer_list
    )
    grpc_port: int = attrs.field(default=DEFAULT_GRPC_PORT, validator=int_in(1, 65535))
    management_server_grpc_port: int = attrs.field(default=0, validator=int_in(0, 65535))
    """Port of the management API; 0 (or `grpc_port`) serves it on the same listener."""
    debug: bool = attrs.field(default=False, validator=is_bool)
    instance_name: str = attrs.field(default="", validator=_instance_name)
    """This executor's stable identity on the Docker engine; empty derives it from the operator
    address and `grpcPort` (`executor_name`)."""
    performer_network_name: str = attrs.field(default="", validator=_network_name)
    """Docker network the performers join; empty means none (host-port mode). In Kubernetes
    mode, the NetworkPolicy of that name over the performer pods."""
    performer_network_internal: bool = attrs.field(default=False, validator=is_bool)
    """Make that network internal, with no route out of the host (ours); each performer's port
    is then published by a relay container in `performer_network_relay_image`."""
    performer_network_relay_image: PerformerImage | None = attrs.field(
        default=None, validator=optional(instance_of(PerformerImage, "must be an image"))
    )
    """An image with python3 for the relays of an internal performer network (ours)."""
    simulation: SimulationConfig = attrs.field(factory=SimulationConfig)
    l1_chain: L1ChainConfig | None = attrs.field(
        default=None, validator=optional(instance_of(L1ChainConfig, "must be a mapping"))
    )
    """Set, the executor serves G2 tasks and may read aggregator peers from chain."""
    storage: StorageConfig = attrs.field(factory=StorageConfig)
    authentication_enabled: bool = attrs.field(default=False, validator=is_bool)
    """The file's `authentication.enabled`: management calls must carry a challenge signature."""
    deduplication: DeduplicationConfig = attrs.field(factory=DeduplicationConfig)
    management: ManagementConfig = attrs.field(factory=ManagementConfig)
    shutdown_grace_period: float = attrs.field(default=10.0, validator=positive_seconds)
    task_timeout: float = attrs.field(default=60.0, validator=positive_seconds)
    """Deadline in seconds of a task whose caller sets none."""
    max_message_size: int = attrs.field(
        default=DEFAULT_MAX_MESSAGE_SIZE, validator=int_in(1, MAX_MESSAGE_SIZE_LIMIT)
    )
    logging: LoggingConfig = attrs.field(factory=LoggingConfig)
    metrics: MetricsConfig = attrs.field(factory=MetricsConfig)
    """Ours: the HTTP listener (`/eigen/node/*`, `/ready`, `/live`); off by default."""
    deployment: DeploymentConfig = attrs.field(factory=DeploymentConfig)
    kubernetes: KubernetesConfig | None = attrs.field(
        default=None, validator=optional(instance_of(KubernetesConfig, "must be a mapping"))
    )
    """The cluster of Kubernetes mode; None: the defaults (and nothing given, in Docker mode)."""
    ignored_keys: tuple[IgnoredKey, ...] = attrs.field(default=(), validator=_ignored_list)
    """Keys the file gave that have no effect here, set by the loader (not a file key)."""

    @property
    def deployment_mode(self) -> str:
        """`kubernetes` when the performers run on Kubernetes, else `docker` (also with no
        entries). Entries of both modes are refused by the loader; here the first one wins."""
        first = next(iter(self.avs_performers), None)
        return DOCKER if first is None else first.deployment_mode

    @property
    def accepts_g2(self) -> bool:
        """G2 (TaskSubmission version 1) tasks need the chain to check their certificates."""
        return self.l1_chain is not None

    def accepts_g1(self, entry: AvsPerformerConfig | None = None) -> bool:
        """Whether G1 (version 0) tasks are served for `entry` (None: an AVS not in the file).

        The entry's `acceptG1Tasks` decides when given. Otherwise G1 tasks are served while
        peering is simulated or there is no `l1Chain`: a G1 file behaves as it always did,
        and a G2 file does not start serving the older, weaker task format by omission.
        """
        if entry is not None and entry.accept_g1_tasks is not None:
            return entry.accept_g1_tasks
        return self.simulation.simulate_peering.enabled or self.l1_chain is None

    def executor_name(self, port: int | None = None) -> str:
        """The identity every container and network of this executor is labelled with:
        `instanceName`, else the operator's address and the gRPC port (`port` when the
        command line overrides it), which together name one executor on a host."""
        if self.instance_name:
            return self.instance_name
        return f"{self.operator.address.value[:10]}-{self.grpc_port if port is None else port}"

    @property
    def management_port(self) -> int:
        """The port the management API listens on; equal to `grpc_port` when shared."""
        return self.management_server_grpc_port or self.grpc_port

    def with_network(self, name: str) -> ExecutorConfig:
        """Return a copy whose performers join Docker network `name` (the CLI flag's override)."""
        return attrs.evolve(self, performer_network_name=name)

    def with_grpc_port(self, port: int) -> ExecutorConfig:
        """Return a copy that serves on `port`; a management API sharing the port follows it."""
        shared = self.management_server_grpc_port == self.grpc_port
        management = port if shared else self.management_server_grpc_port
        return attrs.evolve(self, grpc_port=port, management_server_grpc_port=management)
