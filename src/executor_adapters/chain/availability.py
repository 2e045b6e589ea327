"""Whether the chain endpoint answers, from the outcomes of the requests actually made."""

from __future__ import annotations

from executor_core.node_status import ServiceState, ServiceStatus

__all__ = ["ChainAvailability"]


class ChainAvailability:
    """A `RequestObserver`: Up while the last request got an answer, Down after one got none.

    It never sends requests of its own: the node API reports what tasks have seen.
    """

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint
        self.state = ServiceState.UP  # the reader opened only after eth_chainId answered

    def __call__(self, method: str, seconds: float, outcome: str) -> None:
        self.state = ServiceState.DOWN if outcome == "unavailable" else ServiceState.UP

    def status(self) -> ServiceStatus:
        return ServiceStatus(
            id="chain",
            name="l1Chain endpoint",
            description=f"the JSON-RPC endpoint G2 tasks are checked against ({self._endpoint})",
            state=self.state,
        )
