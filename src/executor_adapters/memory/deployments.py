"""A deployment store that keeps what it is told for the life of the process."""

from __future__ import annotations

from collections.abc import Sequence

from executor_core.addresses import AvsAddress
from executor_core.ports import StoredDeployment


class InMemoryDeploymentStore:
    """Implements `executor_core.ports.DeploymentStore` in a dict; `storage.type: memory`, and
    for tests a store that two executors on the same fakes can share, as a restart would."""

    def __init__(self) -> None:
        self.deployments: dict[AvsAddress, StoredDeployment] = {}

    async def load(self) -> Sequence[StoredDeployment]:
        return list(self.deployments.values())

    async def save(self, deployment: StoredDeployment) -> None:
        self.deployments[deployment.avs] = deployment

    async def forget(self, avs: AvsAddress) -> None:
        self.deployments.pop(avs, None)
