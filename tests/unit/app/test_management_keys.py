"""Which keys may sign management calls: upstream's choice of operator key, then the config's."""

from __future__ import annotations

from typing import Any

import pytest

from executor_adapters.config import SigningCurve
from executor_adapters.memory import FakeClock
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_adapters.signing.ecdsa.signer import EcdsaResultSigner
from executor_app.management_keys import management_authenticator, management_keys
from executor_app.signers import StartupError, load_signers
from executor_core.events import EventHub
from executor_core.ports import KeyCurve
from tests.unit.config.samples import load, minimal

ECDSA_SECRET = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")


def with_auth(document: dict[str, Any], **management: Any) -> dict[str, Any]:
    return document | {"authentication": {"enabled": True}, "management": management}


async def test_the_bn254_operator_key_signs_when_there_is_no_ecdsa_key() -> None:
    config = load(with_auth(minimal()))
    signers = await load_signers(config)
    [key] = management_keys(config, signers)
    bn254 = signers[SigningCurve.BN254]
    assert isinstance(bn254, Bn254ResultSigner)
    assert (key.curve, key.public_key, key.name) == (
        KeyCurve.BN254,
        bn254.public_key_g2,
        "operator",
    )


async def test_the_ecdsa_operator_key_signs_when_there_is_one_and_authorised_keys_follow() -> None:
    document = with_auth(
        minimal(),
        authorizedKeys=[{"ecdsaAddress": "0x" + "ab" * 20}, {"bn254PublicKey": "cd" * 128}],
    )
    document["operator"]["signingKeys"]["ecdsa"] = {"privateKey": ECDSA_SECRET.hex()}
    config = load(document)
    signers = await load_signers(config)
    keys = management_keys(config, signers)
    operator = EcdsaResultSigner(ECDSA_SECRET)
    assert [(k.curve, k.public_key, k.name) for k in keys] == [
        (KeyCurve.ECDSA, bytes.fromhex(operator.address[2:]), "operator"),
        (KeyCurve.ECDSA, b"\xab" * 20, "management.authorizedKeys[0]"),
        (KeyCurve.BN254, b"\xcd" * 128, "management.authorizedKeys[1]"),
    ]


def test_without_authentication_there_is_no_authenticator() -> None:
    config = load(minimal())
    assert management_authenticator(config, {}, clock=FakeClock(), events=EventHub()) is None


def test_an_operator_key_that_was_not_loaded_is_a_startup_error() -> None:
    config = load(with_auth(minimal()))
    with pytest.raises(StartupError, match="bn254 key signs management calls"):
        management_authenticator(config, {}, clock=FakeClock(), events=EventHub())
