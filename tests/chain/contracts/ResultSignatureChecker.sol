// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Checks result signatures on the EVM the way EigenLayer's certificate verifiers do,
/// so the tests prove that what the executor signs passes on chain, not only in Python.
/// BN254: BN254SignatureVerifier's check over the precompiles 0x05-0x08 (signing.md §1.6, §1.7).
/// ECDSA: OpenZeppelin-style recovery of a 65-byte r ‖ s ‖ v signature, v 27/28, low S only.
contract ResultSignatureChecker {
    uint256 internal constant P =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant SQRT_EXPONENT = (P + 1) / 4;
    uint256 internal constant HALF_SECP256K1_ORDER =
        0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    // The G2 generator in the precompile's [A1, A0] order (imaginary part first).
    uint256 internal constant G2_X_A1 =
        11559732032986387107991004021392285783925812861821192530917403151452391805634;
    uint256 internal constant G2_X_A0 =
        10857046999023057135944570762232829481370756359578518086990519993285655852781;
    uint256 internal constant G2_Y_A1 =
        4082367875863433681332203403145435568316851327593401208105741076214120093531;
    uint256 internal constant G2_Y_A0 =
        8495653923123431417604973247489272438418190587263600148770280649306958101930;

    /// @param apkG2 X[0], X[1], Y[0], Y[1] = X.A1, X.A0, Y.A1, Y.A0
    function verifyBN254(
        bytes32 msgHash,
        uint256[2] calldata apkG1,
        uint256[4] calldata apkG2,
        uint256[2] calldata sigma
    ) external view returns (bool) {
        uint256 gamma = uint256(
            keccak256(
                abi.encodePacked(
                    msgHash,
                    apkG1[0],
                    apkG1[1],
                    apkG2[0],
                    apkG2[1],
                    apkG2[2],
                    apkG2[3],
                    sigma[0],
                    sigma[1]
                )
            )
        ) % R;
        (bool ok, uint256 ax, uint256 ay) = _mul(apkG1[0], apkG1[1], gamma);
        if (!ok) return false;
        (ok, ax, ay) = _add(sigma[0], sigma[1], ax, ay);
        if (!ok) return false;
        (uint256 hx, uint256 hy) = hashToG1(msgHash);
        (bool okG, uint256 gx, uint256 gy) = _mul(1, 2, gamma);
        if (!okG) return false;
        (ok, hx, hy) = _add(hx, hy, gx, gy);
        if (!ok) return false;
        uint256[12] memory input = [
            ax,
            ay,
            G2_X_A1,
            G2_X_A0,
            P - G2_Y_A1,
            P - G2_Y_A0,
            hx,
            hy,
            apkG2[0],
            apkG2[1],
            apkG2[2],
            apkG2[3]
        ];
        uint256[1] memory out;
        bool success;
        assembly {
            success := staticcall(gas(), 0x08, input, 384, out, 32)
        }
        return success && out[0] == 1;
    }

    /// @notice BN254.hashToG1(bytes32): try-and-increment, y as the exponentiation gives it.
    function hashToG1(bytes32 digest) public view returns (uint256 x, uint256 y) {
        x = uint256(digest) % P;
        while (true) {
            uint256 beta = addmod(mulmod(mulmod(x, x, P), x, P), 3, P);
            y = _expMod(beta, SQRT_EXPONENT);
            if (mulmod(y, y, P) == beta) return (x, y);
            x = addmod(x, 1, P);
        }
    }

    function verifyECDSA(bytes32 digest, bytes calldata signature, address expected)
        external
        pure
        returns (bool)
    {
        if (signature.length != 65) return false;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_SECP256K1_ORDER) return false;
        if (v != 27 && v != 28) return false;
        address signer = ecrecover(digest, v, r, s);
        return signer != address(0) && signer == expected;
    }

    function _expMod(uint256 base, uint256 exponent) private view returns (uint256 result) {
        uint256[6] memory input = [uint256(32), 32, 32, base, exponent, P];
        uint256[1] memory out;
        bool success;
        assembly {
            success := staticcall(gas(), 0x05, input, 192, out, 32)
        }
        require(success, "modexp failed");
        return out[0];
    }

    function _add(uint256 x1, uint256 y1, uint256 x2, uint256 y2)
        private
        view
        returns (bool success, uint256 x, uint256 y)
    {
        uint256[4] memory input = [x1, y1, x2, y2];
        uint256[2] memory out;
        assembly {
            success := staticcall(gas(), 0x06, input, 128, out, 64)
        }
        return (success, out[0], out[1]);
    }

    function _mul(uint256 px, uint256 py, uint256 scalar)
        private
        view
        returns (bool success, uint256 x, uint256 y)
    {
        uint256[3] memory input = [px, py, scalar];
        uint256[2] memory out;
        assembly {
            success := staticcall(gas(), 0x07, input, 96, out, 64)
        }
        return (success, out[0], out[1]);
    }
}
