"""One AVS's performer container: start it, route tasks to it, watch its health, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import attrs

from executor_core.errors import (
    ContainerStartFailed,
    ExecutorError,
    PerformerUnavailable,
)
from executor_core.labels import container_name, performer_labels
from executor_core.performers import (
    ContainerSpec,
    PerformerId,
    PerformerImage,
    PerformerStatus,
    PerformerView,
    RunningContainer,
)
from executor_core.ports import (
    Clock,
    ContainerRuntime,
    IdSource,
    PerformerClient,
    PerformerConnector,
)
from executor_core.settings import AvsSettings
from executor_core.task_gate import TaskGate

log = logging.getLogger("executor_core.performer")


@attrs.define
class PerformerInstance:
    """A live performer: its container, its client and what the executor last saw of it."""

    performer_id: PerformerId
    image: PerformerImage
    container: RunningContainer
    client: PerformerClient
    status: PerformerStatus = PerformerStatus.STAGED
    resource_healthy: bool = True
    application_healthy: bool = False
    last_health_check: datetime | None = None
    in_flight: int = 0


@attrs.frozen
class PerformerDeps:
    """The ports a performer needs, bundled so they travel together."""

    runtime: ContainerRuntime
    connector: PerformerConnector
    clock: Clock
    ids: IdSource
    instance_id: str
    network: str | None = None
    stop_grace: float = 10.0


class AvsPerformer:
    """Owns the performer of one AVS; every task of that AVS passes through here."""

    def __init__(self, settings: AvsSettings, deps: PerformerDeps) -> None:
        self.settings = settings
        self._deps = deps
        self._gate = TaskGate(settings.worker_count, settings.queue_size)
        self._current: PerformerInstance | None = None
        self._health_task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def _log_fields(self) -> dict[str, str]:
        fields = {"avsAddress": self.settings.avs_address.value}
        if self._current is not None:
            fields["performerId"] = self._current.performer_id.value
        return fields

    async def start(self) -> None:
        """Start the configured image and wait until it answers its health check."""
        instance = await self._launch(self.settings.image)
        instance.status = PerformerStatus.IN_SERVICE
        self._current = instance
        self._health_task = asyncio.create_task(
            self._watch_health(), name=f"health-{instance.performer_id}"
        )
        log.info(
            "performer in service", extra={**self._log_fields, "image": instance.image.reference}
        )

    async def _launch(self, image: PerformerImage) -> PerformerInstance:
        deps = self._deps
        avs = self.settings.avs_address
        unique = deps.ids.new_id()
        performer_id = PerformerId.for_avs(avs, unique)
        spec = ContainerSpec(
            image=image,
            name=container_name(avs, unique),
            labels=performer_labels(deps.instance_id, avs, performer_id),
            network=deps.network,
        )
        fields = {"avsAddress": avs.value, "performerId": performer_id.value}
        log.info("starting performer container", extra={**fields, "image": image.reference})
        container = await deps.runtime.start_container(spec)
        client = deps.connector.connect(container.endpoint)
        instance = PerformerInstance(performer_id, image, container, client)
        try:
            await self._wait_until_ready(instance)
        except BaseException:
            await self._dispose(instance)
            raise
        log.info(
            "performer container ready",
            extra={
                **fields,
                "containerId": container.container_id,
                "endpoint": str(container.endpoint),
            },
        )
        return instance

    async def _wait_until_ready(self, instance: PerformerInstance) -> None:
        health = self.settings.health
        loop_deadline = self._deps.clock.monotonic() + health.startup_timeout
        last_error: Exception | None = None
        while self._deps.clock.monotonic() < loop_deadline:
            try:
                if await instance.client.check_health(timeout=health.timeout):
                    self._record_health(instance, application_healthy=True)
                    return
            except ExecutorError as exc:
                last_error = exc
            if not await self._deps.runtime.is_running(instance.container.container_id):
                raise ContainerStartFailed(
                    f"performer container {instance.container.name} stopped "
                    "before it became healthy"
                )
            await asyncio.sleep(0.1)
        raise ContainerStartFailed(
            f"performer {instance.performer_id} did not become healthy within "
            f"{health.startup_timeout:g} s (last error: {last_error})"
        )

    def _record_health(self, instance: PerformerInstance, *, application_healthy: bool) -> None:
        instance.application_healthy = application_healthy
        instance.last_health_check = self._deps.clock.now()

    async def _watch_health(self) -> None:
        health = self.settings.health
        while True:
            await asyncio.sleep(health.check_interval)
            instance = self._current
            if instance is None:
                continue
            try:
                healthy = await instance.client.check_health(timeout=health.timeout)
            except ExecutorError:
                healthy = False
            try:
                instance.resource_healthy = await self._deps.runtime.is_running(
                    instance.container.container_id
                )
            except ExecutorError:
                instance.resource_healthy = False
            if instance.application_healthy and not healthy:
                log.warning("performer failed its health check", extra=self._log_fields)
            self._record_health(instance, application_healthy=healthy)

    async def run_task(
        self, task_id: bytes, payload: bytes, *, timeout: float
    ) -> tuple[bytes, PerformerId]:
        """Run one task on the in-service performer, within the admission limits.

        Returns the output and the id of the performer that produced it, for the logs.
        """
        async with self._gate.admit():
            instance = self._current
            if instance is None:
                raise PerformerUnavailable(
                    f"AVS {self.settings.avs_address} has no performer in service"
                )
            instance.in_flight += 1
            self._idle.clear()
            try:
                output = await instance.client.execute_task(task_id, payload, timeout=timeout)
                return output, instance.performer_id
            finally:
                instance.in_flight -= 1
                if instance.in_flight == 0:
                    self._idle.set()

    def views(self) -> list[PerformerView]:
        """The performers of this AVS as ListPerformers shows them."""
        instance = self._current
        if instance is None:
            return []
        return [
            PerformerView(
                performer_id=instance.performer_id,
                avs_address=self.settings.avs_address,
                status=instance.status,
                image=instance.image,
                container_id=instance.container.container_id,
                resource_healthy=instance.resource_healthy,
                application_healthy=instance.application_healthy,
                last_health_check=instance.last_health_check,
            )
        ]

    async def wait_idle(self) -> None:
        """Return once no task runs on this AVS's performer."""
        await self._idle.wait()

    async def stop(self) -> None:
        """Stop watching, then stop and remove the container; safe to call twice."""
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
            self._health_task = None
        instance, self._current = self._current, None
        if instance is not None:
            await self._dispose(instance)
            log.info(
                "performer removed",
                extra={
                    "avsAddress": self.settings.avs_address.value,
                    "performerId": instance.performer_id.value,
                },
            )

    async def _dispose(self, instance: PerformerInstance) -> None:
        await instance.client.aclose()
        await self._deps.runtime.remove_container(
            instance.container.container_id, grace_seconds=self._deps.stop_grace
        )
