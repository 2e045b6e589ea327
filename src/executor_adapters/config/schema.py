"""The executor's configuration as frozen, validated values.

Attributes are snake_case; the file spells each key in camelCase (`grpc_port` is `grpcPort`).
Every field validator raises `ValueError` with the problem text the loader prints after the
field's path, so a value built in code is checked exactly like one read from a file.
Durations are float seconds; the file may also write them as text (`"15s"`, `"500ms"`, `"1m"`).

Keys of the first-generation (G1) Go executor, and how they are treated here:

- `operator.operatorPrivateKey` is accepted and ignored: G1 required it and never used it.
  The second generation's object form (`{privateKey, remoteSigner, ...}`) is accepted too.
- `l1Chain`, `contracts` and `overrideContracts` are accepted and ignored: G1 used them to find
  peers on chain, and this executor takes peers from `simulation.simulatePeering` only.
- `simulation.simulatePeering.operatorPeers` is accepted and ignored, as in G1.
- `avsPerformers[].processType` accepts only `server`, the only mode G1 could run.
- `workerCount` bounds how many tasks one AVS runs at once (G1 parsed it and ignored it).

Our additions, all optional:

- `avsPerformers[].taskQueueSize` (default 64): tasks that may wait for a free worker before
  new ones are refused.
- `avsPerformers[].health.{checkInterval, timeout}` (defaults 15 s and 1 s): application
  health probing of the performer, which G1 hard-coded.
- `shutdownGracePeriod` (default 10 s): how long running tasks may finish on SIGTERM.
- `taskTimeout` (default 60 s): the deadline of a task whose caller sets none.
- `maxMessageSize` (default 4 MiB): the largest gRPC message sent or received.
- `logging.{level, format}` (defaults `info`, `json`): the keys the published docs describe.
- `deployment.{timeout, pullTimeout, probationPeriod, drainTimeout}` (60 s, 600 s, 30 s, 60 s)
  and `deployment.recreate.{maxAttempts, initialDelay, maxDelay}` (5, 2 s, 30 s): blue-green
  deployments and the recreation of dead performers; `avsPerformers[].health.failureThreshold`
  (default 3) consecutive failed checks make a performer count as down.
- `avsPerformers[].verifyAggregatorSignature` (default true): check each task's aggregator
  signature against the aggregator peers; an AVS may turn it off only explicitly.
- `simulation.simulatePeering.aggregatorPeersFile`: more aggregator peers in a file of their own
  (a list of `{operatorAddress, publicKey, operatorSetId}`), re-read when it changes.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs

from executor_core.addresses import Address, AvsAddress
from executor_core.performers import PerformerImage

DEFAULT_GRPC_PORT = 9090
DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024
MAX_MESSAGE_SIZE_LIMIT = 2**31 - 1
G2_PUBLIC_KEY_SIZE = 128
PUBLIC_KEY_PROBLEM = "must be 256 hex digits (a 128-byte G2 point), 0x optional"
_NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


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


def choices_problem(choices: tuple[str, ...]) -> str:
    """Return the problem text for a value outside `choices`, shared with the loader."""
    return f"must be {choices[0]}" if len(choices) == 1 else f"must be one of {', '.join(choices)}"


def _int_in(low: int, high: int | None = None) -> _Validator:
    if high is None:
        problem = f"must be an integer of at least {low}"
    else:
        problem = f"must be an integer between {low} and {high}"

    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(problem)
        if value < low or (high is not None and value > high):
            raise ValueError(problem)

    return check


def _is_bool(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")


def _is_str(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValueError("must be a string")


def _non_empty_str(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError("must be a non-empty string")


def _one_of(*choices: str) -> _Validator:
    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if value not in choices:
            raise ValueError(choices_problem(choices))

    return check


def _member_of(kind: type[enum.StrEnum]) -> _Validator:
    problem = choices_problem(tuple(member.value for member in kind))

    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise ValueError(problem)

    return check


def _instance_of(kind: type[Any], problem: str) -> _Validator:
    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise ValueError(problem)

    return check


def _positive_seconds(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a duration")
    if not value > 0 or value == float("inf"):
        raise ValueError("must be greater than 0")


def _non_negative_seconds(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a duration")
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be 0 or more")


def _network_name(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or (value and not _NETWORK_NAME.fullmatch(value)):
        raise ValueError("must be empty or a Docker network name (letters, digits, _ . -)")


def _g2_public_key(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bytes) or len(value) != G2_PUBLIC_KEY_SIZE:
        raise ValueError(PUBLIC_KEY_PROBLEM)


def _performer_list(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not value:
        raise ValueError("must list at least one performer")
    counts = Counter(entry.avs_address for entry in value)
    for address, count in counts.items():
        if count > 1:
            entries = [str(i) for i, entry in enumerate(value) if entry.avs_address == address]
            raise ValueError(
                f"avsAddress {address} appears in entries {', '.join(entries)} "
                "(addresses ignore case); each AVS may be listed once"
            )


@attrs.frozen(kw_only=True)
class BlsKeyConfig:
    """The operator's BLS keystore, read but not decrypted, and the password that opens it."""

    keystore: str = attrs.field(validator=_non_empty_str, repr=False)
    """EIP-2335 keystore JSON text."""
    source: str = attrs.field(validator=_non_empty_str)
    """Where the keystore came from (a file path, or `inline keystore`), for messages."""
    password: str = attrs.field(default="", validator=_is_str, repr=False)


@attrs.frozen(kw_only=True)
class EcdsaKeyConfig:
    """The operator's ECDSA key: a Web3 v3 keystore (read, not decrypted) or a raw hex key."""

    keystore: str = attrs.field(default="", validator=_is_str, repr=False)
    """Web3 Secret Storage v3 JSON text; empty when `private_key` is given instead."""
    source: str = attrs.field(validator=_non_empty_str)
    password: str = attrs.field(default="", validator=_is_str, repr=False)
    private_key: str = attrs.field(default="", validator=_is_str, repr=False)
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

    address: Address = attrs.field(validator=_instance_of(Address, "must be an address"))
    signing_keys: SigningKeysConfig


@attrs.frozen(kw_only=True)
class HealthCheckConfig:
    """How often, and how patiently, a performer's application health is probed (seconds)."""

    check_interval: float = attrs.field(default=15.0, validator=_positive_seconds)
    timeout: float = attrs.field(default=1.0, validator=_positive_seconds)
    failure_threshold: int = attrs.field(default=3, validator=_int_in(1, 1000))
    """Consecutive failed checks after which the performer is recreated."""


@attrs.frozen(kw_only=True)
class RecreateConfig:
    """How a dead or unhealthy performer's container is recreated: back-off, then give up."""

    max_attempts: int = attrs.field(default=5, validator=_int_in(0, 100))
    initial_delay: float = attrs.field(default=2.0, validator=_positive_seconds)
    max_delay: float = attrs.field(default=30.0, validator=_positive_seconds)


@attrs.frozen(kw_only=True)
class DeploymentConfig:
    """Blue-green deployment limits (seconds)."""

    timeout: float = attrs.field(default=60.0, validator=_positive_seconds)
    """From container start until the new performer must be healthy."""
    pull_timeout: float = attrs.field(default=600.0, validator=_positive_seconds)
    probation_period: float = attrs.field(default=30.0, validator=_non_negative_seconds)
    """After promotion, a performer that turns unhealthy this soon is rolled back; 0 = never."""
    drain_timeout: float = attrs.field(default=60.0, validator=_non_negative_seconds)
    recreate: RecreateConfig = attrs.field(factory=RecreateConfig)


@attrs.frozen(kw_only=True)
class AvsPerformerConfig:
    """One AVS this executor serves, and the performer image that does its work."""

    avs_address: AvsAddress = attrs.field(
        validator=_instance_of(AvsAddress, "must be an AVS address")
    )
    image: PerformerImage = attrs.field(validator=_instance_of(PerformerImage, "must be an image"))
    signing_curve: SigningCurve = attrs.field(validator=_member_of(SigningCurve))
    process_type: str = attrs.field(default="server", validator=_one_of("server"))
    worker_count: int = attrs.field(default=1, validator=_int_in(1))
    """Tasks of this AVS that may run at the same time."""
    task_queue_size: int = attrs.field(default=64, validator=_int_in(0))
    """Tasks that may wait for a free worker before new ones are refused."""
    avs_registrar_address: Address | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(_instance_of(Address, "must be an address")),
    )
    health: HealthCheckConfig = attrs.field(factory=HealthCheckConfig)
    verify_aggregator_signature: bool = attrs.field(default=True, validator=_is_bool)
    """Refuse tasks the AVS's aggregator did not sign; turning it off is logged at start."""


@attrs.frozen(kw_only=True)
class AggregatorPeerConfig:
    """An aggregator whose task submissions are accepted while peering is simulated."""

    public_key: bytes = attrs.field(validator=_g2_public_key, repr=False)
    """The aggregator's BN254 G2 public key, 128 bytes (x.a1, x.a0, y.a1, y.a0)."""
    operator_address: Address = attrs.field(validator=_instance_of(Address, "must be an address"))
    network_address: str = attrs.field(default="", validator=_is_str)
    operator_set_id: int = attrs.field(default=0, validator=_int_in(0, 2**32 - 1))


@attrs.frozen(kw_only=True)
class PeeringSimulationConfig:
    """Peers given in the file instead of being read from chain."""

    enabled: bool = attrs.field(default=False, validator=_is_bool)
    aggregator_peers: tuple[AggregatorPeerConfig, ...] = attrs.field(default=())
    aggregator_peers_file: str = attrs.field(default="", validator=_is_str)
    """A YAML/JSON list of more peers, re-read when it changes; relative to the config file."""


@attrs.frozen(kw_only=True)
class SimulationConfig:
    """Settings for running without a chain (local demos and tests)."""

    simulate_peering: PeeringSimulationConfig = attrs.field(factory=PeeringSimulationConfig)


@attrs.frozen(kw_only=True)
class LoggingConfig:
    """What is logged and how it is written."""

    level: LogLevel = attrs.field(default=LogLevel.INFO, validator=_member_of(LogLevel))
    format: LogFormat = attrs.field(default=LogFormat.JSON, validator=_member_of(LogFormat))


@attrs.frozen(kw_only=True)
class ExecutorConfig:
    """Everything the executor needs to start, as read from its config file."""

    operator: OperatorConfig
    avs_performers: tuple[AvsPerformerConfig, ...] = attrs.field(validator=_performer_list)
    grpc_port: int = attrs.field(default=DEFAULT_GRPC_PORT, validator=_int_in(1, 65535))
    debug: bool = attrs.field(default=False, validator=_is_bool)
    performer_network_name: str = attrs.field(default="", validator=_network_name)
    """Docker network the performers join; empty means none (host-port mode)."""
    simulation: SimulationConfig = attrs.field(factory=SimulationConfig)
    shutdown_grace_period: float = attrs.field(default=10.0, validator=_positive_seconds)
    task_timeout: float = attrs.field(default=60.0, validator=_positive_seconds)
    """Deadline in seconds of a task whose caller sets none."""
    max_message_size: int = attrs.field(
        default=DEFAULT_MAX_MESSAGE_SIZE, validator=_int_in(1, MAX_MESSAGE_SIZE_LIMIT)
    )
    logging: LoggingConfig = attrs.field(factory=LoggingConfig)
    deployment: DeploymentConfig = attrs.field(factory=DeploymentConfig)

    def with_network(self, name: str) -> ExecutorConfig:
        """Return a copy whose performers join Docker network `name` (the CLI flag's override)."""
        return attrs.evolve(self, performer_network_name=name)

    def with_grpc_port(self, port: int) -> ExecutorConfig:
        """Return a copy that serves on `port`."""
        return attrs.evolve(self, grpc_port=port)
