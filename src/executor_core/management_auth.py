"""Challenge authentication of management calls: who may deploy, list and remove performers.

The flow is upstream's (reference §1.6), so its clients work unchanged: GetChallengeToken
issues a single-use token for the operator; the client signs it (`management_messages`) and
sends token and signature with the call. Three things differ:

- the signature is checked by *verifying* it against public keys, so a client needs no copy of
  the operator's private key, and keys other than the operator's may be authorised;
- a client may bind the signature to the method and request (`bound_message`); the executor
  can require it;
- tokens are kept by their digest and compared in constant time, so the time a lookup takes
  tells nothing about the tokens outstanding.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import attrs

from executor_core.addresses import Address
from executor_core.errors import (
    InvalidArgument,
    InvalidChallenge,
    ManagementRefused,
    TooManyChallenges,
    Unauthenticated,
)
from executor_core.events import EventHub, ManagementAuthRefused, ManagementCallAuthenticated
from executor_core.management_messages import (
    bound_message,
    challenge_message,
    parse_challenge_token,
)
from executor_core.ports import Clock, Hasher, KeyCurve, SignedMessage, TaskSignatureVerifier

__all__ = [
    "CHALLENGE_LIFETIME",
    "MAX_OUTSTANDING_CHALLENGES",
    "AuthProof",
    "Challenge",
    "ChallengeTokens",
    "ManagementAuthenticator",
    "ManagementCall",
    "ManagementKey",
]

CHALLENGE_LIFETIME = 300.0
"""Seconds a token may be redeemed after it is issued (upstream's 5 minutes)."""
MAX_OUTSTANDING_CHALLENGES = 1024
"""Tokens are handed to anyone who asks; this bounds what unredeemed ones can cost."""

_KEY_SIZES = {KeyCurve.ECDSA: 20, KeyCurve.BN254: 128}


def _key_size(instance: ManagementKey, _: attrs.Attribute[bytes], value: bytes) -> None:
    size = _KEY_SIZES.get(instance.curve)
    if size is None:
        raise ValueError("a management key is ECDSA or BN254")
    if not isinstance(value, bytes) or len(value) != size:
        raise ValueError(f"a {instance.curve.name} management key is {size} bytes")


@attrs.frozen
class ManagementKey:
    """A public key whose signatures authorise management calls: an ECDSA key by its 20-byte
    address, a BN254 key by its 128-byte G2 point (`X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`)."""

    curve: KeyCurve
    public_key: bytes = attrs.field(validator=_key_size)
    name: str = attrs.field(validator=attrs.validators.min_len(1))
    """How logs name it: `operator`, `management.authorizedKeys[1]`."""


@attrs.frozen
class Challenge:
    """An issued token and when it stops being accepted (Unix seconds, as on the wire)."""

    token: str = attrs.field(repr=False)
    expires_at: int


@attrs.frozen
class AuthProof:
    """What a management request carries in its `auth` field."""

    challenge_token: str = attrs.field(repr=False)
    signature: bytes = attrs.field(repr=False)


@attrs.frozen
class ManagementCall:
    """The call being authenticated: its short method name and keccak256 of its request body
    without the `auth` field (what a bound signature covers)."""

    method: str
    body_digest: bytes = attrs.field(validator=attrs.validators.min_len(32))


def _random_token() -> str:
    return secrets.token_hex(32)


class ChallengeTokens:
    """Tokens issued and not yet redeemed; each one is accepted once, within its lifetime.

    Expired tokens are dropped whenever a token is issued or redeemed, so no background task is
    needed and none is left behind at shutdown. Lifetimes are on the wall clock, which is what
    `expires_at` promises the client.
    """

    def __init__(
        self,
        clock: Clock,
        hasher: Hasher,
        *,
        lifetime: float = CHALLENGE_LIFETIME,
        max_outstanding: int = MAX_OUTSTANDING_CHALLENGES,
        new_token: Callable[[], str] = _random_token,
    ) -> None:
        self._clock = clock
        self._hasher = hasher
        self._lifetime = lifetime
        self._max_outstanding = max_outstanding
        self._new_token = new_token
        self._issued: OrderedDict[bytes, tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._issued)

    def issue(self) -> Challenge:
        """A new token; TooManyChallenges while the outstanding ones are at the bound."""
        now = self._now()
        self._purge(now)
        if len(self._issued) >= self._max_outstanding:
            raise TooManyChallenges(
                f"{len(self._issued)} challenge tokens are outstanding; "
                f"retry within {self._lifetime:.0f} s, when the oldest expire"
            )
        token = parse_challenge_token(self._new_token())
        expires = now + self._lifetime
        self._issued[self._digest(token)] = (token, expires)
        return Challenge(token=token, expires_at=int(expires))

    def redeem(self, token: str) -> None:
        """Accept the token once: InvalidChallenge if it is malformed, unknown, used or expired."""
        token = parse_challenge_token(token)
        now = self._now()
        self._purge(now)
        entry = self._issued.pop(self._digest(token), None)
        if entry is None or not hmac.compare_digest(entry[0], token):
            raise InvalidChallenge("not issued by this executor, already used, or expired")
        if entry[1] <= now:
            raise InvalidChallenge("expired")

    def _digest(self, token: str) -> bytes:
        return self._hasher.keccak256(token.encode("ascii"))

    def _now(self) -> float:
        return _unix(self._clock.now())

    def _purge(self, now: float) -> None:
        while self._issued:
            digest, (_, expires) = next(iter(self._issued.items()))
            if expires > now:
                return
            del self._issued[digest]


def _unix(moment: datetime) -> float:
    return moment.timestamp()


class ManagementAuthenticator:
    """Issues challenges for the operator and checks the signatures management calls carry."""

    def __init__(
        self,
        *,
        operator_address: Address,
        keys: Sequence[ManagementKey],
        verifiers: Mapping[KeyCurve, TaskSignatureVerifier],
        hasher: Hasher,
        tokens: ChallengeTokens,
        events: EventHub,
        require_binding: bool = False,
    ) -> None:
        if not keys:
            raise ValueError("management authentication needs at least one key")
        missing = {key.curve for key in keys} - verifiers.keys()
        if missing:
            raise ValueError(f"no verifier for {', '.join(sorted(c.name for c in missing))} keys")
        self._operator = operator_address
        self._keys = tuple(keys)
        self._verifiers = dict(verifiers)
        self._hasher = hasher
        self._tokens = tokens
        self._events = events
        self._require_binding = require_binding

    @property
    def keys(self) -> tuple[ManagementKey, ...]:
        return self._keys

    def challenge(self, operator_address: str) -> Challenge:
        """A token for the operator this executor runs for (any letter case)."""
        if not operator_address:
            raise InvalidArgument("operator_address", "is required")
        try:
            asked = Address.parse(operator_address)
        except ValueError as exc:
            raise InvalidArgument("operator_address", str(exc)) from None
        if asked != self._operator:
            raise ManagementRefused(
                f"operator_address: {asked} is not the operator this executor runs for"
            )
        return self._tokens.issue()

    async def authenticate(self, proof: AuthProof | None, call: ManagementCall) -> ManagementKey:
        """The key that signed the call; Unauthenticated (or InvalidChallenge) otherwise.

        The token is spent before the signature is checked, so each token buys one guess.
        """
        try:
            return await self._authenticate(proof, call)
        except Unauthenticated as exc:
            self._events.emit(ManagementAuthRefused(call.method, str(exc)))
            raise

    async def _authenticate(self, proof: AuthProof | None, call: ManagementCall) -> ManagementKey:
        if proof is None:
            raise Unauthenticated(
                "missing authentication: get a token with GetChallengeToken and send it, "
                "signed, in the request's auth field"
            )
        token = parse_challenge_token(proof.challenge_token)
        self._tokens.redeem(token)
        if not proof.signature:
            raise Unauthenticated("invalid signature: auth.signature is empty")
        messages = [bound_message(self._hasher, token, call.method, call.body_digest)]
        if not self._require_binding:
            messages.append(challenge_message(self._hasher, token))
        # SignMessage signs keccak256 of what it is given; the verifiers take that digest.
        items = [SignedMessage(self._hasher.keccak256(m), proof.signature) for m in messages]
        for key in self._keys:
            verdicts = await self._verifiers[key.curve].verify_batch([key.public_key], items)
            for bound, verified in zip((True, False), verdicts, strict=False):
                if verified:
                    self._events.emit(ManagementCallAuthenticated(call.method, key.name, bound))
                    return key
        if self._require_binding:
            raise Unauthenticated(
                "invalid signature: this executor requires signatures bound to the method "
                "and request (management.requireRequestBinding)"
            )
        raise Unauthenticated("invalid signature")
