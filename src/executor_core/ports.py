"""The ports: what the core needs from the outside world, as typing.Protocol.

Every port has a real adapter in `executor_adapters` and an in-memory one in
`executor_adapters.memory`; the contract suites in tests/contract hold both to the same behaviour.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs

from executor_core.addresses import Address, AvsAddress
from executor_core.performers import (
    ContainerSpec,
    Endpoint,
    PerformerId,
    PerformerImage,
    Release,
    RunningContainer,
)
from executor_core.tasks import TaskResult


class ContainerEventKind(enum.Enum):
    """What happened to a container, as far as the executor cares."""

    DIED = "die"
    OOM_KILLED = "oom"


@attrs.frozen
class ContainerEvent:
    """A container stopped running (or the kernel killed it for memory)."""

    container_id: str
    kind: ContainerEventKind
    exit_code: int | None = None

    @property
    def reason(self) -> str:
        """What happened, in words, for events and logs."""
        if self.kind is ContainerEventKind.OOM_KILLED:
            return "container was killed for lack of memory"
        return f"container exited (code {self.exit_code})"


@attrs.frozen
class NetworkRef:
    """A container network, and whether it is this executor's to remove: made now, or found
    carrying all the labels asked for (made by an earlier run of the same executor)."""

    network_id: str
    name: str
    created: bool


@attrs.frozen
class FoundContainer:
    """A container the engine has with given labels: what the start-up reconciler needs to
    tell whether it can be adopted as a performer or must go."""

    container_id: str
    name: str
    labels: Mapping[str, str]
    running: bool
    image_reference: str
    """The reference it was created from (`repo@sha256:…`, `repo:tag`)."""
    image_id: str
    """The id of the image it runs (`sha256:…` of the image config)."""
    env: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)
    endpoint: Endpoint | None = None
    """The loopback endpoint of its performer port; None when not running or not published."""
    image_digest: str = ""


class ContainerRuntime(Protocol):
    """**Protocol:** runs performer containers; the executor owns their whole lifecycle."""

    async def ensure_network(
        self, name: str, labels: Mapping[str, str], *, internal: bool = False
    ) -> NetworkRef:
        """Return the network called `name`, creating it (with `labels`) if it is missing.

        An `internal` network has no route out of the host; its containers' performer ports
        are still reached on 127.0.0.1. A network that exists with the other setting is
        refused (`ContainerRuntimeError`), never used as it is.
        """
        ...

    async def remove_network(self, network_id: str) -> None:
        """Remove a network by id; a network that is already gone is not an error."""
        ...

    async def ensure_image(self, image: PerformerImage) -> None:
        """Pull the image unless it is already present (by digest when it has one)."""
        ...

    async def start_container(self, spec: ContainerSpec) -> RunningContainer:
        """Create and start a container and wait until it runs with its port published.

        The result carries the repository digest of the image the container runs, as the
        image's registry knows it (for an image by tag, the digest the pull recorded); empty
        when the engine knows none, as for an image built locally. A container that fails on
        the way is removed before the error is raised.
        """
        ...

    async def is_running(self, container_id: str) -> bool:
        """Tell whether the container exists and runs."""
        ...

    async def find_containers(self, labels: Mapping[str, str]) -> list[FoundContainer]:
        """Every container, running or not, that carries all `labels` (at least one)."""
        ...

    async def local_image_id(self, reference: str) -> str | None:
        """The id of the image `reference` names locally, without pulling; None if absent."""
        ...

    async def remove_container(self, container_id: str, *, grace_seconds: float) -> None:
        """Stop the container (SIGTERM, then SIGKILL after the grace) and remove it.

        A container that is already gone is not an error.
        """
        ...

    def events(self, labels: Mapping[str, str]) -> AsyncIterator[ContainerEvent]:
        """Stream die and OOM events of containers that carry all `labels`, until cancelled.

        The stream reconnects by itself when the engine connection drops; events that happen
        while it is down are lost, which is why health is also checked periodically.
        """
        ...

    async def aclose(self) -> None:
        """Release the connection to the engine."""
        ...


class PerformerClient(Protocol):
    """**Protocol:** talks to one performer's PerformerService."""

    async def execute_task(self, task_id: bytes, payload: bytes, *, timeout: float) -> bytes:
        """Run a task and return the performer's result bytes."""
        ...

    async def check_health(self, *, timeout: float) -> bool:
        """Return True when the performer says it is ready for tasks."""
        ...

    async def aclose(self) -> None:
        """Close the connection."""
        ...


class PerformerConnector(Protocol):
    """**Protocol:** opens a client to the performer at an endpoint."""

    def connect(self, endpoint: Endpoint) -> PerformerClient:
        """Return a client for the performer at `endpoint` (connection is lazy)."""
        ...


class ResultSigner(Protocol):
    """**Protocol:** signs a task's output with the operator's key for one AVS's curve."""

    async def sign_result(self, output: bytes) -> bytes:
        """Return the signature over the output, as the aggregator expects it."""
        ...


class AggregatorKeys(Protocol):
    """**Protocol:** where the public keys of each AVS's aggregators come from (config, chain)."""

    async def keys_for(self, avs: AvsAddress, aggregator: Address) -> Sequence[bytes]:
        """Return the aggregator's BN254 G2 public keys for the AVS; empty when it is unknown."""
        ...


@attrs.frozen
class SignedMessage:
    """A message and the signature that claims to sign it."""

    message: bytes = attrs.field(repr=False)
    signature: bytes = attrs.field(repr=False)


class TaskSignatureVerifier(Protocol):
    """**Protocol:** checks aggregators' signatures over tasks, many at a time."""

    async def verify_batch(
        self, public_keys: Sequence[bytes], items: Sequence[SignedMessage]
    ) -> Sequence[bool]:
        """For each item, whether its signature verifies under any of the keys.

        Every verdict must be the one the item would get checked alone: a batch with a bad
        signature must not fail the good ones, nor let the bad one through.
        """
        ...


class KeyCurve(enum.IntEnum):
    """An operator set's key type, as KeyRegistrar `getOperatorSetCurveType` numbers it."""

    NONE = 0
    ECDSA = 1
    BN254 = 2


@attrs.frozen
class OperatorSet:
    """An AVS's operator set: `(avs, id)` as EigenLayer's contracts write it."""

    avs: AvsAddress
    id: int = attrs.field(validator=[attrs.validators.ge(0), attrs.validators.lt(2**32)])


LATEST_BLOCK = 0
"""The block number that means "the chain's latest block" (never cached)."""


class ChainReader(Protocol):
    """**Protocol:** the on-chain facts the second generation checks, each read at a block.

    `block` 0 means the latest block. State at a fixed block never changes, so an adapter may
    cache every answer for a block > 0 forever. Raises `ChainUnavailable` when the endpoint
    cannot be reached or does not answer in time, and `ChainDataError` when a contract answers
    with something that is not what its ABI promises (no code at the address, a revert).
    """

    async def aggregator_operator_set_id(self, avs: AvsAddress, *, block: int) -> int:
        """The AVS's aggregator operator set id: AllocationManager `getAVSRegistrar(avs)`, then
        that registrar's `getAvsConfig().aggregatorOperatorSetId`."""
        ...

    async def curve_type(self, operator_set: OperatorSet, *, block: int) -> KeyCurve:
        """KeyRegistrar `getOperatorSetCurveType(operatorSet)`."""
        ...

    async def bn254_key(self, operator_set: OperatorSet, operator: Address, *, block: int) -> bytes:
        """The operator's registered BN254 G2 key, 128 bytes `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`;
        empty when none is registered (all-zero point)."""
        ...

    async def ecdsa_address(
        self, operator_set: OperatorSet, operator: Address, *, block: int
    ) -> Address | None:
        """The operator's registered ECDSA signing address; None when none is registered."""
        ...

    async def is_member(self, operator: Address, operator_set: OperatorSet, *, block: int) -> bool:
        """AllocationManager `isMemberOfOperatorSet(operator, operatorSet)`."""
        ...

    async def members(self, operator_set: OperatorSet, *, block: int) -> Sequence[Address]:
        """AllocationManager `getMembers(operatorSet)`."""
        ...

    async def ecdsa_domain_separator(self) -> bytes:
        """The ECDSACertificateVerifier's `domainSeparator()`, 32 bytes (read once)."""
        ...


class Hasher(Protocol):
    """**Protocol:** Ethereum's Keccak-256, which the core needs to build what it signs."""

    def keccak256(self, data: bytes) -> bytes:
        """The 32-byte Keccak-256 digest (the original Keccak, not NIST SHA3-256)."""
        ...


@runtime_checkable
class OperatorSigner(Protocol):
    """**Protocol:** the operator's key on one curve, with upstream's two signing rules (G2)."""

    @property
    def curve(self) -> KeyCurve:
        """BN254 or ECDSA."""
        ...

    async def sign_message(self, data: bytes) -> bytes:
        """`SignMessage`: a signature over keccak256(data) (BN254: RFC 9380 hash to G1)."""
        ...

    async def sign_for_solidity(self, data: bytes) -> bytes:
        """`SignMessageForSolidity`: data of exactly 32 bytes is signed as is, other data is
        hashed with keccak256 first (BN254: try-and-increment hash to G1, as the contracts)."""
        ...


@attrs.frozen
class ProcessedTask:
    """A signed result kept so that a repeated submission gets the same bytes back.

    `fingerprint` identifies the request that produced it (its signed message and signature),
    so that a different request reusing the task id is told apart from a retry.
    """

    fingerprint: bytes
    result: TaskResult


class ProcessedTasks(Protocol):
    """**Protocol:** the store of results of second-generation tasks, keyed by AVS and task id.

    It may forget entries (after a retention, or to stay under a size cap): the executor then
    runs a repeated task again, which is safe because results are deterministic.
    """

    async def get(self, avs: AvsAddress, task_id: str) -> ProcessedTask | None:
        """The stored result of the task, or None."""
        ...

    async def put(self, avs: AvsAddress, task_id: str, entry: ProcessedTask) -> None:
        """Keep the result of a task that completed."""
        ...


@attrs.frozen
class StoredDeployment:
    """What an AVS runs, kept so that a restart brings back what DeployArtifact deployed."""

    avs: AvsAddress
    release: Release = attrs.field(repr=False)
    performer_id: PerformerId
    configured_image: PerformerImage | None
    """The image the config named for the AVS when this was stored; None for an AVS the config
    does not name. A config whose image has changed since wins over the stored release."""


class DeploymentStore(Protocol):
    """**Protocol:** the in-service release of each AVS, across restarts.

    `save` and `forget` return once the change is durable: a deployment is acknowledged only
    after it.
    """

    async def load(self) -> Sequence[StoredDeployment]:
        """Every AVS's stored deployment."""
        ...

    async def save(self, deployment: StoredDeployment) -> None:
        """Keep the AVS's in-service release, replacing what was kept for it."""
        ...

    async def forget(self, avs: AvsAddress) -> None:
        """The AVS has no performer any more (RemovePerformer): keep nothing for it."""
        ...


class Clock(Protocol):
    """**Protocol:** wall time for reports, monotonic time for deadlines."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Return seconds on a clock that never goes back."""
        ...


class IdSource(Protocol):
    """**Protocol:** unique ids for performers and deployments."""

    def new_id(self) -> str:
        """Return a new id, unique for the life of the process."""
        ...
