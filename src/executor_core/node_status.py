"""What the EigenLayer node API reports: each AVS performer as a service, and the whole node.

The node specification (v0.0.1) knows three service states and three node states. A service
(one AVS's performer) is Up while its in-service performer runs and answers its health checks,
Initializing before the executor accepts tasks, and Down otherwise. The node is healthy when
every service is Up, partially healthy when some are, and unhealthy when none is.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import attrs

from executor_core.addresses import AvsAddress
from executor_core.performers import PerformerStatus, PerformerView

__all__ = ["NodeHealth", "ServiceState", "ServiceStatus", "node_health", "service_statuses"]


class ServiceState(enum.Enum):
    UP = "Up"
    DOWN = "Down"
    INITIALIZING = "Initializing"


class NodeHealth(enum.Enum):
    HEALTHY = "healthy"
    PARTIALLY_HEALTHY = "partially healthy"
    UNHEALTHY = "unhealthy"


@attrs.frozen
class ServiceStatus:
    """One AVS's performer as a node-API service."""

    id: str
    name: str
    description: str
    state: ServiceState


def service_statuses(
    performers: Mapping[AvsAddress, Sequence[PerformerView]], *, accepting: bool
) -> list[ServiceStatus]:
    """A service per AVS, in address order; its id is the AVS address."""
    statuses = []
    for avs in sorted(performers, key=lambda a: a.value):
        serving = [v for v in performers[avs] if v.status is PerformerStatus.IN_SERVICE]
        if not accepting:
            state = ServiceState.INITIALIZING
        elif any(v.resource_healthy and v.application_healthy for v in serving):
            state = ServiceState.UP
        else:
            state = ServiceState.DOWN
        image = serving[0].image.reference if serving else "no performer"
        statuses.append(
            ServiceStatus(
                id=avs.value,
                name=f"performer {avs.value}",
                description=f"the AVS's performer container ({image})",
                state=state,
            )
        )
    return statuses


def node_health(statuses: Sequence[ServiceStatus]) -> NodeHealth:
    """Healthy when every service is Up, partially healthy when some are, else unhealthy."""
    up = sum(s.state is ServiceState.UP for s in statuses)
    if statuses and up == len(statuses):
        return NodeHealth.HEALTHY
    if up:
        return NodeHealth.PARTIALLY_HEALTHY
    return NodeHealth.UNHEALTHY
