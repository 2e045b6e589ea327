"""What the executor's AVSs share on the container runtime: the performer network and the
stream of container events, which it hands to the AVS that owns the container."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from executor_core.avs_performer import AvsPerformer
from executor_core.errors import ExecutorError
from executor_core.events import CleanupFailed, ContainerEventsInterrupted
from executor_core.labels import executor_labels
from executor_core.live_performer import PerformerDeps
from executor_core.ports import NetworkRef

__all__ = ["NETWORK_REMOVAL_ATTEMPTS", "SharedRuntime"]

NETWORK_REMOVAL_ATTEMPTS = 6
EVENTS_RETRY_SECONDS = 1.0


class SharedRuntime:
    """The network (made if missing, removed at the end if made here) and the event pump."""

    def __init__(self, deps: PerformerDeps, performers: Callable[[], Iterable[AvsPerformer]]):
        self._deps = deps
        self._performers = performers
        self._network: NetworkRef | None = None
        self._pump: asyncio.Task[None] | None = None

    async def open(self) -> None:
        deps = self._deps
        if deps.network:
            labels = executor_labels(deps.executor_name)
            self._network = await deps.runtime.ensure_network(
                deps.network, labels, internal=deps.network_internal
            )
        self._pump = asyncio.create_task(self._pump_events(), name="container-events")

    async def stop_events(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None

    async def close(self) -> None:
        """Remove the network if this executor made it; the engine may still be detaching
        containers just removed, so retry for a moment."""
        network, self._network = self._network, None
        if network is None or not network.created:
            return
        for attempt in range(NETWORK_REMOVAL_ATTEMPTS):
            try:
                await self._deps.runtime.remove_network(network.network_id)
                return
            except ExecutorError as exc:
                if attempt == NETWORK_REMOVAL_ATTEMPTS - 1:
                    self._deps.events.emit(CleanupFailed(f"network {network.name}", str(exc)))
                    return
            await asyncio.sleep(0.5)

    async def _pump_events(self) -> None:
        """Hand each die/OOM event to the AVS that owns the container; outlive broken streams."""
        labels = executor_labels(self._deps.executor_name)  # adopted containers included
        while True:
            try:
                async for event in self._deps.runtime.events(labels):
                    for performer in tuple(self._performers()):
                        if performer.on_container_event(event):
                            break
            except Exception as exc:
                self._deps.events.emit(ContainerEventsInterrupted(repr(exc)))
            await asyncio.sleep(EVENTS_RETRY_SECONDS)
