"""Where aggregators' public keys come from. Today: the config's simulated peers and a peers
file; an on-chain adapter implements the same `AggregatorKeys` port."""

from executor_adapters.peering.simulated import AggregatorPeer, SimulatedAggregatorKeys

__all__ = ["AggregatorPeer", "SimulatedAggregatorKeys"]
