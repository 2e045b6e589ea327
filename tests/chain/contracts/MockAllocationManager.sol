// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The AllocationManager views the executor reads, with setters for tests. Membership
/// lives in contract storage so that an eth_call pinned to an older block sees the older set.
contract MockAllocationManager {
    struct OperatorSet {
        address avs;
        uint32 id;
    }

    mapping(address => address) private _registrars;
    mapping(bytes32 => address[]) private _members;
    /// position in _members plus one; zero means "not a member"
    mapping(bytes32 => mapping(address => uint256)) private _positions;

    function _key(address avs, uint32 id) private pure returns (bytes32) {
        return keccak256(abi.encode(avs, id));
    }

    /// @notice Like EigenLayer: the AVS itself when it set no registrar.
    function getAVSRegistrar(address avs) external view returns (address) {
        address registrar = _registrars[avs];
        return registrar == address(0) ? avs : registrar;
    }

    function getMembers(OperatorSet memory operatorSet) external view returns (address[] memory) {
        return _members[_key(operatorSet.avs, operatorSet.id)];
    }

    function isMemberOfOperatorSet(address operator, OperatorSet memory operatorSet)
        external
        view
        returns (bool)
    {
        return _positions[_key(operatorSet.avs, operatorSet.id)][operator] != 0;
    }

    function setAVSRegistrar(address avs, address registrar) external {
        _registrars[avs] = registrar;
    }

    function addMember(address avs, uint32 id, address operator) external {
        bytes32 key = _key(avs, id);
        if (_positions[key][operator] != 0) return;
        _members[key].push(operator);
        _positions[key][operator] = _members[key].length;
    }

    function removeMember(address avs, uint32 id, address operator) external {
        bytes32 key = _key(avs, id);
        uint256 position = _positions[key][operator];
        if (position == 0) return;
        address[] storage members = _members[key];
        address last = members[members.length - 1];
        members[position - 1] = last;
        _positions[key][last] = position;
        members.pop();
        delete _positions[key][operator];
    }
}
