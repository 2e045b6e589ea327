// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Checks result signatures on the EVM the way EigenLayer's certificate verifiers do,
/// so the tests prove that what the executor signs passes on chain, not only in Python.
/// BN254: BN254SignatureVerifier's check over the precompiles 0x05-0x08 (signing.md §1.6, §1.7).
/// BN254 "standard": crypto-libs `Verify` (RFC 9380 hash-to-G1 with the SVDW map, §1.5), so
/// that a signature made with `Sign` (the executor's auth signature) is checked on the EVM too.
/// ECDSA: OpenZeppelin-style recovery of a 65-byte r ‖ s ‖ v signature, v 27/28, low S only.
contract ResultSignatureChecker {
    uint256 internal constant P =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant SQRT_EXPONENT = (P + 1) / 4;
    uint256 internal constant INVERSE_EXPONENT = P - 2; // Fermat; the precompile gives 0^e = 0
    uint256 internal constant TWO_POW_256_MOD_P =
        0x0e0a77c19a07df2f666ea36f7879462c0a78eb28f5c70b3dd35d438dc58f0d9d;
    // RFC 9380 §6.6.1 SVDW constants for A = 0, B = 3, Z = 1 (signing.md §1.5).
    uint256 internal constant SVDW_C1 = 4;
    uint256 internal constant SVDW_C2 =
        0x183227397098d014dc2822db40c0ac2ecbc0b548b438e5469e10460b6c3e7ea3;
    uint256 internal constant SVDW_C3 = 0x16789af3a83522eb353c98fc6b36d713d5d8d1cc5dffffffa;
    uint256 internal constant SVDW_C4 =
        0x10216f7ba065e00de81ac1e7808072c9dd2b2385cd7b438469602eb24829a9bd;
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

    /// @notice crypto-libs `Verify`: e(σ, −G2gen) · e(HashToG1(msg, dst), pk) == 1.
    /// @param pkG2 X[0], X[1], Y[0], Y[1] = X.A1, X.A0, Y.A1, Y.A0
    function verifyBN254Standard(
        bytes calldata message,
        bytes calldata dst,
        uint256[4] calldata pkG2,
        uint256[2] calldata sigma
    ) external view returns (bool) {
        (uint256 hx, uint256 hy) = hashToG1Standard(message, dst);
        uint256[12] memory input = [
            sigma[0],
            sigma[1],
            G2_X_A1,
            G2_X_A0,
            P - G2_Y_A1,
            P - G2_Y_A0,
            hx,
            hy,
            pkG2[0],
            pkG2[1],
            pkG2[2],
            pkG2[3]
        ];
        uint256[1] memory out;
        bool success;
        assembly {
            success := staticcall(gas(), 0x08, input, 384, out, 32)
        }
        // an off-curve σ or key makes the precompile fail: not a valid signature
        return success && out[0] == 1;
    }

    /// @notice gnark's `HashToG1(msg, dst)`: RFC 9380 hash_to_curve, expand_message_xmd with
    /// SHA-256, two 48-byte field elements, SVDW map for each, Q0 + Q1 (cofactor 1).
    function hashToG1Standard(bytes memory message, bytes memory dst)
        public
        view
        returns (uint256 x, uint256 y)
    {
        (uint256 u0, uint256 u1) = _hashToField(message, dst);
        (uint256 x0, uint256 y0) = _mapToCurveSvdw(u0);
        (uint256 x1, uint256 y1) = _mapToCurveSvdw(u1);
        bool ok;
        (ok, x, y) = _add(x0, y0, x1, y1);
        require(ok, "ecAdd failed");
    }

    /// @notice One SVDW map call, exposed so tests can reach the inputs a hash never draws
    /// (the inv0(0) case u = ±1/2, u = 0).
    function mapToCurveSvdw(uint256 u) external view returns (uint256 x, uint256 y) {
        return _mapToCurveSvdw(u % P);
    }

    /// @dev expand_message_xmd(msg, dst, 96) cut into two 48-byte big-endian integers mod p.
    function _hashToField(bytes memory message, bytes memory dst)
        private
        pure
        returns (uint256 u0, uint256 u1)
    {
        // longer DSTs would have to be pre-hashed (RFC 9380 §5.3.3); no caller needs them
        require(dst.length > 0 && dst.length < 256, "DST must be 1 to 255 bytes");
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        // Z_pad (64 zero bytes) ‖ msg ‖ I2OSP(96, 2) ‖ I2OSP(0, 1) ‖ DST_prime
        bytes32 b0 = sha256(
            abi.encodePacked(bytes32(0), bytes32(0), message, uint16(96), uint8(0), dstPrime)
        );
        bytes32 b1 = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        bytes32 b2 = sha256(abi.encodePacked(b0 ^ b1, uint8(2), dstPrime));
        bytes32 b3 = sha256(abi.encodePacked(b0 ^ b2, uint8(3), dstPrime));
        // u0 = b1 ‖ b2[0:16] = b1·2^128 + hi(b2); u1 = b2[16:32] ‖ b3 = lo(b2)·2^256 + b3
        u0 = addmod(mulmod(uint256(b1), 1 << 128, P), uint256(b2) >> 128, P);
        u1 = addmod(
            mulmod(uint256(b2) & ((1 << 128) - 1), TWO_POW_256_MOD_P, P), uint256(b3), P
        );
    }

    /// @dev RFC 9380 §F.1 straight-line SVDW; sgn0(y) = sgn0(u), sgn0 being the parity.
    function _mapToCurveSvdw(uint256 u) private view returns (uint256 x, uint256 y) {
        uint256 tv1 = mulmod(mulmod(u, u, P), SVDW_C1, P);
        uint256 tv2 = addmod(1, tv1, P);
        tv1 = addmod(1, P - tv1, P);
        uint256 tv3 = _expMod(mulmod(tv1, tv2, P), INVERSE_EXPONENT); // inv0
        uint256 tv4 = mulmod(mulmod(mulmod(u, tv1, P), tv3, P), SVDW_C3, P);
        bool square;
        x = addmod(SVDW_C2, P - tv4, P);
        (square, y) = _sqrt(_curveRhs(x));
        if (!square) {
            x = addmod(SVDW_C2, tv4, P);
            (square, y) = _sqrt(_curveRhs(x));
            if (!square) {
                x = mulmod(mulmod(tv2, tv2, P), tv3, P);
                x = addmod(mulmod(mulmod(x, x, P), SVDW_C4, P), 1, P);
                (square, y) = _sqrt(_curveRhs(x));
                require(square, "svdw: g(x3) is not a square"); // impossible by construction
            }
        }
        if ((u & 1) != (y & 1)) y = (P - y) % P;
    }

    function _curveRhs(uint256 x) private pure returns (uint256) {
        return addmod(mulmod(mulmod(x, x, P), x, P), 3, P);
    }

    /// @dev p ≡ 3 mod 4, so a^((p+1)/4) is a root whenever one exists; squaring it back tells
    /// whether one does (0 counts as a square).
    function _sqrt(uint256 a) private view returns (bool square, uint256 root) {
        root = _expMod(a, SQRT_EXPONENT);
        square = mulmod(root, root, P) == a;
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
