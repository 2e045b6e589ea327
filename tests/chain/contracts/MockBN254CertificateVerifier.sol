// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice BN254CertificateVerifier's pure certificate digest.
contract MockBN254CertificateVerifier {
    bytes32 public constant BN254_CERTIFICATE_TYPEHASH =
        keccak256("BN254Certificate(uint32 referenceTimestamp,bytes32 messageHash)");

    function calculateCertificateDigest(uint32 referenceTimestamp, bytes32 messageHash)
        external
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(BN254_CERTIFICATE_TYPEHASH, referenceTimestamp, messageHash));
    }
}
