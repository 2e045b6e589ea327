// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The TaskAVSRegistrar views the executor reads, with setters for tests.
contract MockTaskAVSRegistrar {
    /// @dev Returned as one struct, as upstream does: an offset word, then the tuple.
    struct AvsConfig {
        uint32 aggregatorOperatorSetId;
        uint32[] executorOperatorSetIds;
    }

    AvsConfig private _config;
    mapping(address => string) private _sockets;

    function getAvsConfig() external view returns (AvsConfig memory) {
        return _config;
    }

    function getOperatorSocket(address operator) external view returns (string memory) {
        return _sockets[operator];
    }

    function setAvsConfig(uint32 aggregatorOperatorSetId, uint32[] calldata executorOperatorSetIds)
        external
    {
        _config.aggregatorOperatorSetId = aggregatorOperatorSetId;
        _config.executorOperatorSetIds = executorOperatorSetIds;
    }

    function setOperatorSocket(address operator, string calldata socket) external {
        _sockets[operator] = socket;
    }
}
