"""The `ResultSigner` contract for the BLS12-381 and ECDSA signers.

Both apply the first-generation rule, a signature over `keccak256(output)`, on their own curve:
BLS12-381 gives 96 raw G1 bytes, ECDSA 65 bytes `r ‖ s ‖ v`. Beyond the shared contract each
class checks its signatures against the shared vectors and an independent verification.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from py_arkworks_bls12381 import Scalar

from executor_adapters.signing.bls381 import curve as bls381
from executor_adapters.signing.bls381.signer import Bls381ResultSigner
from executor_adapters.signing.ecdsa import curve as ecdsa
from executor_adapters.signing.ecdsa.signer import EcdsaResultSigner
from executor_adapters.signing.keccak import keccak256
from executor_core.errors import SigningError
from executor_core.ports import ResultSigner
from tests.contract.test_result_signer_contract import ResultSignerContract
from tests.vectors import load_vector

BLS = load_vector("bls381.json")
BLS_KEY = next(k for k in BLS["keys"]["cases"] if k["name"] == "eip2335-test-secret")
ECDSA = load_vector("ecdsa_secp256k1.json")
ECDSA_KEY = ECDSA["upstream_key_address_vectors"]["cases"][0]
HELLO_WORLD = b"hello world"  # keccak256 = 47173285…, a message of both vector files


# --- BLS12-381 --------------------------------------------------------------------------------


class TestBls381ResultSigner(ResultSignerContract):
    signature_length = 96

    @pytest.fixture
    def signer(self) -> Bls381ResultSigner:
        return Bls381ResultSigner(bytes.fromhex(BLS_KEY["sk_hex"]))

    async def test_signs_keccak256_of_the_output_like_the_vectors(
        self, signer: Bls381ResultSigner
    ) -> None:
        digest = keccak256(HELLO_WORLD).hex()
        case = next(
            c
            for c in BLS["signatures"]["cases"]
            if c["key"] == BLS_KEY["name"] and c["message_hex"] == digest
        )
        signature = await signer.sign_result(HELLO_WORLD)
        assert signature.hex() == case["signature_gnark_uncompressed_hex"]

    async def test_signature_verifies_under_the_public_key(
        self, signer: Bls381ResultSigner
    ) -> None:
        output = b"result of task 0x01"
        signature = await signer.sign_result(output)
        assert signer.public_key_g2.hex() == BLS_KEY["pubkey_g2_gnark_uncompressed_hex"]
        assert bls381.verify(signer.public_key_g2, keccak256(output), signature)
        assert not bls381.verify(signer.public_key_g2, output, signature)

    async def test_signs_off_the_event_loop(
        self, signer: Bls381ResultSigner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        threads: list[int] = []
        original = bls381.sign_with_scalar

        def recording(scalar: Scalar, msg: bytes, dst: bytes = bls381.DST) -> bytes:
            threads.append(threading.get_ident())
            return original(scalar, msg, dst)

        monkeypatch.setattr(bls381, "sign_with_scalar", recording)
        await signer.sign_result(b"output")
        assert threads
        assert threads[0] != threading.get_ident()

    def test_repr_does_not_show_the_secret(self, signer: Bls381ResultSigner) -> None:
        assert BLS_KEY["sk_hex"][-16:] not in repr(signer)

    async def test_failures_become_signing_errors(
        self, signer: Bls381ResultSigner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(scalar: object, msg: bytes, dst: bytes = b"") -> bytes:
            raise ArithmeticError("boom")

        monkeypatch.setattr(bls381, "sign_with_scalar", broken)
        with pytest.raises(SigningError, match="boom") as caught:
            await signer.sign_result(b"output")
        assert isinstance(caught.value.__cause__, ArithmeticError)


@pytest.mark.parametrize("secret", [bytes(32), bls381.CURVE_ORDER.to_bytes(32, "big")])
def test_bls381_signer_refuses_a_zero_key(secret: bytes) -> None:
    with pytest.raises(ValueError, match="zero"):
        Bls381ResultSigner(secret)


# --- ECDSA ------------------------------------------------------------------------------------


class TestEcdsaResultSigner(ResultSignerContract):
    signature_length = 65

    @pytest.fixture
    def signer(self) -> EcdsaResultSigner:
        return EcdsaResultSigner(bytes.fromhex(ECDSA_KEY["priv_hex"]))

    async def test_signs_keccak256_of_the_output_like_the_vectors(
        self, signer: EcdsaResultSigner
    ) -> None:
        cases = [c for c in ECDSA["signatures"]["cases"] if c["priv_hex"] == ECDSA_KEY["priv_hex"]]
        assert cases
        for case in cases:
            signature = await signer.sign_result(bytes.fromhex(case["message_hex"]))
            assert signature.hex() == case["signature_rsv_hex"]

    async def test_signature_recovers_the_signer_address(self, signer: EcdsaResultSigner) -> None:
        output = b"result of task 0x01"
        signature = await signer.sign_result(output)
        assert signer.address == ECDSA_KEY["upstream_address"].lower()
        assert ecdsa.recover_address(keccak256(output), signature) == signer.address
        assert signature[64] in (27, 28)
        assert ecdsa.is_low_s(signature)
        assert signer.public_key == ecdsa.public_key(bytes.fromhex(ECDSA_KEY["priv_hex"]))

    async def test_signs_on_the_loop_without_yielding(self, signer: EcdsaResultSigner) -> None:
        # 0.02 ms of native code: cheaper than a hop to a worker thread
        task = asyncio.ensure_future(signer.sign_result(b"output"))
        await asyncio.sleep(0)
        assert task.done()

    def test_repr_shows_the_address_not_the_secret(self, signer: EcdsaResultSigner) -> None:
        assert ECDSA_KEY["priv_hex"][:16] not in repr(signer)
        assert signer.address in repr(signer)

    async def test_failures_become_signing_errors(
        self, signer: EcdsaResultSigner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(secret: object, hash32: bytes) -> bytes:
            raise ArithmeticError("boom")

        monkeypatch.setattr(ecdsa, "sign_hash", broken)
        with pytest.raises(SigningError, match="boom") as caught:
            await signer.sign_result(b"output")
        assert isinstance(caught.value.__cause__, ArithmeticError)


@pytest.mark.parametrize("secret", [bytes(32), ecdsa.CURVE_ORDER.to_bytes(32, "big")])
def test_ecdsa_signer_refuses_a_key_out_of_range(secret: bytes) -> None:
    with pytest.raises(ValueError, match=r"\[1, n-1\]"):
        EcdsaResultSigner(secret)


def test_both_signers_satisfy_the_port() -> None:
    signers: list[ResultSigner] = [
        Bls381ResultSigner(b"\x01"),
        EcdsaResultSigner(b"\x01"),
    ]
    assert all(callable(s.sign_result) for s in signers)
