"""The async driver of one AVS's deployment state machine, and the way its tasks reach a performer.

`AvsPerformer` owns its AVS's `Slots` and is the only thing that changes them: every change is
`deployment.step(slots, signal)`, and the effects it returns are carried out here, none of them
between reading and writing the slots, so on one event loop no two changes interleave. The I/O
(pulling, starting, health checks, drains, recreations) runs in tasks that report back with
signals.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from executor_core import deployment as dm
from executor_core.deployment import Phase, Slots
from executor_core.errors import (
    ContainerStartFailed,
    DeploymentTimeout,
    ExecutorError,
    PerformerUnavailable,
    RuntimeUnavailable,
)
from executor_core.events import StateNotSaved
from executor_core.live_performer import (
    LivePerformer,
    PerformerDeps,
    PerformerLauncher,
    performer_view,
)
from executor_core.performers import PerformerId, PerformerView, Release
from executor_core.ports import ContainerEvent, DeploymentStore, StoredDeployment
from executor_core.reconciler import Adoption
from executor_core.settings import AvsSettings
from executor_core.task_gate import TaskGate

__all__ = ["AvsPerformer"]


class AvsPerformer:
    """One AVS's performers; every task and deployment of that AVS passes through here."""

    def __init__(
        self,
        settings: AvsSettings,
        deps: PerformerDeps,
        *,
        store: DeploymentStore | None = None,
        listed: bool = True,
    ) -> None:
        self.settings = settings
        self._deps = deps
        self._store = store
        self._listed = listed
        self._avs = settings.avs_address
        self._launcher = PerformerLauncher(
            self._avs, settings.health, deps, hardening=settings.container
        )
        self._gate = TaskGate(settings.worker_count, settings.queue_size)
        self._slots = Slots()
        self._live: dict[PerformerId, LivePerformer] = {}
        self._replies: dict[str, asyncio.Future[PerformerId]] = {}
        self._staging: dict[str, asyncio.Task[None]] = {}
        self._recreating: dict[PerformerId, asyncio.Task[None]] = {}
        self._monitors: dict[PerformerId, asyncio.Task[None]] = {}
        self._drains: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        """Every task this driver started; disposals and answers among them are never cancelled."""

    async def run_task(
        self, task_id: bytes, payload: bytes, *, timeout: float
    ) -> tuple[bytes, PerformerId]:
        """Run one task on the in-service performer; return its output and who produced it."""
        async with self._gate.admit():
            current = self._slots.current
            if current is None:
                raise PerformerUnavailable(f"AVS {self._avs} has no performer in service")
            live = self._live.get(current.performer_id)
            if current.phase is not Phase.IN_SERVICE or live is None:
                raise PerformerUnavailable(f"performer {current.performer_id} is down")
            live.lease()
            try:
                output = await live.client.execute_task(task_id, payload, timeout=timeout)
            finally:
                live.release()
            return output, current.performer_id

    # --- requests ---------------------------------------------------------------------------

    @property
    def configured_release(self) -> Release:
        """The image and variables the config gives this AVS."""
        return Release(self.settings.image, self.settings.env, self.settings.env_references)

    async def start(self, release: Release | None = None, adoption: Adoption | None = None) -> None:
        """Take over the container an earlier run left (`adoption`), or deploy `release` (the
        configured one by default) the way DeployArtifact does."""
        if adoption is not None:
            live = adoption.live
            self._live[live.performer_id] = live
            self._feed(dm.Adopted(live.performer_id, adoption.release, live.container.container_id))
            if self._slots.find(live.performer_id) is not None:
                self._monitors[live.performer_id] = self._spawn(self._monitor(live.performer_id))
            return
        await self.deploy(release or self.configured_release, self._new_id("deployment"))

    async def deploy(self, release: Release, deployment_id: str) -> PerformerId:
        """Stage the release, promote it once healthy and drain the old performer.

        A caller that gives up (a cancelled call) takes the deployment down with it.
        """
        try:
            return await self._request(deployment_id, dm.DeployRequested(deployment_id, release))
        except asyncio.CancelledError:
            staging = self._staging.pop(deployment_id, None)
            if staging is not None:
                staging.cancel()
                gave_up = DeploymentTimeout("the caller gave up on the deployment")
                self._feed(dm.StagingFailed(deployment_id, gave_up))
            raise

    async def remove(self, performer_id: PerformerId) -> None:
        """Remove a staged performer at once, or drain and remove the in-service one."""
        request_id = self._new_id("remove")
        await self._request(request_id, dm.RemoveRequested(performer_id, request_id))

    async def _request(self, request_id: str, signal: dm.Signal) -> PerformerId:
        reply: asyncio.Future[PerformerId] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = reply
        try:
            self._feed(signal)
            return await reply
        finally:
            self._replies.pop(request_id, None)

    def on_container_event(self, event: ContainerEvent) -> bool:
        """Take a die/OOM event if one of this AVS's containers is meant; tell whether it was."""
        member = self._slots.owner_of(event.container_id)
        if member is None:
            return False
        live = self._live.get(member.performer_id)
        if live is not None and live.container.container_id == event.container_id:
            live.resource_healthy = False
        self._down(member.performer_id, event.reason)
        return True

    @property
    def load(self) -> tuple[int, int]:
        """Tasks running on a worker, and tasks waiting for one (the queue)."""
        return self._gate.running, self._gate.waiting

    def holds(self, performer_id: PerformerId) -> bool:
        return any(m.performer_id == performer_id for m in self._slots.listed())

    @property
    def empty(self) -> bool:
        """No performer and no deployment left: a slot made for DeployArtifact may go."""
        return self._slots.empty

    def views(self) -> list[PerformerView]:
        """The performers of this AVS as ListPerformers shows them: current, then staged."""
        return [
            performer_view(self._avs, m, self._live.get(m.performer_id))
            for m in self._slots.listed()
        ]

    async def wait_idle(self) -> None:
        """Return once no task runs on any of this AVS's performers."""
        for live in tuple(self._live.values()):
            await live.idle.wait()

    async def stop(self) -> None:
        """Cancel all work in flight and remove every container; safe to call twice."""
        tasks = [*self._staging.values(), *self._recreating.values(), *self._monitors.values()]
        tasks += self._drains
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for started in (self._staging, self._recreating, self._monitors):
            started.clear()
        self._feed(dm.StopRequested())
        await asyncio.gather(*self._background, return_exceptions=True)
        for live in tuple(self._live.values()):  # started but never reported (cancelled)
            await self._launcher.remove(live.container.container_id, client=live.client)
        self._live.clear()

    # --- the driver: signals in, effects out -------------------------------------------------

    def _feed(self, signal: dm.Signal) -> None:
        before = self._slots
        self._slots, effects = dm.step(self._slots, signal, self._avs, self._deps.policy)
        writes = self._persist(before, self._slots)
        disposals = writes + [
            self._spawn(self._dispose(e.performer_id, e.container_id))
            for e in effects
            if isinstance(e, dm.Dispose)
        ]
        replies = [e for e in effects if isinstance(e, dm.Reply)]
        for effect in effects:
            match effect:
                case dm.Emit():
                    self._deps.events.emit(effect.event)
                case dm.StartStaging():
                    stage = self._stage(effect.deployment_id, effect.release)
                    self._staging[effect.deployment_id] = self._spawn(stage)
                case dm.CancelStaging():
                    _cancel(self._staging.pop(effect.deployment_id, None))
                case dm.StartDrain():
                    self._drains.add(drain := self._spawn(self._drain(effect.performer_id)))
                    drain.add_done_callback(self._drains.discard)
                case dm.ScheduleRecreation():
                    self._recreating[effect.performer_id] = self._spawn(self._recreate(effect))
                case dm.CancelRecreation():
                    _cancel(self._recreating.pop(effect.performer_id, None))
        if replies:
            # a caller hears back once the containers this step removes are gone
            self._spawn(self._answer(replies, disposals))

    def _persist(self, before: Slots, after: Slots) -> list[asyncio.Task[None]]:
        """Store a new in-service performer, or that the AVS has none; a caller is answered
        only once the change is stored."""
        if self._store is None or after.stopped:
            return []
        current, previous = after.current, before.current
        if current is not None and current.phase is Phase.IN_SERVICE:
            if previous is not None and previous.performer_id == current.performer_id:
                return []
            configured = self.settings.image if self._listed else None
            record = StoredDeployment(self._avs, current.release, current.performer_id, configured)
            return [self._spawn(self._stored(self._store.save(record)))]
        if current is None and previous is not None and after.deployment is None:
            return [self._spawn(self._stored(self._store.forget(self._avs)))]
        return []

    async def _stored(self, write: Coroutine[Any, Any, None]) -> None:
        try:
            await write
        except Exception as exc:  # the deployment stands; only a restart would not see it
            self._deps.events.emit(StateNotSaved(self._avs, repr(exc)))

    async def _answer(self, replies: list[dm.Reply], disposals: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*disposals, return_exceptions=True)
        for reply in replies:
            future = self._replies.get(reply.request_id)
            if future is None or future.done():
                continue
            if reply.error is not None:
                future.set_exception(reply.error)
            else:
                assert reply.performer_id is not None
                future.set_result(reply.performer_id)

    def _down(self, performer_id: PerformerId, reason: str) -> None:
        now = self._deps.clock.monotonic()
        rollback_id = self._new_id("rollback")
        self._feed(dm.PerformerDown(performer_id, reason, now, rollback_id))

    async def _stage(self, deployment_id: str, release: Release) -> None:
        """Pull, start and health-check a deployment's release; report what happened."""
        performer_id = PerformerId.for_avs(self._avs, self._deps.ids.new_id())
        timeout = self._deps.policy.deployment_timeout
        try:
            await self._launcher.pull(release.image)
            async with asyncio.timeout(timeout):
                live = await self._launcher.start(release, performer_id)
                self._live[performer_id] = live
                self._feed(
                    dm.StagingStarted(deployment_id, performer_id, live.container.container_id)
                )
                self._monitors[performer_id] = self._spawn(self._monitor(performer_id))
                await self._launcher.wait_until_ready(live)
        except TimeoutError:
            error: ExecutorError = DeploymentTimeout(
                f"the new performer was not healthy within {timeout:g} s"
            )
        except ExecutorError as exc:
            error = exc
        except Exception as exc:  # a bug must still answer the caller, not leave it waiting
            error = ContainerStartFailed(f"staging failed unexpectedly: {exc!r}")
        else:
            self._staging.pop(deployment_id, None)
            self._feed(dm.StagingHealthy(deployment_id, self._deps.clock.monotonic()))
            return
        self._staging.pop(deployment_id, None)
        self._feed(dm.StagingFailed(deployment_id, error))

    async def _drain(self, performer_id: PerformerId) -> None:
        """Let the tasks already on the performer finish, within the drain timeout."""
        live = self._live.get(performer_id)
        if live is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._deps.policy.drain_timeout):
                    await live.idle.wait()
        self._feed(dm.DrainFinished(performer_id, live.in_flight if live else 0))

    async def _recreate(self, effect: dm.ScheduleRecreation) -> None:
        """After the back-off, replace a dead container by a new one under the same id.

        The dead container is removed first; while that fails (the engine is down) it stays
        known, so a later attempt removes it and no stopped container is left behind.
        """
        await asyncio.sleep(effect.delay)
        try:
            old = self._live.get(effect.performer_id)
            if old is not None:
                await self._launcher.remove_strictly(old)
                self._live.pop(effect.performer_id, None)
            live = await self._launcher.replace(None, effect.release, effect.performer_id)
        except ExecutorError as exc:
            signal: dm.Signal = dm.RecreationFailed(
                effect.performer_id,
                effect.attempt,
                str(exc),
                engine_unavailable=isinstance(exc, RuntimeUnavailable),
                engine_waits=effect.engine_waits,
            )
        else:
            self._live[effect.performer_id] = live
            container = live.container.container_id
            signal = dm.RecreationSucceeded(effect.performer_id, container, effect.attempt)
        self._recreating.pop(effect.performer_id, None)
        self._feed(signal)

    async def _monitor(self, performer_id: PerformerId) -> None:
        """Probe application health for as long as the performer lives."""
        health = self.settings.health
        while (member := self._slots.find(performer_id)) is not None:
            await asyncio.sleep(health.check_interval)
            member = self._slots.find(performer_id)
            live = self._live.get(performer_id)
            if member is None or member.phase is not Phase.IN_SERVICE or live is None:
                continue
            try:
                healthy = await live.client.check_health(timeout=health.timeout)
            except ExecutorError:
                healthy = False
            with contextlib.suppress(ExecutorError):
                container = live.container.container_id
                live.resource_healthy = await self._deps.runtime.is_running(container)
            live.record_health(healthy=healthy and live.resource_healthy, at=self._deps.clock.now())
            if live.consecutive_failures >= health.failure_threshold:
                self._down(performer_id, f"{live.consecutive_failures} failed checks")

    async def _dispose(self, performer_id: PerformerId, container_id: str) -> None:
        live = self._live.get(performer_id)
        client = None
        if live is not None and live.container.container_id == container_id:
            del self._live[performer_id]
            client = live.client
            if self._slots.find(performer_id) is None:
                _cancel(self._monitors.pop(performer_id, None))
        await self._launcher.remove(container_id, client=client)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def _new_id(self, kind: str) -> str:
        return f"{kind}-{self._avs.value}-{self._deps.ids.new_id()}"


def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None and task is not asyncio.current_task():
        task.cancel()
