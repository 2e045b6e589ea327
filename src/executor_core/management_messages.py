"""What a management client signs to authenticate one call, byte for byte.

Upstream's scheme (reference §1.6): the client asks GetChallengeToken for a token `t` (64
lower-case hex digits), computes `m = keccak256(ascii(t))` and sends `SignMessage(m)`, which
signs `keccak256(m)`. Nothing ties the signature to the call, so whoever captures a token and
its signature in flight can spend them on another call.

The bound form (our own client's, opt-in) also covers the method and the request:

    m = keccak256(BINDING_DOMAIN ‖ ascii(t) ‖ 0x00 ‖ ascii(method) ‖ 0x00 ‖ body_digest)

where `method` is the short RPC name (`DeployArtifact`, `ListPerformers`, `RemovePerformer`)
and `body_digest` is keccak256 of the request's protobuf bytes with every record of its `auth`
field removed, the other records kept as sent. The signature is still `SignMessage(m)`.
"""

from __future__ import annotations

import re

from executor_core.errors import InvalidChallenge
from executor_core.ports import Hasher

__all__ = [
    "BINDING_DOMAIN",
    "CHALLENGE_TOKEN_LENGTH",
    "MANAGED_METHODS",
    "bound_message",
    "challenge_message",
    "parse_challenge_token",
]

BINDING_DOMAIN = b"hourglass-executor/management-call/v1\x00"
"""Sets bound messages apart from anything else an operator key signs."""
CHALLENGE_TOKEN_LENGTH = 64
MANAGED_METHODS = frozenset({"DeployArtifact", "ListPerformers", "RemovePerformer"})
_TOKEN = re.compile(r"[0-9a-fA-F]{64}")


def parse_challenge_token(text: str) -> str:
    """The token as the executor issued it (lower-case hex); raise InvalidChallenge otherwise."""
    if not isinstance(text, str) or not text:
        raise InvalidChallenge("challenge_token is missing")
    if not _TOKEN.fullmatch(text):
        raise InvalidChallenge(
            f"challenge_token must be {CHALLENGE_TOKEN_LENGTH} hex digits, "
            f"got {len(text)} characters"
        )
    return text.lower()


def challenge_message(hasher: Hasher, token: str) -> bytes:
    """Upstream's `m`: what the client passes to `SignMessage` for a token."""
    return hasher.keccak256(token.encode("ascii"))


def bound_message(hasher: Hasher, token: str, method: str, body_digest: bytes) -> bytes:
    """The bound `m`: a token spent on `method` with a request whose body hashes to
    `body_digest`; a signature of it verifies for no other call."""
    if method not in MANAGED_METHODS:
        raise ValueError(f"not a management method: {method!r}")
    if len(body_digest) != 32:
        raise ValueError("body_digest must be 32 bytes")
    return hasher.keccak256(
        BINDING_DOMAIN
        + token.encode("ascii")
        + b"\x00"
        + method.encode("ascii")
        + b"\x00"
        + body_digest
    )
