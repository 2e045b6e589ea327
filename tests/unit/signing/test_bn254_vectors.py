"""BN254 signing against the shared vectors (signing.md §1, §5.1), byte for byte.

Pairing checks cost about 0.3 s each in py-ecc, so only a handful of cases are verified with a
pairing; every signature is compared byte for byte, which is the stronger check anyway.
"""

from __future__ import annotations

from typing import Any

import pytest

from executor_adapters.signing import bn254
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_adapters.signing.keccak import keccak256
from tests.oracles import bn254_reference as reference
from tests.vectors import load_vector

KEYS = load_vector("bn254_keys.json")["keys"]
SECRETS = {key["name"]: int(key["sk_hex"], 16) for key in KEYS}
PUBKEYS_G2 = {key["name"]: bytes.fromhex(key["pubkey_g2_bytes_hex"]) for key in KEYS}
SIGNATURES = load_vector("bn254_signatures.json")
RFC_SIGNATURE_CASES = [c for c in SIGNATURES["cases"] if "message_hex" in c]
SOLIDITY_SIGNATURE_CASES = [c for c in SIGNATURES["cases"] if "digest_hex" in c]
RFC_HASH = load_vector("bn254_hash_to_g1_rfc9380.json")
UPSTREAM_HASH_CASES = [
    (hash_set["function"], hash_set["dst"], case)
    for hash_set in RFC_HASH["upstream_sets"]["sets"]
    for case in hash_set["cases"]
]
SOLIDITY_HASH_CASES = load_vector("bn254_solidity_hash_to_g1.json")["cases"]
C18D70E = load_vector("task_messages.json")["c18d70e"]
RESULT_CASES = C18D70E["executor_result_signature"]["cases"]
PAYLOAD_CASES = C18D70E["aggregator_task_signature"]["cases"]

P = bn254.FIELD_MODULUS
R = bn254.CURVE_ORDER


def _point(coordinates: list[str]) -> bytes:
    """Affine big-endian hex coordinates (with 0x) as the 64-byte G1 encoding."""
    x, y = (int(c, 16) for c in coordinates)
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def _words(*values: int) -> bytes:
    return b"".join(v.to_bytes(32, "big") for v in values)


def _case_id(case: dict[str, Any]) -> str:
    data = case.get("message_hex", case.get("digest_hex", ""))
    return f"{case['key']}-{data[:12] or 'empty'}"


# --- vectors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS, ids=[k["name"] for k in KEYS])
def test_public_keys_match_gnark_bytes_and_solidity_order(key: dict[str, Any]) -> None:
    sk = int(key["sk_hex"], 16)
    g1 = bn254.public_key_g1(sk)
    g2 = bn254.public_key_g2(sk)
    assert g1.hex() == key["pubkey_g1_bytes_hex"]
    assert g2.hex() == key["pubkey_g2_bytes_hex"]
    assert g1 == _words(*(int(v) for v in key["pubkey_g1_solidity"]))
    (x_a1, x_a0), (y_a1, y_a0) = key["pubkey_g2_solidity"]
    assert g2 == _words(int(x_a1), int(x_a0), int(y_a1), int(y_a0))
    assert reference.g1_to_bytes(reference.g1_from_bytes(g1)) == g1
    assert reference.g2_to_bytes(reference.g2_from_bytes(g2)) == g2


@pytest.mark.parametrize("key", KEYS, ids=[k["name"] for k in KEYS])
def test_signer_accepts_minimal_secret_bytes(key: dict[str, Any]) -> None:
    signer = Bn254ResultSigner(bytes.fromhex(key["sk_min_bytes_hex"]))
    assert signer.public_key_g2.hex() == key["pubkey_g2_bytes_hex"]
    assert signer.public_key_g1.hex() == key["pubkey_g1_bytes_hex"]


@pytest.mark.parametrize("case", RFC_SIGNATURE_CASES, ids=_case_id)
def test_sign_rfc9380_vectors(case: dict[str, Any]) -> None:
    signature = bn254.sign(SECRETS[case["key"]], bytes.fromhex(case["message_hex"]))
    assert signature.hex() == case["signature_hex"]


@pytest.mark.parametrize("case", SOLIDITY_SIGNATURE_CASES, ids=_case_id)
def test_sign_solidity_vectors(case: dict[str, Any]) -> None:
    signature = bn254.sign_solidity(SECRETS[case["key"]], bytes.fromhex(case["digest_hex"]))
    assert signature.hex() == case["signature_hex"]
    assert signature == _words(*(int(v) for v in case["signature_solidity"]))


def test_verify_accepts_one_vector_of_each_method_and_rejects_other_inputs() -> None:
    rfc = next(c for c in RFC_SIGNATURE_CASES if c["message_hex"])
    sol = SOLIDITY_SIGNATURE_CASES[0]
    pk_rfc, pk_sol = PUBKEYS_G2[rfc["key"]], PUBKEYS_G2[sol["key"]]
    message = bytes.fromhex(rfc["message_hex"])
    digest = bytes.fromhex(sol["digest_hex"])
    rfc_sig = bytes.fromhex(rfc["signature_hex"])
    sol_sig = bytes.fromhex(sol["signature_hex"])

    assert bn254.verify(pk_rfc, message, rfc_sig)
    assert bn254.verify_solidity(pk_sol, digest, sol_sig)
    assert not bn254.verify(pk_rfc, message + b"!", rfc_sig)
    # The two hash functions are not interchangeable (pitfall 1).
    assert not bn254.verify(pk_sol, digest, sol_sig)


def test_aggregate_vector() -> None:
    aggregation = SIGNATURES["aggregation"]
    digest = bytes.fromhex(aggregation["digest_hex"])
    names = aggregation["keys"]
    individual = [bytes.fromhex(s) for s in aggregation["individual_signatures_hex"]]

    assert [bn254.sign_solidity(SECRETS[n], digest) for n in names] == individual
    aggregate_sig = reference.aggregate_g1(individual)
    aggregate_pk = reference.aggregate_g2(PUBKEYS_G2[n] for n in names)
    assert aggregate_sig.hex() == aggregation["aggregate_signature_hex"]
    assert aggregate_pk.hex() == aggregation["aggregate_pubkey_g2_hex"]
    g1_keys = [bn254.public_key_g1(SECRETS[n]) for n in names]
    assert reference.aggregate_g1(g1_keys).hex() == aggregation["aggregate_pubkey_g1_hex"]
    assert bn254.verify_solidity(aggregate_pk, digest, aggregate_sig)


@pytest.mark.parametrize("case", SOLIDITY_HASH_CASES, ids=lambda c: c["digest_hex"][:16])
def test_solidity_hash_to_g1_vectors(case: dict[str, Any]) -> None:
    digest = bytes.fromhex(case["digest_hex"])
    encoded = reference.g1_to_bytes(reference.solidity_hash_to_g1(digest))
    assert encoded.hex() == case["point_bytes_hex"]
    assert encoded == _point([case["x"], case["y"]])
    start = int.from_bytes(digest, "big") % P
    assert (int(case["x"], 16) - start) % P == case["increments"]


@pytest.mark.parametrize(
    ("function", "dst", "case"),
    UPSTREAM_HASH_CASES,
    ids=[f"{f}-{c['msg'][:8] or 'empty'}" for f, _, c in UPSTREAM_HASH_CASES],
)
def test_rfc9380_upstream_vectors(function: str, dst: str, case: dict[str, Any]) -> None:
    msg, dst_bytes = case["msg"].encode(), dst.encode()
    if function == "hashToG1":
        uniform = reference.expand_message_xmd(msg, dst_bytes, 96)
        u0, u1 = (int.from_bytes(uniform[i : i + 48], "big") % P for i in (0, 48))
        assert (u0, u1) == (int(case["u0"], 16), int(case["u1"], 16))
        assert _words(*reference.map_to_curve_svdw(u0)) == _point(case["Q0"])
        assert _words(*reference.map_to_curve_svdw(u1)) == _point(case["Q1"])
        point = reference.rfc9380_hash_to_g1(msg, dst_bytes)
    else:
        assert function == "encodeToG1"
        u = int.from_bytes(reference.expand_message_xmd(msg, dst_bytes, 48), "big") % P
        assert u == int(case["u"], 16)
        assert _words(*reference.map_to_curve_svdw(u)) == _point(case["Q"])
        point = reference.rfc9380_encode_to_g1(msg, dst_bytes)
    assert reference.g1_to_bytes(point) == _point(case["P"])


@pytest.mark.parametrize(
    "case", RFC_HASH["crypto_libs_dst_set"]["cases"], ids=lambda c: c["msg_hex"][:12] or "empty"
)
def test_rfc9380_crypto_libs_dst_vectors(case: dict[str, Any]) -> None:
    assert RFC_HASH["crypto_libs_dst_set"]["dst"].encode() == bn254.DEFAULT_DST
    msg = bytes.fromhex(case["msg_hex"])
    uniform = reference.expand_message_xmd(msg, bn254.DEFAULT_DST, 96)
    u0, u1 = (int.from_bytes(uniform[i : i + 48], "big") % P for i in (0, 48))
    assert (u0, u1) == (int(case["u0"], 16), int(case["u1"], 16))
    encoded = reference.g1_to_bytes(reference.rfc9380_hash_to_g1(msg))
    assert encoded.hex() == case["P_bytes_hex"]
    assert encoded == _point(case["P"])


@pytest.mark.parametrize("case", RESULT_CASES, ids=lambda c: c["output_hex"][:12] or "empty")
async def test_c18d70e_executor_result_signature(case: dict[str, Any]) -> None:
    key = C18D70E["executor_result_signature"]["key"]
    output = bytes.fromhex(case["output_hex"])
    digest = keccak256(output)
    assert digest.hex() == case["digest_keccak_output_hex"]
    assert bn254.sign_solidity(SECRETS[key], digest).hex() == case["signature_hex"]
    signer = Bn254ResultSigner(SECRETS[key].to_bytes(32, "big"))
    assert (await signer.sign_result(output)).hex() == case["signature_hex"]


@pytest.mark.parametrize("case", PAYLOAD_CASES, ids=lambda c: c["payload_hex"][:12] or "empty")
def test_c18d70e_aggregator_payload_signature(case: dict[str, Any]) -> None:
    key = C18D70E["aggregator_task_signature"]["key"]
    payload = bytes.fromhex(case["payload_hex"])
    assert bn254.sign(SECRETS[key], payload).hex() == case["signature_hex"]


def test_c18d70e_executor_verifies_aggregator_payload_signature() -> None:
    """The check the executor runs on `TaskSubmission.signature` (raw payload, RFC hash)."""
    key = C18D70E["aggregator_task_signature"]["key"]
    case = next(c for c in PAYLOAD_CASES if c["payload_hex"])
    payload, signature = bytes.fromhex(case["payload_hex"]), bytes.fromhex(case["signature_hex"])
    assert bn254.verify(PUBKEYS_G2[key], payload, signature)
    assert not bn254.verify(PUBKEYS_G2["ponos-executor"], payload, signature)


# --- constants, encodings and edge cases ------------------------------------------------------


def test_svdw_constants_match_the_reference() -> None:
    assert reference._SVDW_C1 == 4
    assert reference._SVDW_C2 == 0x183227397098D014DC2822DB40C0AC2ECBC0B548B438E5469E10460B6C3E7EA3
    assert reference._SVDW_C3 == 0x16789AF3A83522EB353C98FC6B36D713D5D8D1CC5DFFFFFFA
    assert reference._SVDW_C4 == 0x10216F7BA065E00DE81AC1E7808072C9DD2B2385CD7B438469602EB24829A9BD


def test_keccak256_is_not_sha3() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


def test_scalars_are_reduced_modulo_r_and_negative_ones_refused() -> None:
    digest = bytes(range(32))
    assert bn254.sign_solidity(5 + R, digest) == bn254.sign_solidity(5, digest)
    assert bn254.public_key_g2(R + 1) == bn254.public_key_g2(1)
    with pytest.raises(ValueError, match="negative"):
        bn254.sign_solidity(-1, digest)


def test_solidity_hash_needs_exactly_32_bytes() -> None:
    for size in (0, 31, 33):
        with pytest.raises(ValueError, match="32-byte digest"):
            reference.solidity_hash_to_g1(bytes(size))


def test_infinity_encodes_as_zeros() -> None:
    assert reference.g1_to_bytes(reference.g1_from_bytes(bytes(64))) == bytes(64)
    assert reference.g2_to_bytes(reference.g2_from_bytes(bytes(128))) == bytes(128)
    assert bn254.public_key_g1(0) == bytes(64)


def test_g1_decoding_rejects_bad_input() -> None:
    good = bn254.public_key_g1(7)
    with pytest.raises(ValueError, match="64 bytes"):
        reference.g1_from_bytes(good[:32])
    with pytest.raises(ValueError, match="not on the curve"):
        reference.g1_from_bytes(good[:63] + bytes([good[63] ^ 1]))
    with pytest.raises(ValueError, match="field modulus"):
        reference.g1_from_bytes(_words(P + 1, 2))  # (1, 2) shifted by p


def _fp2_sqrt(a: Any) -> Any:
    """Square root in Fp2 for p ≡ 3 mod 4 (Adj & Rodríguez-Henríquez, algorithm 9), or None."""
    fq2 = type(a)
    a1 = a ** ((P - 3) // 4)
    alpha = a1 * a1 * a
    x0 = a1 * a
    minus_one = fq2([P - 1, 0])
    if (alpha**P) * alpha == minus_one:
        return None
    if alpha == minus_one:
        return fq2([0, 1]) * x0
    return ((fq2.one() + alpha) ** ((P - 1) // 2)) * x0


def _twist_point_outside_subgroup() -> bytes:
    """A point on the G2 twist curve that is (with overwhelming odds) not r-torsion."""
    fq2 = type(reference.g2_from_bytes(bn254.public_key_g2(1))[0])
    b2 = fq2([3, 0]) / fq2([9, 1])
    for x_a0 in range(1, 100):
        x = fq2([x_a0, 1])
        y = _fp2_sqrt(x * x * x + b2)
        if y is not None and y * y == x * x * x + b2:
            return _words(*(int(c) for c in (x.coeffs[1], x.coeffs[0], y.coeffs[1], y.coeffs[0])))
    raise AssertionError("no twist point found")


def test_g2_decoding_rejects_bad_input() -> None:
    good = bn254.public_key_g2(7)
    with pytest.raises(ValueError, match="128 bytes"):
        reference.g2_from_bytes(good[:64])
    with pytest.raises(ValueError, match="not on the twist"):
        reference.g2_from_bytes(good[:127] + bytes([good[127] ^ 1]))
    with pytest.raises(ValueError, match="field modulus"):
        reference.g2_from_bytes(_words(P, 0, 0, 0))
    with pytest.raises(ValueError, match="subgroup"):
        reference.g2_from_bytes(_twist_point_outside_subgroup())
    # Real-first order (eigensdk-go SerializeG2) is not a valid crypto-libs encoding.
    swapped = good[32:64] + good[:32] + good[96:] + good[64:96]
    with pytest.raises(ValueError, match=r"not on the twist|subgroup"):
        reference.g2_from_bytes(swapped)


def test_verify_returns_false_for_malformed_or_identity_inputs() -> None:
    digest = keccak256(b"x")
    signature = bn254.sign_solidity(3, digest)
    pk = bn254.public_key_g2(3)
    assert not bn254.verify_solidity(pk[:64], digest, signature)
    assert not bn254.verify_solidity(pk, digest, signature[:63] + b"\x00")
    # The identity key with the identity "signature" would otherwise verify every message.
    assert not bn254.verify_solidity(bytes(128), digest, bytes(64))
    assert not bn254.verify(bytes(128), b"anything", bytes(64))


def test_expand_message_xmd_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="DST"):
        reference.expand_message_xmd(b"", b"", 32)
    with pytest.raises(ValueError, match="DST"):
        reference.expand_message_xmd(b"", b"d" * 256, 32)
    with pytest.raises(ValueError, match="expand"):
        reference.expand_message_xmd(b"", b"d", 255 * 32 + 1)
