// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice ECDSACertificateVerifier's EIP-712 digest (name "EigenLayer", version "1", no chain
/// id). The domain uses address(this), so code placed with anvil_setCode gets the separator of
/// the address it sits at.
contract MockECDSACertificateVerifier {
    bytes32 public constant ECDSA_CERTIFICATE_TYPEHASH =
        keccak256("ECDSACertificate(uint32 referenceTimestamp,bytes32 messageHash)");
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,address verifyingContract)");

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH, keccak256("EigenLayer"), keccak256("1"), address(this)
            )
        );
    }

    function calculateCertificateDigestBytes(uint32 referenceTimestamp, bytes32 messageHash)
        public
        view
        returns (bytes memory)
    {
        bytes32 structHash =
            keccak256(abi.encode(ECDSA_CERTIFICATE_TYPEHASH, referenceTimestamp, messageHash));
        return abi.encodePacked("\x19\x01", domainSeparator(), structHash);
    }

    function calculateCertificateDigest(uint32 referenceTimestamp, bytes32 messageHash)
        external
        view
        returns (bytes32)
    {
        return keccak256(calculateCertificateDigestBytes(referenceTimestamp, messageHash));
    }
}
