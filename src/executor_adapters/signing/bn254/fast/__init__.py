"""Fast BN254 (alt_bn128) BLS signing and verification: pure Python on gmpy2.

Byte-identical to the py-ecc reference in `executor_adapters.signing.bn254` (which now delegates
its signing, verification and key derivation here) and about 20-100 times faster:

- `field`: constants, Fp and Fp2 on mpz;
- `tower`: Fp6/Fp12 with lazy reduction, sparse line products, Frobenius, cyclotomic squaring;
- `g1`: Jacobian arithmetic, GLV + width-5 NAF scalar multiplication, fixed-base generator table;
- `g2`: twist arithmetic, subgroup check, fixed-base generator table;
- `pairing`: optimal ate with precomputed lines, multi-Miller loop, final exponentiation;
- `hashing`: Solidity try-and-increment and RFC 9380 (expand_message_xmd + SVDW);
- `api`: the byte-level functions below.
"""

from executor_adapters.signing.bn254.fast.api import (
    clear_public_key_cache,
    g1_decode,
    g1_encode,
    g2_decode,
    g2_encode,
    prepared_public_key,
    public_key_g1,
    public_key_g2,
    sign,
    sign_solidity,
    verify,
    verify_solidity,
)
from executor_adapters.signing.bn254.fast.hashing import (
    DEFAULT_DST,
    expand_message_xmd,
    rfc9380_hash_to_g1,
    solidity_hash_to_g1,
)

__all__ = [
    "DEFAULT_DST",
    "clear_public_key_cache",
    "expand_message_xmd",
    "g1_decode",
    "g1_encode",
    "g2_decode",
    "g2_encode",
    "prepared_public_key",
    "public_key_g1",
    "public_key_g2",
    "rfc9380_hash_to_g1",
    "sign",
    "sign_solidity",
    "solidity_hash_to_g1",
    "verify",
    "verify_solidity",
]
