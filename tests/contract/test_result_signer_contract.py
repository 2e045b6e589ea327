"""Contract for `ResultSigner`: the real BN254 signer and the fake must behave alike.

`ResultSignerContract` holds the shared tests and one abstract fixture, `signer`; each
implementation subclasses it. Behaviour that only one implementation has is tested in plain
functions or in that implementation's subclass.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from Crypto.Hash import keccak
from py_ecc.bn128 import bn128_curve as curve
from py_ecc.bn128 import bn128_pairing
from py_ecc.fields import bn128_FQ as FQ
from py_ecc.fields import bn128_FQ2 as FQ2

from executor_adapters.memory.signer import FakeResultSigner
from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_core.errors import SigningError
from executor_core.ports import ResultSigner
from tests.vectors import load_vector

EXECUTOR_KEY = next(
    k for k in load_vector("bn254_keys.json")["keys"] if k["name"] == "ponos-executor"
)
RESULT_VECTORS = load_vector("task_messages.json")["c18d70e"]["executor_result_signature"]


class ResultSignerContract:
    """Shared behaviour of every `ResultSigner`; subclasses provide the `signer` fixture."""

    signature_length = 64

    @pytest.fixture
    def signer(self) -> ResultSigner:
        raise NotImplementedError("each implementation's test class provides the signer")

    async def test_signing_is_deterministic(self, signer: ResultSigner) -> None:
        assert await signer.sign_result(b"output") == await signer.sign_result(b"output")

    async def test_signatures_have_a_stable_length(self, signer: ResultSigner) -> None:
        outputs = [b"", b"a", b"\x00" * 31, b"x" * 32, bytes(range(256)) * 40]
        lengths = {len(await signer.sign_result(output)) for output in outputs}
        assert lengths == {self.signature_length}

    async def test_different_outputs_give_different_signatures(self, signer: ResultSigner) -> None:
        outputs = [b"", b"0", b"1", b"10", b"\x00", b"\x00\x00"]
        signatures = [await signer.sign_result(output) for output in outputs]
        assert len(set(signatures)) == len(outputs)

    async def test_signs_the_empty_output(self, signer: ResultSigner) -> None:
        signature = await signer.sign_result(b"")
        assert isinstance(signature, bytes)
        assert any(signature)

    async def test_concurrent_calls_all_succeed(self, signer: ResultSigner) -> None:
        outputs = [f"task-{i}".encode() for i in range(32)]
        concurrent = await asyncio.gather(*(signer.sign_result(output) for output in outputs))
        sequential = [await signer.sign_result(output) for output in outputs]
        assert concurrent == sequential
        assert len(set(concurrent)) == len(outputs)


# --- the BN254 signer -------------------------------------------------------------------------


def _solidity_hash_to_g1(digest: bytes) -> tuple[Any, Any]:
    """`BN254.hashToG1(bytes32)` once more, written from the Solidity source, on py-ecc bn128."""
    p = curve.field_modulus
    x = int.from_bytes(digest, "big") % p
    while True:
        beta = (pow(x, 3, p) + 3) % p
        y = pow(beta, (p + 1) // 4, p)
        if pow(y, 2, p) == beta:
            return (FQ(x), FQ(y))
        x = (x + 1) % p


def _independent_verify(public_key_g2: bytes, output: bytes, signature: bytes) -> bool:
    """e(sig, G2) == e(H(keccak256(output)), pk) with py-ecc's plain (non-optimised) bn128."""
    words = [int.from_bytes(public_key_g2[i : i + 32], "big") for i in range(0, 128, 32)]
    x_a1, x_a0, y_a1, y_a0 = words
    public_key = (FQ2([x_a0, x_a1]), FQ2([y_a0, y_a1]))
    sigma = (
        FQ(int.from_bytes(signature[:32], "big")),
        FQ(int.from_bytes(signature[32:], "big")),
    )
    digest = keccak.new(digest_bits=256, data=output).digest()
    assert curve.is_on_curve(public_key, curve.b2)
    assert curve.is_on_curve(sigma, curve.b)
    left: Any = bn128_pairing.pairing(curve.G2, sigma)
    right: Any = bn128_pairing.pairing(public_key, _solidity_hash_to_g1(digest))
    return bool(left == right)


class TestBn254ResultSigner(ResultSignerContract):
    @pytest.fixture
    def signer(self) -> Bn254ResultSigner:
        return Bn254ResultSigner(bytes.fromhex(EXECUTOR_KEY["sk_hex"]))

    async def test_signature_passes_an_independent_pairing_check(
        self, signer: Bn254ResultSigner
    ) -> None:
        output = b"result of task 0x01"
        signature = await signer.sign_result(output)
        assert _independent_verify(signer.public_key_g2, output, signature)

    async def test_matches_the_c18d70e_vectors(self, signer: Bn254ResultSigner) -> None:
        assert RESULT_VECTORS["key"] == EXECUTOR_KEY["name"]
        for case in RESULT_VECTORS["cases"]:
            signature = await signer.sign_result(bytes.fromhex(case["output_hex"]))
            assert signature.hex() == case["signature_hex"]

    def test_public_key_is_the_128_byte_g2_key(self, signer: Bn254ResultSigner) -> None:
        assert signer.public_key_g2.hex() == EXECUTOR_KEY["pubkey_g2_bytes_hex"]

    def test_repr_does_not_show_the_secret(self, signer: Bn254ResultSigner) -> None:
        assert EXECUTOR_KEY["sk_hex"][:16] not in repr(signer)

    async def test_failures_become_signing_errors(
        self, signer: Bn254ResultSigner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(sk: int, digest: bytes) -> bytes:
            raise ArithmeticError("boom")

        monkeypatch.setattr(bn254, "sign_solidity", broken)
        with pytest.raises(SigningError, match="boom") as caught:
            await signer.sign_result(b"output")
        assert isinstance(caught.value.__cause__, ArithmeticError)


def test_bn254_signer_refuses_a_zero_key() -> None:
    with pytest.raises(ValueError, match="zero"):
        Bn254ResultSigner(bytes(32))


# --- the fake ---------------------------------------------------------------------------------


class TestFakeResultSigner(ResultSignerContract):
    @pytest.fixture
    def signer(self) -> FakeResultSigner:
        return FakeResultSigner()


async def test_fake_records_what_it_signed() -> None:
    signer = FakeResultSigner()
    first = await signer.sign_result(b"one")
    await signer.sign_result(b"two")
    assert signer.signed == [b"one", b"two"]
    assert first == signer.expected_signature(b"one")


async def test_fake_key_tags_give_different_signatures() -> None:
    alice, bob = FakeResultSigner(b"alice"), FakeResultSigner(b"bob")
    assert await alice.sign_result(b"out") != await bob.sign_result(b"out")
    long_tag = FakeResultSigner(b"k" * 100)
    assert len(await long_tag.sign_result(b"out")) == 64


async def test_fake_fails_on_demand_without_recording() -> None:
    signer = FakeResultSigner(fail_with=SigningError("key unavailable"))
    with pytest.raises(SigningError, match="key unavailable"):
        await signer.sign_result(b"out")
    assert signer.signed == []
    signer.fail_with = None
    await signer.sign_result(b"out")
    assert signer.signed == [b"out"]
