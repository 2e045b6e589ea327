// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice TaskMailbox's pure message hash of a task result.
contract MockTaskMailbox {
    function getMessageHash(bytes32 taskHash, bytes memory result) external pure returns (bytes32) {
        return keccak256(abi.encode(taskHash, result));
    }
}
