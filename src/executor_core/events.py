"""Domain events: everything the core does that anyone may want to know about.

They are the only record the core keeps of what it did: it writes no log lines of its own, and
`executor_adapters.event_log` is the listener that turns each event into one. The core emits
them through `EventListener`s; it never waits on a listener, and a listener that raises is
logged and otherwise ignored, so observers cannot break the executor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import attrs

from executor_core.addresses import AvsAddress
from executor_core.performers import PerformerId, PerformerImage

_log = logging.getLogger("executor_core.events")


@attrs.frozen
class DeploymentStarted:
    avs_address: AvsAddress
    deployment_id: str
    image: PerformerImage


@attrs.frozen
class PerformerStaged:
    avs_address: AvsAddress
    deployment_id: str
    performer_id: PerformerId
    container_id: str


@attrs.frozen
class DeploymentPromoted:
    avs_address: AvsAddress
    deployment_id: str
    performer_id: PerformerId
    previous_performer_id: PerformerId | None


@attrs.frozen
class DeploymentFailed:
    avs_address: AvsAddress
    deployment_id: str
    reason: str
    error_type: str


@attrs.frozen
class DeploymentRolledBack:
    """A performer failed during its probation; the previous image serves again."""

    avs_address: AvsAddress
    deployment_id: str
    failed_performer_id: PerformerId
    performer_id: PerformerId
    image: PerformerImage


@attrs.frozen
class DeploymentRestored:
    """At start, the AVS gets the release stored by an earlier run (DeployArtifact's), not the
    config's image."""

    avs_address: AvsAddress
    image: PerformerImage


@attrs.frozen
class StoredDeploymentDropped:
    """At start, the release an earlier run stored for the AVS is not brought back, and why."""

    avs_address: AvsAddress
    reason: str


@attrs.frozen
class StateNotSaved:
    """A change of what the AVS runs could not be stored: a restart would not bring it back."""

    avs_address: AvsAddress
    reason: str


@attrs.frozen
class PerformerAdopted:
    """A container an earlier run of this executor left running serves the AVS again."""

    avs_address: AvsAddress
    performer_id: PerformerId
    container_id: str


@attrs.frozen
class LeftoverRemoved:
    """A container an earlier run of this executor left behind was removed at start."""

    container_id: str
    container_name: str
    reason: str
    avs_address: AvsAddress | None = None


@attrs.frozen
class PerformerUnhealthy:
    avs_address: AvsAddress
    performer_id: PerformerId
    reason: str


@attrs.frozen
class PerformerRecreated:
    avs_address: AvsAddress
    performer_id: PerformerId
    container_id: str
    attempt: int


@attrs.frozen
class PerformerFailed:
    """Recreation gave up; the performer stays down until a deployment replaces it."""

    avs_address: AvsAddress
    performer_id: PerformerId
    reason: str


@attrs.frozen
class PerformerRemoved:
    avs_address: AvsAddress
    performer_id: PerformerId


@attrs.frozen
class RecreationAttemptFailed:
    """One recreation of a dead performer failed; another follows unless attempts ran out."""

    avs_address: AvsAddress
    performer_id: PerformerId
    attempt: int
    reason: str


@attrs.frozen
class DrainTimedOut:
    """A replaced performer is removed with tasks still running on it."""

    avs_address: AvsAddress
    performer_id: PerformerId
    tasks: int


@attrs.frozen
class CleanupFailed:
    """A container or network could not be removed; it may be left behind."""

    what: str
    error: str
    avs_address: AvsAddress | None = None


@attrs.frozen
class ContainerEventsInterrupted:
    """The runtime's die/OOM stream broke; it is reopened, and health checks cover the gap."""

    error: str


@attrs.frozen
class AggregatorCheckDisabled:
    """An AVS runs tasks without checking the aggregator's signature: any caller may use it."""

    avs_address: AvsAddress


@attrs.frozen
class ShutdownStarted:
    tasks: int
    grace_seconds: float


@attrs.frozen
class TaskCompleted:
    """A task ran and its result was signed; times in milliseconds from its arrival."""

    avs_address: AvsAddress
    task_id: str
    performer_id: PerformerId
    duration_ms: float
    verify_ms: float
    performer_ms: float
    sign_ms: float
    output_bytes: int
    version: int = 0
    """The TaskSubmission version: 0 for first-generation tasks, 1 for second-generation."""
    curve: str = ""
    """The curve of the result signature: bn254, bls381 or ecdsa."""


@attrs.frozen
class DuplicateTaskAnswered:
    """A repeated second-generation task got the result of its earlier run, not a new one."""

    avs_address: AvsAddress
    task_id: str


@attrs.frozen
class TaskReadAtLatestBlock:
    """A second-generation task gave block 0, so its chain reads use the latest block."""

    avs_address: AvsAddress
    task_id: str


@attrs.frozen
class SignatureBatchStarted:
    """Aggregator signatures went to one verification (one multi-pairing for BN254)."""

    size: int


@attrs.frozen
class TaskFailed:
    """A task was refused or failed; `error_type` is the core error's class."""

    avs_address: AvsAddress
    task_id: str
    error: str
    error_type: str
    duration_ms: float
    version: int = 0
    """The TaskSubmission version: 0 for first-generation tasks, 1 for second-generation."""


@attrs.frozen
class ManagementCallAuthenticated:
    """A management call's signature verified; `bound` when it covered the method and body."""

    method: str
    key: str
    bound: bool


@attrs.frozen
class ManagementAuthRefused:
    """A management call was refused because its authentication is missing or wrong."""

    method: str
    reason: str


DomainEvent = (
    DeploymentStarted
    | PerformerStaged
    | DeploymentPromoted
    | DeploymentFailed
    | DeploymentRolledBack
    | PerformerAdopted
    | LeftoverRemoved
    | DeploymentRestored
    | StoredDeploymentDropped
    | StateNotSaved
    | PerformerUnhealthy
    | PerformerRecreated
    | PerformerFailed
    | PerformerRemoved
    | RecreationAttemptFailed
    | DrainTimedOut
    | CleanupFailed
    | ContainerEventsInterrupted
    | AggregatorCheckDisabled
    | ShutdownStarted
    | TaskCompleted
    | DuplicateTaskAnswered
    | TaskReadAtLatestBlock
    | TaskFailed
    | SignatureBatchStarted
    | ManagementCallAuthenticated
    | ManagementAuthRefused
)

EventListener = Callable[[DomainEvent], None]


class EventHub:
    """Fans events out to listeners; a failing listener never reaches the emitter."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Add a listener; return a function that removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event: DomainEvent) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("event listener failed", extra={"event": type(event).__name__})
