"""The operator's result signers, one per curve, decrypted once at start.

Each configured AVS signs on its `signingCurve`; an AVS that DeployArtifact adds without
config signs on BN254, as every first-generation aggregator expects. A curve with no key
configured is a `StartupError` naming the key it needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from executor_adapters.config import BlsKeyConfig, ExecutorConfig, SigningCurve
from executor_adapters.keystores import KeystoreError, inspect_keystore, load_keystore_async
from executor_adapters.keystores.loader import Curve
from executor_adapters.signing import Bls381ResultSigner, Bn254ResultSigner, EcdsaResultSigner
from executor_core.errors import ExecutorError
from executor_core.ports import ResultSigner

__all__ = [
    "NEW_AVS_CURVE",
    "Signers",
    "StartupError",
    "load_signers",
    "signer_for",
    "signer_from_keystore",
]

log = logging.getLogger("executor_app")

NEW_AVS_CURVE = SigningCurve.BN254
"""What an AVS that the config does not name signs on: first-generation results are BN254."""

Signers = Mapping[SigningCurve, ResultSigner]

_MAKERS: dict[SigningCurve, Callable[[bytes], ResultSigner]] = {
    SigningCurve.BN254: Bn254ResultSigner,
    SigningCurve.BLS381: Bls381ResultSigner,
    SigningCurve.ECDSA: EcdsaResultSigner,
}
_KEY_NAMES = {
    SigningCurve.BN254: "operator.signingKeys.bls (a bn254 keystore)",
    SigningCurve.BLS381: "operator.signingKeys.bls381 (or a bls381 keystore in .bls)",
    SigningCurve.ECDSA: "operator.signingKeys.ecdsa",
}


class StartupError(ExecutorError):
    """The executor cannot start with this configuration."""


async def signer_from_keystore(
    text: str, password: str, *, source: str, curve: SigningCurve
) -> ResultSigner:
    """Decrypt a keystore (in a thread: scrypt takes about a second) into the curve's signer."""
    expected: Curve = curve.value
    loaded = await load_keystore_async(text, password, source=source, expected_curve=expected)
    try:
        return _MAKERS[curve](loaded.secret)
    except ValueError as exc:  # a zero key, which would sign everything as the identity
        raise KeystoreError(source, str(exc)) from exc


def _bls_block(config: ExecutorConfig, curve: SigningCurve) -> BlsKeyConfig | None:
    keys = config.operator.signing_keys
    if curve is SigningCurve.BLS381 and keys.bls381 is not None:
        return keys.bls381
    return keys.bls


def _holds(block: BlsKeyConfig | None, curve: SigningCurve) -> bool:
    """Whether the keystore says it is of `curve` (or does not say): worth decrypting for it."""
    if block is None:
        return False
    try:
        stored = inspect_keystore(block.keystore, source=block.source).curve
    except KeystoreError:
        return False
    return stored in (None, curve.value)


def management_curve(config: ExecutorConfig) -> SigningCurve | None:
    """The operator key upstream's management clients sign with: ECDSA if configured, else
    the BLS key when it is a BN254 one; None when there is neither."""
    if config.operator.signing_keys.ecdsa is not None:
        return SigningCurve.ECDSA
    if _holds(_bls_block(config, SigningCurve.BN254), SigningCurve.BN254):
        return SigningCurve.BN254
    return None


async def _load(config: ExecutorConfig, curve: SigningCurve) -> ResultSigner | None:
    if curve is SigningCurve.ECDSA:
        key = config.operator.signing_keys.ecdsa
        if key is None:
            return None
        if key.private_key:
            log.warning("the ECDSA key is a plain private key in the config: for development only")
            return EcdsaResultSigner(bytes.fromhex(key.private_key))
        return await signer_from_keystore(
            key.keystore, key.password, source=key.source, curve=curve
        )
    block = _bls_block(config, curve)
    if block is None:
        return None
    return await signer_from_keystore(
        block.keystore, block.password, source=block.source, curve=curve
    )


async def load_signers(config: ExecutorConfig) -> dict[SigningCurve, ResultSigner]:
    """Decrypt, in parallel, the key of every curve a configured AVS signs on, the BN254
    key for AVSs that DeployArtifact adds when the config has one, and with `l1Chain` the
    ECDSA key too (the chain, not the config, says which curve a G2 task signs on)."""
    needed = {entry.signing_curve for entry in config.avs_performers}
    if NEW_AVS_CURVE not in needed and _holds(_bls_block(config, NEW_AVS_CURVE), NEW_AVS_CURVE):
        needed.add(NEW_AVS_CURVE)
    if config.l1_chain is not None and config.operator.signing_keys.ecdsa is not None:
        needed.add(SigningCurve.ECDSA)  # second-generation operator sets may sign with ECDSA
    auth = management_curve(config) if config.authentication_enabled else None
    if auth is not None:
        needed.add(auth)
    curves = sorted(needed, key=lambda c: c.value)
    loaded = await asyncio.gather(*(_load(config, curve) for curve in curves))
    signers = {c: s for c, s in zip(curves, loaded, strict=True) if s is not None}
    for entry in config.avs_performers:
        signer_for(signers, entry.signing_curve, f"AVS {entry.avs_address}")
    return signers


def _needs(curve: SigningCurve) -> str:
    return f"it needs {_KEY_NAMES[curve]}, and none is configured"


def signer_for(signers: Signers, curve: SigningCurve, who: str) -> ResultSigner:
    """The signer of `curve`, or a StartupError saying which key `who` needs."""
    signer = signers.get(curve)
    if signer is None:
        raise StartupError(f"{who} signs on {curve}: {_needs(curve)}")
    return signer
