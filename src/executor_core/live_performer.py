"""A running performer's resources, and the container work that makes and unmakes them.

The state machine (`executor_core.deployment`) knows a performer by id, image, container id and
phase. What it does not need to decide anything, but the driver needs to run tasks and probe
health, lives here: the performer's client, the tasks running on it, its health counters.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import attrs

from executor_core.addresses import AvsAddress
from executor_core.deployment import Member, Phase
from executor_core.errors import ContainerStartFailed, ExecutorError, RegistryUnavailable
from executor_core.events import CleanupFailed, EventHub
from executor_core.labels import container_name, performer_labels
from executor_core.performers import (
    ContainerHardening,
    ContainerSpec,
    PerformerId,
    PerformerImage,
    PerformerView,
    Release,
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

__all__ = [
    "READY_POLL_SECONDS",
    "LivePerformer",
    "PerformerDeps",
    "PerformerLauncher",
    "performer_view",
]

READY_POLL_SECONDS = 0.1


@attrs.define(eq=False)
class LivePerformer:
    """A performer's container, client, running tasks and health; owned by its AVS's driver."""

    performer_id: PerformerId
    container: RunningContainer
    client: PerformerClient
    resource_healthy: bool = True
    application_healthy: bool = False
    last_health_check: datetime | None = None
    consecutive_failures: int = 0
    in_flight: int = 0
    idle: asyncio.Event = attrs.field(factory=asyncio.Event)

    def __attrs_post_init__(self) -> None:
        self.idle.set()

    def lease(self) -> None:
        """Count a task in; done in the same step as picking this performer, so drains see it."""
        self.in_flight += 1
        self.idle.clear()

    def release(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.idle.set()

    def record_health(self, *, healthy: bool, at: datetime) -> None:
        self.application_healthy = healthy
        self.last_health_check = at
        self.consecutive_failures = 0 if healthy else self.consecutive_failures + 1


def performer_view(avs: AvsAddress, member: Member, live: LivePerformer | None) -> PerformerView:
    """A performer as ListPerformers reports it: healthy only while staged or in service."""
    up = live is not None and member.phase in (Phase.IN_SERVICE, Phase.STAGED)
    digest = member.image.digest or (live.container.image_digest if live is not None else "")
    return PerformerView(
        performer_id=member.performer_id,
        avs_address=avs,
        status=member.phase.wire_status,
        image=member.image,
        container_id=member.container_id,
        resource_healthy=up and live is not None and live.resource_healthy,
        application_healthy=up and live is not None and live.application_healthy,
        last_health_check=live.last_health_check if live else None,
        digest=digest,
    )


@attrs.frozen
class PerformerDeps:
    """The ports and policies every performer needs, bundled so they travel together."""

    runtime: ContainerRuntime
    connector: PerformerConnector
    clock: Clock
    ids: IdSource
    instance_id: str
    executor_name: str = "executor"
    """The stable identity every container and network of this executor is labelled with."""
    network: str | None = None
    network_internal: bool = False
    """The network is made with no route out of the host (Docker `Internal`)."""
    stop_grace: float = 10.0
    policy: DeploymentPolicy = attrs.field(factory=DeploymentPolicy)
    events: EventHub = attrs.field(factory=EventHub)


class PerformerLauncher:
    """Pulls images, starts performer containers, waits for them to serve, removes them."""

    def __init__(
        self,
        avs: AvsAddress,
        health: HealthPolicy,
        deps: PerformerDeps,
        *,
        hardening: ContainerHardening | None = None,
    ) -> None:
        self._avs = avs
        self._health = health
        self._deps = deps
        self._hardening = hardening or ContainerHardening()

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

    async def start(self, release: Release, performer_id: PerformerId) -> LivePerformer:
        """Start a container of the release for the performer and open its client; not yet
        ready."""
        deps = self._deps
        spec = ContainerSpec(
            image=release.image,
            name=container_name(self._avs, deps.ids.new_id()),
            labels=performer_labels(deps.instance_id, deps.executor_name, self._avs, performer_id),
            network=deps.network,
            env=release.env,
            hardening=self._hardening,
            env_references=release.env_references,
        )
        container = await deps.runtime.start_container(spec)
        return LivePerformer(performer_id, container, deps.connector.connect(container.endpoint))

    async def wait_until_ready(self, live: LivePerformer) -> None:
        """Poll health until the performer answers; fail at once if its container stops."""
        last_error: Exception | None = None
        while True:
            try:
                if await live.client.check_health(timeout=self._health.timeout):
                    live.record_health(healthy=True, at=self._deps.clock.now())
                    return
            except ExecutorError as exc:
                last_error = exc
            if not await self._deps.runtime.is_running(live.container.container_id):
                raise ContainerStartFailed(
                    f"performer container {live.container.name} exited before it became "
                    f"healthy (last health error: {last_error})"
                )
            await asyncio.sleep(READY_POLL_SECONDS)

    async def replace(
        self, old: LivePerformer | None, release: Release, performer_id: PerformerId
    ) -> LivePerformer:
        """Remove a dead performer's container and start a new one under the same id, healthy
        within the startup timeout; a new container that fails is removed too."""
        if old is not None:
            await self.remove(old.container.container_id, client=old.client)
        live = await self.start(release, performer_id)
        try:
            async with asyncio.timeout(self._health.startup_timeout):
                await self.wait_until_ready(live)
        except BaseException as exc:
            await self.remove(live.container.container_id, client=live.client)
            if isinstance(exc, TimeoutError):
                raise ContainerStartFailed(
                    f"recreated performer was not healthy within {self._health.startup_timeout:g} s"
                ) from None
            raise
        return live

    async def remove_strictly(self, live: LivePerformer) -> None:
        """Close the client, then stop and remove the container; a failure is raised."""
        await live.client.aclose()
        await self._deps.runtime.remove_container(
            live.container.container_id, grace_seconds=self._deps.stop_grace
        )

    async def remove(self, container_id: str, *, client: PerformerClient | None = None) -> None:
        """Close the client, then stop and remove the container; a failure is an event."""
        if client is not None:
            await client.aclose()
        try:
            await self._deps.runtime.remove_container(
                container_id, grace_seconds=self._deps.stop_grace
            )
        except ExecutorError as exc:
            self._deps.events.emit(CleanupFailed(f"container {container_id}", str(exc), self._avs))
