"""One performer: its container, its client, its health, and the tasks running on it.

A performer keeps its id for life; when its container dies the executor recreates the
container under the same id. `PerformerLauncher` does the container work for the slots.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import attrs

from executor_core.addresses import AvsAddress
from executor_core.errors import ContainerStartFailed, ExecutorError, RegistryUnavailable
from executor_core.events import EventHub
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
from executor_core.settings import DeploymentPolicy, HealthPolicy

log = logging.getLogger("executor_core.performer")

READY_POLL_SECONDS = 0.1


@attrs.define(eq=False)
class PerformerInstance:
    """A live performer; mutable, and owned by exactly one AVS slot."""

    performer_id: PerformerId
    avs_address: AvsAddress
    image: PerformerImage
    container: RunningContainer
    client: PerformerClient
    status: PerformerStatus = PerformerStatus.STAGED
    resource_healthy: bool = True
    application_healthy: bool = False
    last_health_check: datetime | None = None
    consecutive_failures: int = 0
    in_flight: int = 0
    down: bool = False
    """The container is gone or unhealthy; tasks fail fast until it is back."""
    retired: bool = False
    """Draining or removed: no new task may start here."""
    idle: asyncio.Event = attrs.field(factory=asyncio.Event)

    def __attrs_post_init__(self) -> None:
        self.idle.set()

    @property
    def log_fields(self) -> dict[str, str]:
        return {"avsAddress": self.avs_address.value, "performerId": self.performer_id.value}

    def lease(self) -> None:
        """Count a task in; done in the same step as picking this performer, so drains see it."""
        self.in_flight += 1
        self.idle.clear()

    def release(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.idle.set()

    def view(self) -> PerformerView:
        return PerformerView(
            performer_id=self.performer_id,
            avs_address=self.avs_address,
            status=self.status,
            image=self.image,
            container_id=self.container.container_id,
            resource_healthy=self.resource_healthy and not self.down,
            application_healthy=self.application_healthy and not self.down,
            last_health_check=self.last_health_check,
        )


@attrs.frozen
class PerformerDeps:
    """The ports and policies every performer needs, bundled so they travel together."""

    runtime: ContainerRuntime
    connector: PerformerConnector
    clock: Clock
    ids: IdSource
    instance_id: str
    network: str | None = None
    stop_grace: float = 10.0
    policy: DeploymentPolicy = attrs.field(factory=DeploymentPolicy)
    events: EventHub = attrs.field(factory=EventHub)


class PerformerLauncher:
    """Starts, restarts and disposes of performer containers for one AVS."""

    def __init__(self, avs: AvsAddress, health: HealthPolicy, deps: PerformerDeps) -> None:
        self._avs = avs
        self._health = health
        self._deps = deps

    def _spec(self, image: PerformerImage, performer_id: PerformerId) -> ContainerSpec:
        deps = self._deps
        return ContainerSpec(
            image=image,
            name=container_name(self._avs, deps.ids.new_id()),
            labels=performer_labels(deps.instance_id, self._avs, performer_id),
            network=deps.network,
        )

    async def pull(self, image: PerformerImage) -> None:
        """Make the image present, within the pull timeout (not the deployment's)."""
        timeout = self._deps.policy.pull_timeout
        try:
            async with asyncio.timeout(timeout):
                await self._deps.runtime.ensure_image(image)
        except TimeoutError:
            raise RegistryUnavailable(
                f"pulling {image.reference} did not finish within {timeout:g} s"
            ) from None

    async def start(self, image: PerformerImage) -> PerformerInstance:
        """Start a container for a new performer; the caller waits for it to be ready."""
        performer_id = PerformerId.for_avs(self._avs, self._deps.ids.new_id())
        container = await self._deps.runtime.start_container(self._spec(image, performer_id))
        client = self._deps.connector.connect(container.endpoint)
        log.info(
            "performer container started",
            extra={
                "avsAddress": self._avs.value,
                "performerId": performer_id.value,
                "containerId": container.container_id,
                "endpoint": str(container.endpoint),
            },
        )
        return PerformerInstance(performer_id, self._avs, image, container, client)

    async def wait_until_ready(self, instance: PerformerInstance) -> None:
        """Poll health until the performer answers; fail at once if its container stops."""
        last_error: Exception | None = None
        while True:
            try:
                if await instance.client.check_health(timeout=self._health.timeout):
                    self.record_health(instance, healthy=True)
                    return
            except ExecutorError as exc:
                last_error = exc
            if not await self._deps.runtime.is_running(instance.container.container_id):
                raise ContainerStartFailed(
                    f"performer container {instance.container.name} exited before it became "
                    f"healthy (last health error: {last_error})"
                )
            await asyncio.sleep(READY_POLL_SECONDS)

    def record_health(self, instance: PerformerInstance, *, healthy: bool) -> None:
        instance.application_healthy = healthy
        instance.last_health_check = self._deps.clock.now()
        instance.consecutive_failures = 0 if healthy else instance.consecutive_failures + 1

    async def recreate(self, instance: PerformerInstance) -> None:
        """Replace the instance's container with a new one of the same image and id."""
        old_container, old_client = instance.container, instance.client
        await old_client.aclose()
        await self._remove_container(old_container)
        container = await self._deps.runtime.start_container(
            self._spec(instance.image, instance.performer_id)
        )
        instance.container = container
        instance.client = self._deps.connector.connect(container.endpoint)
        try:
            async with asyncio.timeout(self._health.startup_timeout):
                await self.wait_until_ready(instance)
        except TimeoutError:
            raise ContainerStartFailed(
                f"recreated performer was not healthy within {self._health.startup_timeout:g} s"
            ) from None
        instance.resource_healthy = True

    async def dispose(self, instance: PerformerInstance) -> None:
        """Close the client, then stop and remove the container; safe to repeat."""
        instance.retired = True
        await instance.client.aclose()
        await self._remove_container(instance.container)

    async def _remove_container(self, container: RunningContainer) -> None:
        try:
            await self._deps.runtime.remove_container(
                container.container_id, grace_seconds=self._deps.stop_grace
            )
        except ExecutorError as exc:
            log.error(
                "could not remove a performer container",
                extra={
                    "avsAddress": self._avs.value,
                    "containerId": container.container_id,
                    "error": str(exc),
                },
            )
