"""Random sequences of deployments, crashes, removals and tasks against one AVS's slots.

A hypothesis state machine drives an Executor on the in-memory adapters and keeps a model of
what must be in service: the image of the last deployment that succeeded (or of the rollback
that replaced it), nothing after a removal. Stateful testing is synchronous, so each example owns
one event loop for its whole life; every rule runs its coroutine on it, and the executor's
background work (health monitors, drains, recreations, rollbacks, the container event pump)
keeps running there between rules.

Probation is either off or long enough never to end by itself; a rule moves the executor's
monotonic clock past it instead, so the model always knows whether a crash means a rollback.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from executor_adapters.memory import FakeClock, InMemoryContainerRuntime
from executor_core.errors import (
    ContainerStartFailed,
    DeploymentInProgress,
    DeploymentTimeout,
    ImageNotFound,
    PerformerNotFound,
    PerformerUnavailable,
)
from executor_core.events import (
    DeploymentRolledBack,
    DomainEvent,
    PerformerFailed,
    PerformerRecreated,
    PerformerStaged,
)
from executor_core.executor import Executor
from executor_core.performers import PerformerId, PerformerImage, PerformerStatus, PerformerView

from .conftest import AVS, FAST_POLICY, Harness, make_task
from .versioned import VersionedConnector

T = TypeVar("T")

REPOSITORY = "registry.local/avs"
GOOD_TAGS = ("v1", "v2", "v3")
MISSING = "v9"
"""Not in the registry: pulling it raises ImageNotFound."""
NEVER_HEALTHY = "hangs"
"""Starts, but never answers its health check: the deployment times out."""
EXITS = "exits"
"""Exits as soon as it starts: ContainerStartFailed."""
OUTCOME: dict[str, type[Exception] | None] = {
    **dict.fromkeys(GOOD_TAGS),
    MISSING: ImageNotFound,
    NEVER_HEALTHY: DeploymentTimeout,
    EXITS: ContainerStartFailed,
}
"""What deploying each tag ends in: None for success, else the error it raises."""

PROBATION = 3600.0
"""Long enough that it never ends on its own during an example."""
POLICY = attrs.evolve(
    FAST_POLICY,
    deployment_timeout=0.3,
    drain_timeout=0.1,
    max_recreations=3,
    recreate_initial_delay=0.01,
    recreate_max_delay=0.02,
)
SETTLE = 1.0
"""How long an eventual property may take before the machine calls it broken."""
RULE_TIMEOUT = 10.0


def image(tag: str) -> PerformerImage:
    return PerformerImage(REPOSITORY, tag=tag)


class SteppedClock(FakeClock):
    """Monotonic time that follows the real clock but can also be moved forward, so a rule can
    end a probation period without waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = 0.0

    def monotonic(self) -> float:
        return super().monotonic() + self.offset


class BlueGreenDeployments(RuleBasedStateMachine):
    """One AVS, deployed, crashed and removed at random; the model says what must serve."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.executor: Executor | None = None
        self.events: list[DomainEvent] = []
        self.task_numbers = itertools.count(1)
        self.serving: str | None = None
        """Tag of the image the in-service performer must run; None when there is none."""
        self.fallback: str | None = None
        """Tag a crash in probation rolls back to; None when a crash means recreation."""
        self.down = False
        """Recreation gave up: the in-service performer stays listed but takes no tasks."""
        self.seen: set[PerformerId] = set()

    # --- plumbing ---------------------------------------------------------------------------

    def run(self, awaitable: Awaitable[T]) -> T:
        async def bounded() -> T:
            async with asyncio.timeout(RULE_TIMEOUT):
                return await awaitable

        return self.loop.run_until_complete(bounded())

    def settle(self, condition: Callable[[], bool], timeout: float = SETTLE) -> bool:
        """Let the loop run until `condition` holds; tell whether it did within `timeout`."""

        async def poll() -> bool:
            deadline = self.loop.time() + timeout
            while not condition():
                if self.loop.time() > deadline:
                    return False
                await asyncio.sleep(0.01)
            return True

        return self.loop.run_until_complete(poll())

    @property
    def ex(self) -> Executor:
        assert self.executor is not None
        return self.executor

    def in_service(self) -> PerformerView | None:
        views = [v for v in self.ex.list_performers() if v.status is PerformerStatus.IN_SERVICE]
        return views[0] if views else None

    def slot_state(self) -> tuple[Any, ...] | None:
        view = self.in_service()
        return None if view is None else (view.performer_id, view.image, view.container_id)

    def wait_for(self, kinds: tuple[type, ...], since: int, performer_id: PerformerId) -> Any:
        """The first event of one of `kinds` about `performer_id` emitted after `since`."""

        def found() -> Any:
            for event in self.events[since:]:
                if isinstance(event, kinds) and performer_id in (
                    getattr(event, "performer_id", None),
                    getattr(event, "failed_performer_id", None),
                ):
                    return event
            return None

        assert self.settle(lambda: found() is not None), f"no {kinds} for {performer_id}"
        return found()

    def deployed(self, tag: str) -> None:
        """Record in the model that a deployment of `tag` was promoted."""
        self.fallback = self.serving if self.probation > 0 else None
        self.serving = tag
        self.down = False

    # --- setup and teardown -----------------------------------------------------------------

    @initialize(probation=st.sampled_from([0.0, PROBATION]))
    def an_executor_serving_v1(self, probation: float) -> None:
        harness = Harness()
        harness.runtime = InMemoryContainerRuntime(
            available_images=[image(t) for t in OUTCOME if t != MISSING],
            exiting_images=[image(EXITS)],
        )
        connector = VersionedConnector(harness.runtime)
        connector.unhealthy.add(NEVER_HEALTHY)
        harness.connector = connector
        self.clock = harness.clock = SteppedClock()
        self.runtime = harness.runtime
        self.connector = connector
        self.probation = probation
        self.executor = harness.build(
            harness.settings(image=image("v1")),
            policy=attrs.evolve(POLICY, probation_period=probation),
        )
        self.executor.subscribe(self.events.append)
        self.run(self.executor.start())
        self.serving = "v1"

    @staticmethod
    async def cancel_leftovers() -> None:
        """Cancel whatever a failed example left running, so the loop closes cleanly."""
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def teardown(self) -> None:
        try:
            if self.executor is not None:
                self.run(self.executor.shutdown(0))
                assert self.runtime.containers == {}, "containers left after shutdown"
        finally:
            self.loop.run_until_complete(self.cancel_leftovers())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    # --- deployments ------------------------------------------------------------------------

    @rule(tag=st.sampled_from(GOOD_TAGS))
    def a_good_image_is_promoted(self, tag: str) -> None:
        deployment = self.run(self.ex.deploy_artifact(AVS, image(tag)))
        view = self.in_service()
        assert view is not None
        assert (view.performer_id, view.image.tag) == (deployment.performer_id, tag)
        self.deployed(tag)

    @rule(tag=st.sampled_from([MISSING, NEVER_HEALTHY, EXITS]))
    def a_failed_deployment_leaves_the_in_service_performer_alone(self, tag: str) -> None:
        before = self.slot_state()
        error = OUTCOME[tag]
        assert error is not None
        try:
            self.run(self.ex.deploy_artifact(AVS, image(tag)))
        except error:
            pass
        else:
            raise AssertionError(f"deploying {tag} did not raise {error.__name__}")
        assert self.slot_state() == before

    @rule(first=st.sampled_from(list(OUTCOME)), second=st.sampled_from(list(OUTCOME)))
    def of_two_simultaneous_deployments_one_is_refused(self, first: str, second: str) -> None:
        before = self.slot_state()

        async def both() -> list[Any]:
            return list(
                await asyncio.gather(
                    self.ex.deploy_artifact(AVS, image(first)),
                    self.ex.deploy_artifact(AVS, image(second)),
                    return_exceptions=True,
                )
            )

        results = self.run(both())
        refused = [r for r in results if isinstance(r, DeploymentInProgress)]
        assert len(refused) == 1, results
        ((tag, result),) = [
            (t, r) for t, r in zip((first, second), results, strict=True) if r is not refused[0]
        ]
        error = OUTCOME[tag]
        if error is None:
            assert not isinstance(result, BaseException), result
            self.deployed(tag)
        else:
            assert isinstance(result, error), result
            assert self.slot_state() == before

    # --- crashes ----------------------------------------------------------------------------

    @precondition(lambda self: self.serving is not None and not self.down)
    @rule(
        how=st.sampled_from(["killed", "oom", "fails_health_checks"]),
        failed_starts=st.integers(0, 3),
    )
    def a_dead_performer_is_rolled_back_or_recreated(self, how: str, failed_starts: int) -> None:
        """Probation: roll back (and, if that fails, recreate); else recreate, giving up after
        `max_recreations` failed starts."""
        view = self.in_service()
        assert view is not None
        since = len(self.events)
        for _ in range(failed_starts):
            self.runtime.fail_next_start(ContainerStartFailed("scripted start failure"))
        if how == "fails_health_checks":
            endpoint = self.runtime.containers[view.container_id].endpoint
            self.connector.client_for(endpoint).healthy = False
        else:
            self.runtime.crash(view.container_id, oom=how == "oom")
        event = self.wait_for(
            (DeploymentRolledBack, PerformerRecreated, PerformerFailed), since, view.performer_id
        )
        # a rollback's own start uses up one scripted failure before recreation takes over
        recreation_failures = failed_starts - (1 if self.fallback is not None else 0)
        if self.fallback is not None and failed_starts == 0:
            assert isinstance(event, DeploymentRolledBack), event
            assert event.image.tag == self.fallback
            # the image that just failed is no way back: the restored one is not on probation
            self.serving, self.fallback = self.fallback, None
        elif recreation_failures < POLICY.max_recreations:
            assert isinstance(event, PerformerRecreated), event
            assert event.attempt == recreation_failures + 1
            self.fallback = None
        else:
            assert isinstance(event, PerformerFailed), event
            self.fallback = None
            self.down = True

    @precondition(lambda self: self.serving is not None and not self.down)
    @rule(tag=st.sampled_from(GOOD_TAGS))
    def a_deployment_during_recovery_replaces_the_crashed_performer(self, tag: str) -> None:
        view = self.in_service()
        assert view is not None
        since = len(self.events)
        self.runtime.crash(view.container_id)
        try:
            self.run(self.ex.deploy_artifact(AVS, image(tag)))
        except DeploymentInProgress:
            # only a rollback, started by the crash, can hold the slot
            assert self.fallback is not None
            self.wait_for((DeploymentRolledBack,), since, view.performer_id)
            self.serving, self.fallback = self.fallback, None
        else:
            self.deployed(tag)

    @precondition(lambda self: self.probation > 0 and self.fallback is not None)
    @rule()
    def after_probation_a_crash_means_recreation(self) -> None:
        self.clock.offset += self.probation + 1
        self.fallback = None

    # --- removal ----------------------------------------------------------------------------

    @precondition(lambda self: self.serving is not None)
    @rule()
    def removing_the_in_service_performer_leaves_none(self) -> None:
        view = self.in_service()
        assert view is not None
        self.run(self.ex.remove_performer(view.performer_id))
        assert view.container_id not in self.runtime.containers
        self.serving = self.fallback = None
        self.down = False

    @rule(remove_in_service_too=st.booleans())
    def removing_a_staged_performer_fails_its_deployment(self, remove_in_service_too: bool) -> None:
        """Optionally the in-service one goes first, leaving no performer when it fails."""
        before = self.slot_state()
        since = len(self.events)
        deploying = self.loop.create_task(self.ex.deploy_artifact(AVS, image(NEVER_HEALTHY)))
        assert self.settle(lambda: any(isinstance(e, PerformerStaged) for e in self.events[since:]))
        views = self.ex.list_performers()
        staged = [v for v in views if v.status is PerformerStatus.STAGED]
        assert len(staged) == 1, views
        assert len(views) == 1 + (self.serving is not None)
        if remove_in_service_too and before is not None:
            self.run(self.ex.remove_performer(before[0]))
            self.serving = self.fallback = None
            self.down = False
            before = None
        self.run(self.ex.remove_performer(staged[0].performer_id))
        try:
            self.run(deploying)
        except ContainerStartFailed:
            pass
        else:
            raise AssertionError("the deployment of a removed staged performer succeeded")
        assert self.slot_state() == before
        assert staged[0].container_id not in self.runtime.containers

    @rule(data=st.data())
    def removing_an_unknown_performer_is_not_found(self, data: st.DataObject) -> None:
        listed = {v.performer_id for v in self.ex.list_performers()}
        gone = sorted(self.seen - listed, key=str)
        performer_id = data.draw(
            st.sampled_from([PerformerId(f"performer-{AVS.value}-nope"), *gone]), label="id"
        )
        before = self.ex.list_performers()
        try:
            self.run(self.ex.remove_performer(performer_id))
        except PerformerNotFound:
            pass
        else:
            raise AssertionError(f"removing {performer_id} did not raise PerformerNotFound")
        assert self.ex.list_performers() == before

    # --- tasks and time ---------------------------------------------------------------------

    @rule(n=st.integers(1, 4))
    def tasks_run_on_the_in_service_image_or_are_unavailable(self, n: int) -> None:
        async def submit() -> list[Any]:
            tasks = [
                make_task(f"0x{next(self.task_numbers):04x}", AVS.value, b"") for _ in range(n)
            ]
            return await asyncio.gather(
                *(self.ex.submit_task(t, timeout=5) for t in tasks), return_exceptions=True
            )

        for result in self.run(submit()):
            if self.serving is None or self.down:
                assert isinstance(result, PerformerUnavailable), result
            else:
                assert not isinstance(result, BaseException), result
                assert result.output == self.serving.encode()

    @rule(seconds=st.sampled_from([0.0, 0.02, 0.1]))
    def time_passes(self, seconds: float) -> None:
        self.run(asyncio.sleep(seconds))

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def one_in_service_performer_running_the_model_image(self) -> None:
        if self.executor is None:
            return
        views = self.ex.list_performers()
        ids = [v.performer_id for v in views]
        assert len(ids) == len(set(ids)), views
        by_status = {s: [v for v in views if v.status is s] for s in PerformerStatus}
        assert len(by_status[PerformerStatus.IN_SERVICE]) <= 1, views
        assert by_status[PerformerStatus.STAGED] == [], views  # no deployment runs between rules
        if self.serving is None:
            assert views == []
        else:
            (view,) = views
            assert view.image.tag == self.serving
            healthy = view.resource_healthy and view.application_healthy
            assert healthy is not self.down, view
        self.seen.update(ids)

    @invariant()
    def every_container_belongs_to_a_live_performer(self) -> None:
        """Replaced performers drain within the drain timeout; nothing else may linger."""
        if self.executor is None:
            return

        def consistent() -> bool:
            listed = {v.container_id for v in self.ex.list_performers()}
            up = {v.container_id for v in self.ex.list_performers() if v.resource_healthy}
            return set(self.runtime.containers) <= listed and up <= set(self.runtime.containers)

        assert self.settle(consistent, POLICY.drain_timeout + 0.5), (
            self.runtime.containers.keys(),
            self.ex.list_performers(),
        )


BlueGreenDeployments.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBlueGreenDeployments = BlueGreenDeployments.TestCase
