"""One AVS's performer slots and their blue-green state machine.

Every change to an AVS's slots happens here, in steps without an `await` between reading and
writing the slots, so on one event loop no two changes can interleave: races are impossible by
construction rather than prevented by locks.

    (none) --deploy--> next: Staged --healthy--> current: InService   (old current drains)
    next: Staged --exits / times out / removed--> removed; current untouched
    current --unhealthy in probation--> previous image deployed again (rollback)
    current --dies or fails N checks--> recreated, same performer_id (back-off, bounded)
    current --RemovePerformer--> drained, then removed
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from executor_core.errors import (
    ContainerStartFailed,
    DeploymentInProgress,
    DeploymentTimeout,
    ExecutorError,
    PerformerNotFound,
    PerformerUnavailable,
)
from executor_core.events import (
    DeploymentFailed,
    DeploymentPromoted,
    DeploymentRolledBack,
    DeploymentStarted,
    PerformerFailed,
    PerformerRecreated,
    PerformerRemoved,
    PerformerStaged,
    PerformerUnhealthy,
)
from executor_core.performer_instance import PerformerDeps, PerformerInstance, PerformerLauncher
from executor_core.performers import PerformerId, PerformerImage, PerformerStatus, PerformerView
from executor_core.settings import AvsSettings
from executor_core.task_gate import TaskGate

log = logging.getLogger("executor_core.performer")


class AvsPerformer:
    """Owns the slots of one AVS; every task and deployment of that AVS passes through here."""

    def __init__(self, settings: AvsSettings, deps: PerformerDeps) -> None:
        self.settings = settings
        self._deps = deps
        self._avs = settings.avs_address
        self._launcher = PerformerLauncher(self._avs, settings.health, deps)
        self._gate = TaskGate(settings.worker_count, settings.queue_size)
        self._current: PerformerInstance | None = None
        self._next: PerformerInstance | None = None
        self._draining: set[PerformerInstance] = set()
        self._deploying = False
        self._background: set[asyncio.Task[None]] = set()
        self._monitors: dict[PerformerInstance, asyncio.Task[None]] = {}
        self._recovering: set[PerformerInstance] = set()
        self._probation: tuple[PerformerInstance, PerformerImage, float] | None = None
        self._stopped = False

    # --- tasks ------------------------------------------------------------------------------

    async def run_task(
        self, task_id: bytes, payload: bytes, *, timeout: float
    ) -> tuple[bytes, PerformerId]:
        """Run one task on the in-service performer, within the admission limits.

        Returns the output and the id of the performer that produced it, for the logs.
        """
        async with self._gate.admit():
            instance = self._current
            if instance is None:
                raise PerformerUnavailable(f"AVS {self._avs} has no performer in service")
            if instance.down:
                raise PerformerUnavailable(f"performer {instance.performer_id} is down")
            instance.lease()
            try:
                output = await instance.client.execute_task(task_id, payload, timeout=timeout)
            finally:
                instance.release()
            return output, instance.performer_id

    # --- deployments ------------------------------------------------------------------------

    async def start(self) -> None:
        """Deploy the configured image, the same way DeployArtifact does."""
        deployment_id = f"deployment-{self._avs.value}-{self._deps.ids.new_id()}"
        await self.deploy(self.settings.image, deployment_id)

    @property
    def deploying(self) -> bool:
        return self._deploying

    @property
    def has_performer(self) -> bool:
        return self._current is not None or self._next is not None

    async def deploy(self, image: PerformerImage, deployment_id: str) -> PerformerId:
        """Stage the image, wait until it is healthy, promote it, drain the old performer.

        On failure the staged container is removed and the in-service one is untouched.
        """
        if self._deploying:
            raise DeploymentInProgress(f"a deployment is already in progress for AVS {self._avs}")
        self._deploying = True
        try:
            return await self._deploy(image, deployment_id)
        finally:
            self._deploying = False

    async def _deploy(self, image: PerformerImage, deployment_id: str) -> PerformerId:
        emit = self._deps.events.emit
        fields = {"avsAddress": self._avs.value, "deploymentId": deployment_id}
        emit(DeploymentStarted(self._avs, deployment_id, image))
        log.info("deployment started", extra={**fields, "image": image.reference})
        instance: PerformerInstance | None = None
        try:
            await self._launcher.pull(image)
            timeout = self._deps.policy.deployment_timeout
            try:
                async with asyncio.timeout(timeout):
                    instance = await self._launcher.start(image)
                    self._next = instance
                    emit(
                        PerformerStaged(
                            self._avs,
                            deployment_id,
                            instance.performer_id,
                            instance.container.container_id,
                        )
                    )
                    self._watch(instance)
                    await self._launcher.wait_until_ready(instance)
            except TimeoutError:
                raise DeploymentTimeout(
                    f"the new performer was not healthy within {timeout:g} s"
                ) from None
            if instance.retired:
                raise ContainerStartFailed("the staged performer was removed before promotion")
        except BaseException as exc:
            reason = str(exc) or type(exc).__name__
            if instance is not None:
                if self._next is instance:
                    self._next = None
                if not instance.retired:  # RemovePerformer may have removed it already
                    await self._retire(instance)
            emit(DeploymentFailed(self._avs, deployment_id, reason, type(exc).__name__))
            log.warning("deployment failed", extra={**fields, "error": reason})
            raise
        previous = self._promote(instance, deployment_id)
        if previous is not None and self._deps.policy.probation_period > 0:
            deadline = self._deps.clock.monotonic() + self._deps.policy.probation_period
            self._probation = (instance, previous.image, deadline)
        return instance.performer_id

    def _promote(self, instance: PerformerInstance, deployment_id: str) -> PerformerInstance | None:
        """Swap the slots in one step: every task that starts after this runs on `instance`."""
        previous = self._current
        instance.status = PerformerStatus.IN_SERVICE
        self._current = instance
        self._next = None
        self._probation = None
        if previous is not None:
            self._spawn(self._drain_and_remove(previous))
        self._deps.events.emit(
            DeploymentPromoted(
                self._avs,
                deployment_id,
                instance.performer_id,
                previous.performer_id if previous else None,
            )
        )
        log.info(
            "performer promoted",
            extra={
                **instance.log_fields,
                "deploymentId": deployment_id,
                "image": instance.image.reference,
                "previousPerformerId": previous.performer_id.value if previous else "",
            },
        )
        return previous

    async def _drain_and_remove(self, instance: PerformerInstance) -> None:
        """Let tasks already on the performer finish (bounded), then remove it."""
        instance.retired = True
        self._draining.add(instance)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._deps.policy.drain_timeout):
                    await instance.idle.wait()
            if instance.in_flight:
                log.warning(
                    "drain timed out; removing the performer with tasks still running",
                    extra={**instance.log_fields, "tasks": instance.in_flight},
                )
            await self._retire(instance)
        finally:
            self._draining.discard(instance)

    async def _retire(self, instance: PerformerInstance) -> None:
        monitor = self._monitors.pop(instance, None)
        if monitor is not None and monitor is not asyncio.current_task():
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        await self._launcher.dispose(instance)
        self._deps.events.emit(PerformerRemoved(self._avs, instance.performer_id))
        log.info("performer removed", extra=instance.log_fields)

    # --- removal ----------------------------------------------------------------------------

    def holds(self, performer_id: PerformerId) -> bool:
        return any(
            p is not None and p.performer_id == performer_id for p in (self._current, self._next)
        )

    async def remove(self, performer_id: PerformerId) -> None:
        """Remove a staged performer at once, or drain and remove the in-service one."""
        if self._next is not None and self._next.performer_id == performer_id:
            staged, self._next = self._next, None
            await self._retire(staged)
            return
        if self._current is not None and self._current.performer_id == performer_id:
            current, self._current = self._current, None
            if self._probation is not None and self._probation[0] is current:
                self._probation = None
            await self._drain_and_remove(current)
            return
        raise PerformerNotFound(f"performer with ID {performer_id} not found")

    # --- health -----------------------------------------------------------------------------

    def _watch(self, instance: PerformerInstance) -> None:
        self._monitors[instance] = asyncio.create_task(
            self._monitor(instance), name=f"health-{instance.performer_id}"
        )

    async def _monitor(self, instance: PerformerInstance) -> None:
        """Probe application health for as long as the performer lives."""
        health = self.settings.health
        while True:
            await asyncio.sleep(health.check_interval)
            if instance.down or instance.retired or instance.status is PerformerStatus.STAGED:
                continue
            try:
                healthy = await instance.client.check_health(timeout=health.timeout)
            except ExecutorError:
                healthy = False
            with contextlib.suppress(ExecutorError):
                instance.resource_healthy = await self._deps.runtime.is_running(
                    instance.container.container_id
                )
            self._launcher.record_health(instance, healthy=healthy and instance.resource_healthy)
            if instance.consecutive_failures >= health.failure_threshold:
                self.performer_down(instance, f"{instance.consecutive_failures} failed checks")

    def find(self, container_id: str) -> PerformerInstance | None:
        for instance in (self._current, self._next, *self._draining):
            if instance is not None and instance.container.container_id == container_id:
                return instance
        return None

    def performer_down(self, instance: PerformerInstance, reason: str) -> None:
        """React to a dead or unhealthy container: roll back, recreate, or let it go."""
        # Already down: its rollback or recreation is under way (an OOM kill reports twice), or
        # recreation gave up and it stays down until a deployment replaces it.
        if instance.retired or instance.down or instance in self._recovering or self._stopped:
            return
        instance.resource_healthy = False
        instance.application_healthy = False
        if instance.status is PerformerStatus.STAGED:
            return  # the deployment that staged it sees the failure and cleans up
        instance.down = True
        self._deps.events.emit(PerformerUnhealthy(self._avs, instance.performer_id, reason))
        log.warning("performer unhealthy", extra={**instance.log_fields, "reason": reason})
        probation = self._probation
        if (
            probation is not None
            and probation[0] is instance
            and self._deps.clock.monotonic() < probation[2]
            and not self._deploying
        ):
            self._probation = None
            self._spawn(self._roll_back(instance, probation[1]))
        else:
            self._recovering.add(instance)
            self._spawn(self._recreate(instance))

    async def _roll_back(self, failed: PerformerInstance, image: PerformerImage) -> None:
        deployment_id = f"rollback-{self._avs.value}-{self._deps.ids.new_id()}"
        try:
            performer_id = await self.deploy(image, deployment_id)
        except ExecutorError as exc:
            log.error(
                "rollback failed; recreating the failing performer instead",
                extra={**failed.log_fields, "deploymentId": deployment_id, "error": str(exc)},
            )
            if not failed.retired:
                self._recovering.add(failed)
                await self._recreate(failed)
            return
        if self._probation is not None and self._probation[0].performer_id == performer_id:
            self._probation = None  # its fallback would be the image that just failed
        self._deps.events.emit(
            DeploymentRolledBack(self._avs, deployment_id, failed.performer_id, performer_id, image)
        )
        log.warning(
            "rolled back to the previous image",
            extra={**failed.log_fields, "deploymentId": deployment_id, "image": image.reference},
        )

    async def _recreate(self, instance: PerformerInstance) -> None:
        policy = self._deps.policy
        try:
            for attempt in range(1, policy.max_recreations + 1):
                await asyncio.sleep(policy.recreate_delay(attempt))
                if instance.retired:
                    return
                try:
                    await self._launcher.recreate(instance)
                except ExecutorError as exc:
                    log.warning(
                        "recreating the performer failed",
                        extra={**instance.log_fields, "attempt": attempt, "error": str(exc)},
                    )
                    continue
                if instance.retired:  # replaced or removed while it was being recreated
                    await self._launcher.dispose(instance)
                    return
                instance.down = False
                self._deps.events.emit(
                    PerformerRecreated(
                        self._avs, instance.performer_id, instance.container.container_id, attempt
                    )
                )
                log.info(
                    "performer recreated",
                    extra={
                        **instance.log_fields,
                        "attempt": attempt,
                        "containerId": instance.container.container_id,
                    },
                )
                return
            reason = f"not recreated after {policy.max_recreations} attempts"
            self._deps.events.emit(PerformerFailed(self._avs, instance.performer_id, reason))
            log.error("performer failed", extra={**instance.log_fields, "reason": reason})
        finally:
            self._recovering.discard(instance)

    # --- reporting and shutdown -------------------------------------------------------------

    def views(self) -> list[PerformerView]:
        """The performers of this AVS as ListPerformers shows them: current, then next."""
        return [p.view() for p in (self._current, self._next) if p is not None]

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_idle(self) -> None:
        """Return once no task runs on any of this AVS's performers."""
        for instance in (self._current, *self._draining):
            if instance is not None:
                await instance.idle.wait()

    async def stop(self) -> None:
        """Stop watching and recreating, then remove every container; safe to call twice."""
        self._stopped = True
        for task in tuple(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        instances = [p for p in (self._current, self._next, *self._draining) if p is not None]
        self._current = self._next = None
        self._draining.clear()
        for instance in instances:
            await self._retire(instance)
