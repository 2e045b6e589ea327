"""Which keys may sign management calls, from the config and the operator's loaded signers."""

from __future__ import annotations

from collections.abc import Mapping

from executor_adapters.config import ExecutorConfig, SigningCurve
from executor_adapters.signing.bn254.task_verifier import Bn254TaskSignatureVerifier
from executor_adapters.signing.ecdsa.task_verifier import EcdsaTaskSignatureVerifier
from executor_adapters.signing.keccak import Keccak256Hasher
from executor_app.signers import StartupError, management_curve
from executor_core.events import EventHub
from executor_core.management_auth import (
    ChallengeTokens,
    ManagementAuthenticator,
    ManagementKey,
)
from executor_core.ports import Clock, KeyCurve, ResultSigner

__all__ = ["management_authenticator", "management_keys"]


def management_keys(
    config: ExecutorConfig, signers: Mapping[SigningCurve, ResultSigner]
) -> list[ManagementKey]:
    """The operator's key (as upstream picks it) followed by `management.authorizedKeys`."""
    found: list[ManagementKey] = []
    curve = management_curve(config)
    if curve is not None:
        signer = signers.get(curve)
        if signer is None:
            raise StartupError(
                f"authentication.enabled: the operator's {curve.value} key signs management "
                "calls, but it was not loaded"
            )
        found.append(_operator_key(curve, signer))
    for index, key in enumerate(config.management.authorized_keys):
        name = key.name or f"management.authorizedKeys[{index}]"
        if key.ecdsa_address is not None:
            found.append(
                ManagementKey(KeyCurve.ECDSA, bytes.fromhex(key.ecdsa_address.value[2:]), name)
            )
        elif key.bn254_public_key is not None:
            found.append(ManagementKey(KeyCurve.BN254, key.bn254_public_key, name))
    return found


def _operator_key(curve: SigningCurve, signer: ResultSigner) -> ManagementKey:
    if curve is SigningCurve.ECDSA:
        address = getattr(signer, "address", None)
        if not isinstance(address, str):
            raise StartupError("authentication.enabled: the ECDSA signer has no address")
        return ManagementKey(KeyCurve.ECDSA, bytes.fromhex(address[2:]), "operator")
    public_key = getattr(signer, "public_key_g2", None)
    if not isinstance(public_key, bytes):
        raise StartupError("authentication.enabled: the BN254 signer has no G2 public key")
    return ManagementKey(KeyCurve.BN254, public_key, "operator")


def management_authenticator(
    config: ExecutorConfig,
    signers: Mapping[SigningCurve, ResultSigner],
    *,
    clock: Clock,
    events: EventHub,
) -> ManagementAuthenticator | None:
    """The authenticator of management calls when `authentication.enabled`, else None."""
    if not config.authentication_enabled:
        return None
    keys = management_keys(config, signers)
    if not keys:
        raise StartupError(
            "authentication.enabled: no key can sign management calls (the BLS key is not a "
            "BN254 one and there is no ECDSA key); list management.authorizedKeys"
        )
    hasher = Keccak256Hasher()
    return ManagementAuthenticator(
        operator_address=config.operator.address,
        keys=keys,
        verifiers={
            KeyCurve.ECDSA: EcdsaTaskSignatureVerifier(),
            KeyCurve.BN254: Bn254TaskSignatureVerifier(),
        },
        hasher=hasher,
        tokens=ChallengeTokens(clock, hasher),
        events=events,
        require_binding=config.management.require_request_binding,
    )
