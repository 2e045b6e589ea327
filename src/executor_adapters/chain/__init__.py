"""Reading EigenLayer's contracts over Ethereum JSON-RPC: the `ChainReader` adapter.

`JsonRpcChainReader.open(url)` asks the endpoint its chain id, takes that chain's contract
addresses (`contracts.addresses_for`, overridable) and reads with `eth_call`s pinned to blocks,
cached and coalesced (`reader` says why each rule is safe). `abi` encodes exactly the calls the
executor makes; `jsonrpc` is the small aiohttp client under it.
"""

from executor_adapters.chain.abi import AvsConfig
from executor_adapters.chain.contracts import (
    ChainConfigError,
    ContractAddresses,
    addresses_for,
)
from executor_adapters.chain.jsonrpc import JsonRpcClient, masked_endpoint
from executor_adapters.chain.reader import JsonRpcChainReader

__all__ = [
    "AvsConfig",
    "ChainConfigError",
    "ContractAddresses",
    "JsonRpcChainReader",
    "JsonRpcClient",
    "addresses_for",
    "masked_endpoint",
]
