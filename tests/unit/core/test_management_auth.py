"""Challenge tokens and the messages management clients sign (pure parts of the auth scheme)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.memory import FakeClock
from executor_adapters.signing.ecdsa.task_verifier import EcdsaTaskSignatureVerifier
from executor_adapters.signing.keccak import Keccak256Hasher, keccak256
from executor_core.addresses import Address
from executor_core.errors import InvalidChallenge, TooManyChallenges, Unauthenticated
from executor_core.events import EventHub, ManagementAuthRefused, ManagementCallAuthenticated
from executor_core.management_auth import (
    AuthProof,
    ChallengeTokens,
    ManagementAuthenticator,
    ManagementCall,
    ManagementKey,
)
from executor_core.management_messages import (
    BINDING_DOMAIN,
    bound_message,
    challenge_message,
    parse_challenge_token,
)
from executor_core.ports import KeyCurve

HASHER = Keccak256Hasher()
HEX = "0123456789abcdefABCDEF"


@given(st.text(alphabet=HEX, min_size=64, max_size=64))
def test_a_token_of_64_hex_digits_parses_to_lower_case(text: str) -> None:
    assert parse_challenge_token(text) == text.lower()


@given(st.text(max_size=80).filter(lambda t: not (len(t) == 64 and set(t) <= set(HEX))))
def test_anything_else_is_an_invalid_challenge(text: str) -> None:
    with pytest.raises(InvalidChallenge) as caught:
        parse_challenge_token(text)
    assert str(caught.value).startswith("invalid challenge token: challenge_token ")


def test_upstreams_message_is_keccak256_of_the_tokens_ascii() -> None:
    token = "ab" * 32
    assert challenge_message(HASHER, token) == keccak256(token.encode())


def test_the_bound_message_is_documented_byte_for_byte() -> None:
    token, digest = "cd" * 32, keccak256(b"body")
    expected = keccak256(
        b"hourglass-executor/management-call/v1\x00"
        + token.encode()
        + b"\x00RemovePerformer\x00"
        + digest
    )
    assert BINDING_DOMAIN == b"hourglass-executor/management-call/v1\x00"
    assert bound_message(HASHER, token, "RemovePerformer", digest) == expected


@given(
    st.sampled_from(["DeployArtifact", "ListPerformers", "RemovePerformer"]),
    st.sampled_from(["DeployArtifact", "ListPerformers", "RemovePerformer"]),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)
def test_bound_messages_differ_whenever_method_or_body_differs(
    method_a: str, method_b: str, body_a: bytes, body_b: bytes
) -> None:
    token = "ef" * 32
    same = (method_a, body_a) == (method_b, body_b)
    a = bound_message(HASHER, token, method_a, body_a)
    b = bound_message(HASHER, token, method_b, body_b)
    assert (a == b) is same


def counting_tokens(clock: FakeClock, max_outstanding: int = 1024) -> ChallengeTokens:
    counter = iter(range(10**6))
    return ChallengeTokens(
        clock, HASHER, max_outstanding=max_outstanding, new_token=lambda: f"{next(counter):064x}"
    )


def test_a_token_is_redeemed_once() -> None:
    tokens = counting_tokens(FakeClock())
    challenge = tokens.issue()
    tokens.redeem(challenge.token)
    with pytest.raises(InvalidChallenge):
        tokens.redeem(challenge.token)


def test_a_token_expires_at_the_end_of_its_lifetime_and_is_purged() -> None:
    clock = FakeClock()
    tokens = counting_tokens(clock)
    first = tokens.issue()
    clock.advance(299)
    second = tokens.issue()
    assert second.expires_at - first.expires_at == 299
    clock.advance(1)
    with pytest.raises(InvalidChallenge):
        tokens.redeem(first.token)
    assert len(tokens) == 1
    tokens.redeem(second.token)


def test_outstanding_tokens_are_bounded_until_the_oldest_expire() -> None:
    clock = FakeClock()
    tokens = counting_tokens(clock, max_outstanding=3)
    for _ in range(3):
        tokens.issue()
    with pytest.raises(TooManyChallenges):
        tokens.issue()
    clock.advance(300)
    tokens.issue()
    assert len(tokens) == 1


def test_issued_tokens_are_random_64_hex_digits() -> None:
    tokens = ChallengeTokens(FakeClock(), HASHER)
    issued = {tokens.issue().token for _ in range(50)}
    assert len(issued) == 50
    assert all(len(t) == 64 and set(t) <= set(string.hexdigits.lower()) for t in issued)


async def test_the_authenticator_names_the_key_that_signed_and_reports_refusals() -> None:
    from executor_adapters.signing.ecdsa.signer import EcdsaResultSigner

    signer = EcdsaResultSigner(bytes.fromhex("33" * 32))
    events = EventHub()
    seen: list[object] = []
    events.subscribe(seen.append)
    auth = ManagementAuthenticator(
        operator_address=Address("0x" + "11" * 20),
        keys=[ManagementKey(KeyCurve.ECDSA, bytes.fromhex(signer.address[2:]), "laptop")],
        verifiers={KeyCurve.ECDSA: EcdsaTaskSignatureVerifier()},
        hasher=HASHER,
        tokens=ChallengeTokens(FakeClock(), HASHER),
        events=events,
    )
    call = ManagementCall("ListPerformers", keccak256(b""))
    token = auth.challenge("0x" + "11" * 20).token
    message = bound_message(HASHER, token, call.method, call.body_digest)
    key = await auth.authenticate(AuthProof(token, await signer.sign_message(message)), call)
    with pytest.raises(Unauthenticated):
        await auth.authenticate(None, call)
    assert key.name == "laptop"
    assert seen == [
        ManagementCallAuthenticated("ListPerformers", "laptop", True),
        ManagementAuthRefused("ListPerformers", seen[1].reason),  # type: ignore[attr-defined]
    ]


def test_a_management_key_has_its_curves_size() -> None:
    with pytest.raises(ValueError, match="20 bytes"):
        ManagementKey(KeyCurve.ECDSA, b"\x01" * 21, "x")
    with pytest.raises(ValueError, match="128 bytes"):
        ManagementKey(KeyCurve.BN254, b"\x01" * 64, "x")
