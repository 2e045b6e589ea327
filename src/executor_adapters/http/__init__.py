"""The executor's HTTP listener: the EigenLayer node API, and probes for orchestrators."""

from executor_adapters.http.node_api import NODE_SPEC_VERSION, NodeApiServer

__all__ = ["NODE_SPEC_VERSION", "NodeApiServer"]
