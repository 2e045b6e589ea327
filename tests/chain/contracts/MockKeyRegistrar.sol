// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The KeyRegistrar views the executor reads, with setters for tests. Curve types:
/// 0 none, 1 ECDSA, 2 BN254. G2 coordinates are stored in the precompile's [A1, A0] order.
contract MockKeyRegistrar {
    struct OperatorSet {
        address avs;
        uint32 id;
    }

    struct G1Point {
        uint256 X;
        uint256 Y;
    }

    struct G2Point {
        uint256[2] X;
        uint256[2] Y;
    }

    mapping(bytes32 => uint8) private _curves;
    mapping(bytes32 => mapping(address => G1Point)) private _g1Keys;
    mapping(bytes32 => mapping(address => G2Point)) private _g2Keys;
    mapping(bytes32 => mapping(address => address)) private _ecdsaAddresses;

    function _key(address avs, uint32 id) private pure returns (bytes32) {
        return keccak256(abi.encode(avs, id));
    }

    function getOperatorSetCurveType(OperatorSet memory operatorSet) external view returns (uint8) {
        return _curves[_key(operatorSet.avs, operatorSet.id)];
    }

    function getBN254Key(OperatorSet memory operatorSet, address operator)
        external
        view
        returns (G1Point memory, G2Point memory)
    {
        bytes32 key = _key(operatorSet.avs, operatorSet.id);
        return (_g1Keys[key][operator], _g2Keys[key][operator]);
    }

    function getECDSAAddress(OperatorSet memory operatorSet, address operator)
        external
        view
        returns (address)
    {
        return _ecdsaAddresses[_key(operatorSet.avs, operatorSet.id)][operator];
    }

    function configureOperatorSet(address avs, uint32 id, uint8 curve) external {
        _curves[_key(avs, id)] = curve;
    }

    /// @param g2 X[0], X[1], Y[0], Y[1] = X.A1, X.A0, Y.A1, Y.A0
    function setBN254Key(
        address avs,
        uint32 id,
        address operator,
        uint256[2] calldata g1,
        uint256[4] calldata g2
    ) external {
        bytes32 key = _key(avs, id);
        _g1Keys[key][operator] = G1Point(g1[0], g1[1]);
        _g2Keys[key][operator] = G2Point([g2[0], g2[1]], [g2[2], g2[3]]);
    }

    function setECDSAAddress(address avs, uint32 id, address operator, address signer) external {
        _ecdsaAddresses[_key(avs, id)][operator] = signer;
    }
}
