"""At start, what an earlier run of this executor left on the engine is adopted or removed.

An executor killed with SIGKILL (or the host's OOM killer) cannot remove its containers. The
next run with the same identity (`executor_name`) finds them by label: a running container
that is exactly what an AVS should run now (its image, its environment) and answers its health
check is adopted as that AVS's performer, keeping its performer id; everything else with the
label is removed, by id, before any new container is made. Containers of other executors carry
another name and are never looked at.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import attrs

from executor_core.addresses import AvsAddress
from executor_core.errors import ExecutorError
from executor_core.events import LeftoverRemoved, PerformerAdopted
from executor_core.labels import AVS_ADDRESS_LABEL, PERFORMER_ID_LABEL, executor_labels
from executor_core.live_performer import LivePerformer, PerformerDeps
from executor_core.performers import PerformerId, Release, RunningContainer
from executor_core.ports import FoundContainer
from executor_core.settings import HealthPolicy

__all__ = ["Adoption", "Reconciler", "mismatch"]


@attrs.frozen
class Adoption:
    """A container of an earlier run that becomes the AVS's in-service performer."""

    avs: AvsAddress
    release: Release
    live: LivePerformer = attrs.field(eq=False)

    @property
    def performer_id(self) -> PerformerId:
        return self.live.performer_id


def mismatch(found: FoundContainer, release: Release, local_image_id: str | None) -> str | None:
    """Why `found` cannot serve as a performer of `release`; None when it can."""
    if not found.running or found.endpoint is None:
        return "not running"
    if not found.labels.get(PERFORMER_ID_LABEL):
        return "no performer id label"
    if found.image_reference != release.image.reference:
        return f"runs {found.image_reference}, not {release.image.reference}"
    if local_image_id is not None and found.image_id != local_image_id:
        return f"runs an older image than {release.image.reference} names now"
    env = dict(found.env)
    if any(env.get(name) != value for name, value in release.env):
        return "its environment differs from the one wanted"
    return None


class Reconciler:
    """Finds this executor's containers and decides, per container, adopt or remove."""

    def __init__(self, deps: PerformerDeps) -> None:
        self._deps = deps

    async def reconcile(
        self, wanted: Mapping[AvsAddress, Release], health: Mapping[AvsAddress, HealthPolicy]
    ) -> dict[AvsAddress, Adoption]:
        """Adopt at most one container per AVS in `wanted`; remove every other one."""
        runtime = self._deps.runtime
        found = await runtime.find_containers(executor_labels(self._deps.executor_name))
        adopted: dict[AvsAddress, Adoption] = {}
        doomed: list[tuple[FoundContainer, str, AvsAddress | None]] = []
        image_ids: dict[str, str | None] = {}
        for container in sorted(found, key=lambda c: c.container_id):
            avs = _avs_of(container)
            release = wanted.get(avs) if avs is not None else None
            if avs is None or release is None:
                doomed.append((container, "its AVS is not served", avs))
                continue
            if avs in adopted:
                doomed.append((container, "another container of the AVS was adopted", avs))
                continue
            reference = release.image.reference
            if reference not in image_ids:
                image_ids[reference] = await runtime.local_image_id(reference)
            reason = mismatch(container, release, image_ids[reference])
            if reason is None:
                adoption = await self._adopt(container, avs, release, health[avs])
                if adoption is not None:
                    adopted[avs] = adoption
                    continue
                reason = "it did not answer its health check"
            doomed.append((container, reason, avs))
        await asyncio.gather(*(self._remove(*entry) for entry in doomed))
        return adopted

    async def _adopt(
        self, container: FoundContainer, avs: AvsAddress, release: Release, health: HealthPolicy
    ) -> Adoption | None:
        assert container.endpoint is not None  # `mismatch` checked it
        client = self._deps.connector.connect(container.endpoint)
        try:
            healthy = await client.check_health(timeout=health.timeout)
        except ExecutorError:
            healthy = False
        if not healthy:
            await client.aclose()
            return None
        performer_id = PerformerId(container.labels[PERFORMER_ID_LABEL])
        running = RunningContainer(
            container.container_id,
            container.name,
            container.endpoint,
            image_digest=container.image_digest,
        )
        live = LivePerformer(performer_id, running, client)
        live.record_health(healthy=True, at=self._deps.clock.now())
        self._deps.events.emit(PerformerAdopted(avs, performer_id, container.container_id))
        return Adoption(avs, release, live)

    async def _remove(self, container: FoundContainer, reason: str, avs: AvsAddress | None) -> None:
        await self._deps.runtime.remove_container(
            container.container_id, grace_seconds=self._deps.stop_grace
        )
        self._deps.events.emit(LeftoverRemoved(container.container_id, container.name, reason, avs))


def _avs_of(container: FoundContainer) -> AvsAddress | None:
    try:
        return AvsAddress(container.labels.get(AVS_ADDRESS_LABEL, ""))
    except ValueError:
        return None
