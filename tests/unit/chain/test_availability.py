"""The chain endpoint's node-API state follows the answers requests actually got."""

from __future__ import annotations

from executor_adapters.chain.availability import ChainAvailability
from executor_core.node_status import ServiceState


def test_the_endpoint_is_down_after_a_request_without_answer_and_up_after_an_answer() -> None:
    availability = ChainAvailability("http://127.0.0.1:8545")
    assert availability.status().state is ServiceState.UP
    availability("eth_call", 5.0, "unavailable")
    assert availability.status().state is ServiceState.DOWN
    availability("eth_call", 0.01, "error")  # a revert is an answer
    assert availability.status().state is ServiceState.UP
    assert availability.status().id == "chain"
