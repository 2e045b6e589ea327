"""A performer connector whose performers answer according to their container's image tag."""

from __future__ import annotations

from executor_adapters.memory import (
    InMemoryContainerRuntime,
    ScriptedPerformer,
    ScriptedPerformerConnector,
)
from executor_core.performers import Endpoint


class VersionedConnector(ScriptedPerformerConnector):
    """`outputs[tag]` is what a performer of that image tag returns; `unhealthy` tags never
    answer their health check."""

    def __init__(self, runtime: InMemoryContainerRuntime) -> None:
        super().__init__(lambda task_id, payload: b"")
        self.runtime = runtime
        self.unhealthy: set[str] = set()

    def tag_at(self, endpoint: Endpoint) -> str:
        for record in self.runtime.containers.values():
            if record.endpoint == endpoint:
                return record.spec.image.tag or record.spec.image.digest
        raise KeyError(endpoint)

    def connect(self, endpoint: Endpoint) -> ScriptedPerformer:
        tag = self.tag_at(endpoint)
        client = ScriptedPerformer(
            lambda task_id, payload: tag.encode(),
            healthy=tag not in self.unhealthy,
            endpoint=endpoint,
        )
        self.clients.append(client)
        return client
