"""The pure state machine, `deployment.step`, driven by random signals in any order a world could
produce them: deployments, staging results, crashes, recreations, removals, drains, a stop.

A model world answers the effects (starts the containers StartStaging asks for, finishes the
recreations and drains it was asked for, keeps the containers that exist) and the invariants
hold the slots to it after every step: nothing leaks, every caller hears back exactly once,
the slots always say what the diagram of docs/architecture.md says they may.
"""

from __future__ import annotations

import itertools
from collections import Counter

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from executor_core import deployment as dm
from executor_core import events as ev
from executor_core.deployment import Phase, Slots
from executor_core.errors import ContainerStartFailed, DeploymentInProgress, ImageNotFound
from executor_core.performers import PerformerId, PerformerImage, Release
from executor_core.settings import DeploymentPolicy

from .conftest import AVS

IMAGES = [PerformerImage("registry.local/avs", tag=t) for t in ("v1", "v2", "v3")]
RELEASES = [
    Release(image, env)
    for image in IMAGES
    for env in ((), (("MODE", "a"),), (("MODE", "b"), ("TOKEN", "secret")))
]
POLICIES = st.builds(
    DeploymentPolicy,
    probation_period=st.sampled_from([0.0, 30.0]),
    max_recreations=st.integers(0, 3),
)


class Steps(RuleBasedStateMachine):
    """Slots under random signals, with a world that does what the effects ask."""

    def __init__(self) -> None:
        super().__init__()
        self.slots = Slots()
        self.policy = DeploymentPolicy()
        self.now = 0.0
        self.ids = itertools.count(1)
        self.containers: set[str] = set()
        """Containers that exist in the world."""
        self.staging: dict[str, Release] = {}
        """Deployments whose StartStaging is being carried out, not yet reported."""
        self.started: dict[str, tuple[PerformerId, str]] = {}
        """Deployments whose container runs (StagingStarted sent), not yet healthy or failed."""
        self.recreations: dict[PerformerId, dm.ScheduleRecreation] = {}
        self.drains: set[PerformerId] = set()
        self.waiting: set[str] = set()
        """Requests whose caller has not heard back yet."""
        self.replies: Counter[str] = Counter()
        self.emitted: list[ev.DomainEvent] = []
        self.checked_events = 0
        """How many of `emitted` the invariants have looked at: each looks at one step's."""

    def feed(self, signal: dm.Signal) -> list[dm.Effect]:
        before = self.slots
        self.slots, effects = dm.step(self.slots, signal, AVS, self.policy)
        self.check_releases_travel_with_their_performers(before, effects)
        for effect in effects:
            match effect:
                case dm.Emit():
                    self.emitted.append(effect.event)
                case dm.StartStaging():
                    self.staging[effect.deployment_id] = effect.release
                case dm.CancelStaging():
                    self.staging.pop(effect.deployment_id, None)
                    self.started.pop(effect.deployment_id, None)
                case dm.Reply():
                    self.replies[effect.request_id] += 1
                    self.waiting.discard(effect.request_id)
                case dm.StartDrain():
                    self.drains.add(effect.performer_id)
                case dm.Dispose():
                    self.containers.discard(effect.container_id)
                case dm.ScheduleRecreation():
                    assert effect.performer_id not in self.recreations
                    self.recreations[effect.performer_id] = effect
                case dm.CancelRecreation():
                    self.recreations.pop(effect.performer_id, None)
        return effects

    def check_releases_travel_with_their_performers(
        self, before: Slots, effects: list[dm.Effect]
    ) -> None:
        """A recreation starts the performer's own release (its environment included), a
        probation falls back to the release of the performer it replaced, and a rollback
        starts that release."""
        after = self.slots
        for effect in effects:
            if isinstance(effect, dm.ScheduleRecreation):
                assert after.current is not None
                assert effect.performer_id == after.current.performer_id
                assert effect.release == after.current.release
            rollback = after.deployment is not None and after.deployment.rollback_of is not None
            if isinstance(effect, dm.StartStaging) and rollback:
                assert before.probation is not None
                assert effect.release == before.probation.fallback
        probation = after.probation
        if probation is not None and probation != before.probation:
            assert before.current is not None
            assert probation.fallback == before.current.release

    def new(self, kind: str) -> str:
        return f"{kind}-{next(self.ids)}"

    # --- requests -----------------------------------------------------------------------------

    @rule(policy=POLICIES)
    def the_policy_changes(self, policy: DeploymentPolicy) -> None:
        self.policy = policy

    @rule(release=st.sampled_from(RELEASES))
    def deploy(self, release: Release) -> None:
        deployment_id = self.new("deployment")
        busy = self.slots.deployment is not None and not self.slots.stopped
        self.waiting.add(deployment_id)
        effects = self.feed(dm.DeployRequested(deployment_id, release))
        if busy:
            (reply,) = effects
            assert isinstance(reply, dm.Reply)
            assert isinstance(reply.error, DeploymentInProgress)

    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        known = [m.performer_id for m in self.slots.listed()]
        performer_id = data.draw(st.sampled_from([*known, PerformerId("performer-unknown")]))
        request_id = self.new("remove")
        self.waiting.add(request_id)
        self.feed(dm.RemoveRequested(performer_id, request_id))

    @rule()
    def stop(self) -> None:
        self.feed(dm.StopRequested())
        self.staging.clear()
        self.started.clear()
        self.drains.clear()
        assert self.slots.members() == ()
        assert self.recreations == {}

    # --- the world reports ----------------------------------------------------------------------

    @precondition(lambda self: self.staging)
    @rule(data=st.data())
    def a_staged_container_starts(self, data: st.DataObject) -> None:
        deployment_id = data.draw(st.sampled_from(sorted(self.staging)))
        self.staging.pop(deployment_id)
        performer_id, container_id = PerformerId(self.new("performer")), self.new("container")
        self.containers.add(container_id)
        self.started[deployment_id] = (performer_id, container_id)
        self.feed(dm.StagingStarted(deployment_id, performer_id, container_id))

    @precondition(lambda self: self.started)
    @rule(data=st.data(), healthy=st.booleans())
    def a_staged_performer_answers_or_not(self, data: st.DataObject, healthy: bool) -> None:
        deployment_id = data.draw(st.sampled_from(sorted(self.started)))
        self.started.pop(deployment_id)
        if healthy:
            self.feed(dm.StagingHealthy(deployment_id, self.now))
        else:
            self.feed(dm.StagingFailed(deployment_id, ContainerStartFailed("exited")))

    @precondition(lambda self: self.staging)
    @rule(data=st.data())
    def a_pull_fails(self, data: st.DataObject) -> None:
        deployment_id = data.draw(st.sampled_from(sorted(self.staging)))
        self.staging.pop(deployment_id)
        self.feed(dm.StagingFailed(deployment_id, ImageNotFound("no such image")))

    @precondition(lambda self: self.slots.members())
    @rule(data=st.data())
    def a_container_dies(self, data: st.DataObject) -> None:
        member = data.draw(st.sampled_from(self.slots.members()))
        self.containers.discard(member.container_id)
        self.feed(dm.PerformerDown(member.performer_id, "died", self.now, self.new("rollback")))

    @precondition(lambda self: self.recreations)
    @rule(data=st.data(), works=st.booleans(), engine_down=st.booleans())
    def a_recreation_ends(self, data: st.DataObject, works: bool, engine_down: bool) -> None:
        performer_id = data.draw(st.sampled_from(sorted(self.recreations, key=str)))
        effect = self.recreations.pop(performer_id)
        member = self.slots.find(performer_id)
        if member is not None:
            self.containers.discard(member.container_id)  # the driver removes the dead one
        if works:
            container_id = self.new("container")
            self.containers.add(container_id)
            self.feed(dm.RecreationSucceeded(performer_id, container_id, effect.attempt))
        elif engine_down:
            self.feed(
                dm.RecreationFailed(
                    performer_id,
                    effect.attempt,
                    "engine unreachable",
                    engine_unavailable=True,
                    engine_waits=effect.engine_waits,
                )
            )
        else:
            self.feed(dm.RecreationFailed(performer_id, effect.attempt, "exited again"))

    @precondition(lambda self: self.drains)
    @rule(data=st.data(), tasks_left=st.integers(0, 2))
    def a_drain_ends(self, data: st.DataObject, tasks_left: int) -> None:
        performer_id = data.draw(st.sampled_from(sorted(self.drains, key=str)))
        self.drains.discard(performer_id)
        self.feed(dm.DrainFinished(performer_id, tasks_left))

    @rule(seconds=st.sampled_from([1.0, 60.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def every_container_that_exists_belongs_to_a_member(self) -> None:
        members = {m.container_id for m in self.slots.members()}
        assert self.containers <= members, self.containers - members

    @invariant()
    def each_caller_hears_back_once_and_only_when_done(self) -> None:
        assert all(count == 1 for count in self.replies.values()), self.replies
        pending = set(self.waiting)
        if self.slots.deployment is not None:
            pending.discard(self.slots.deployment.deployment_id)
        pending -= {d.reply_to for d in self.slots.draining if d.reply_to}
        assert pending == set(), pending

    @invariant()
    def the_slots_hold_what_the_diagram_allows(self) -> None:
        slots = self.slots
        ids = [m.performer_id for m in slots.members()]
        assert len(ids) == len(set(ids))
        if slots.current is not None:
            assert slots.current.phase in (Phase.IN_SERVICE, Phase.RECOVERING, Phase.FAILED)
        if slots.staged is not None:
            assert slots.staged.phase is Phase.STAGED
            assert slots.deployment is not None
        assert all(d.member.phase is Phase.DRAINING for d in slots.draining)
        if slots.probation is not None:
            assert slots.current is not None
            assert slots.probation.performer_id == slots.current.performer_id
        for performer_id in self.recreations:
            assert slots.current is not None
            assert slots.current.performer_id == performer_id
            assert slots.current.phase is Phase.RECOVERING
        if slots.stopped:
            assert attrs.evolve(slots, stopped=False) == Slots()

    @invariant()
    def a_rollback_brings_back_the_image_before(self) -> None:
        step_events = self.emitted[self.checked_events :]
        self.checked_events = len(self.emitted)
        for event in step_events:
            if isinstance(event, ev.DeploymentRolledBack):
                assert self.slots.current is not None
                assert self.slots.current.image == event.image
                assert self.slots.probation is None


Steps.TestCase.settings = settings(
    max_examples=1500,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSteps = Steps.TestCase


def test_an_engine_outage_is_retried_without_end_and_uses_up_no_attempts() -> None:
    avs = AVS
    policy = DeploymentPolicy(max_recreations=2, recreate_initial_delay=1, engine_retry_max_delay=3)
    release = Release(PerformerImage("repo", tag="v1"))
    performer_id = PerformerId("performer-1")
    slots = Slots(current=dm.Member(performer_id, release, "c1", Phase.IN_SERVICE))
    slots, effects = dm.step(slots, dm.PerformerDown(performer_id, "died", 0, "r"), avs, policy)
    [retry] = [e for e in effects if isinstance(e, dm.ScheduleRecreation)]
    delays = []
    for _ in range(10):
        failed = dm.RecreationFailed(
            performer_id,
            retry.attempt,
            "engine unreachable",
            engine_unavailable=True,
            engine_waits=retry.engine_waits,
        )
        slots, effects = dm.step(slots, failed, avs, policy)
        [retry] = [e for e in effects if isinstance(e, dm.ScheduleRecreation)]
        delays.append(retry.delay)
    assert retry.attempt == 1
    assert delays == [1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]
    assert slots.current is not None
    assert slots.current.phase is Phase.RECOVERING
    back = dm.RecreationSucceeded(performer_id, "c2", retry.attempt)
    slots, _ = dm.step(slots, back, avs, policy)
    assert slots.current is not None
    assert slots.current.phase is Phase.IN_SERVICE
