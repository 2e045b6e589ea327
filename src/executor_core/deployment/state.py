"""One AVS's performer slots as a frozen value: what `deployment.step` reads and returns.

::

    Slots
    ├── current: Member | None    takes new tasks (InService), or is being recovered
    ├── staged:  Member | None    started by the deployment in flight, being health-checked
    ├── draining: (Draining, …)   replaced or removed, finishing the tasks it still has
    ├── deployment: Deployment | None   at most one per AVS
    └── probation: Probation | None     a promoted performer that rolls back if it dies soon

A member's `phase` is one of the states of the diagram in docs/architecture.md. Everything a
running performer has besides its state (its client, its running tasks, its health counters)
belongs to the async driver, `AvsPerformer`, keyed by performer id.
"""

from __future__ import annotations

import enum

import attrs

from executor_core.performers import PerformerId, PerformerImage, PerformerStatus, Release

__all__ = ["Deployment", "Draining", "Member", "Phase", "Probation", "Slots"]


class Phase(enum.Enum):
    """Where a performer is in its life (docs/architecture.md, "The deployment state machine")."""

    STAGED = "Staged"
    """Started by a deployment; promoted once its health check passes."""
    IN_SERVICE = "InService"
    """The current performer: every new task of the AVS runs on it."""
    RECOVERING = "Recovering"
    """The current performer's container died or failed its checks; a recreation (same id) or
    a rollback (the previous image) is under way, and tasks fail fast meanwhile."""
    FAILED = "Failed"
    """Recreation gave up; it stays current, taking no tasks, until a deployment replaces it."""
    DRAINING = "Draining"
    """Replaced or removed; the tasks it still has may finish, then it is removed."""

    @property
    def wire_status(self) -> PerformerStatus:
        """How ListPerformers spells it: a staged performer, or the AVS's current one."""
        return PerformerStatus.STAGED if self is Phase.STAGED else PerformerStatus.IN_SERVICE


@attrs.frozen
class Member:
    """A performer as the state machine knows it: identity, release, container and phase.

    The release (image and environment) is the performer's for life: a recreation under the
    same id starts the same one.
    """

    performer_id: PerformerId
    release: Release
    container_id: str
    phase: Phase

    @property
    def image(self) -> PerformerImage:
        return self.release.image


@attrs.frozen
class Draining:
    """A member finishing its tasks, and the RemovePerformer call to answer when it is gone."""

    member: Member
    reply_to: str | None = None


@attrs.frozen
class Deployment:
    """The deployment in flight. A rollback names the failed performer it replaces."""

    deployment_id: str
    release: Release
    rollback_of: PerformerId | None = None

    @property
    def image(self) -> PerformerImage:
        return self.release.image


@attrs.frozen
class Probation:
    """If `performer_id` goes down before `until` (monotonic seconds), `fallback` (the previous
    performer's release, its environment included) comes back."""

    performer_id: PerformerId
    fallback: Release
    until: float


@attrs.frozen
class Slots:
    """Everything the blue-green state machine decides on, for one AVS."""

    current: Member | None = None
    staged: Member | None = None
    draining: tuple[Draining, ...] = ()
    deployment: Deployment | None = None
    probation: Probation | None = None
    stopped: bool = False

    def members(self) -> tuple[Member, ...]:
        """Every member, current first, then staged, then draining."""
        listed = tuple(m for m in (self.current, self.staged) if m is not None)
        return listed + tuple(d.member for d in self.draining)

    def find(self, performer_id: PerformerId) -> Member | None:
        return next((m for m in self.members() if m.performer_id == performer_id), None)

    def owner_of(self, container_id: str) -> Member | None:
        """The member running `container_id`, if any."""
        return next((m for m in self.members() if m.container_id == container_id), None)

    def listed(self) -> tuple[Member, ...]:
        """What ListPerformers shows: the current performer, then the staged one."""
        return tuple(m for m in (self.current, self.staged) if m is not None)

    @property
    def empty(self) -> bool:
        """No performer and no deployment: nothing left for this AVS."""
        return not self.members() and self.deployment is None
