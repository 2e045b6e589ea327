"""BN254 on gnark-crypto: the native backend of signing and of aggregator-signature checks.

`native/bn254` (Go, built by `scripts/build-native.sh` into this folder as
`libexecutor_bn254.so`) wraps gnark-crypto, the library that crypto-libs and the Hourglass
aggregator themselves use, behind a few C functions. They are called through ctypes, which
releases the GIL for the whole call, so a pairing in a worker thread runs beside the event loop
on another core instead of taking turns with it.

Same bytes in and out as `executor_adapters.signing.bn254.fast` (signing.md §1.4): secrets are
big-endian bytes, G1 points 64 bytes, G2 points 128 bytes. `load()` returns None when the
library is not built (or `EXECUTOR_BN254_BACKEND=python` asks for the pure-Python backend),
and callers fall back to `fast_bn254`.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import os
import secrets
import weakref
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

__all__ = ["LIBRARY_ENV", "LIBRARY_NAME", "NativeBn254", "load"]

LIBRARY_NAME = "libexecutor_bn254.so"
LIBRARY_ENV = "EXECUTOR_BN254_LIBRARY"
BACKEND_ENV = "EXECUTOR_BN254_BACKEND"
WEIGHT_BYTES = 16
"""Random weights of 128 bits: a batch with a bad signature passes with probability ~2⁻¹²⁸."""

_OK, _BAD_KEY, _BAD_INPUT, _HASH_FAILED = 0, 1, 2, 3
_G1 = 64
_G2 = 128
_u8p = ctypes.c_char_p
_size = ctypes.c_size_t


class NativeBn254:
    """The loaded library; every method is safe to call from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        lib = ctypes.CDLL(str(path))
        self._keccak = lib.executor_keccak256
        self._keccak.argtypes = [_u8p, _size, _u8p]
        self._keccak.restype = None
        self._verify_batch = lib.executor_bn254_verify_batch
        self._verify_batch.argtypes = [
            _u8p,
            _size,
            _u8p,
            _size,
            ctypes.POINTER(ctypes.c_uint64),
            _u8p,
            _u8p,
            _u8p,
            _size,
            _u8p,
        ]
        self._verify_batch_async = lib.executor_bn254_verify_batch_async
        self._verify_batch_async.argtypes = [
            *self._verify_batch.argtypes,
            ctypes.c_int,
            ctypes.c_uint64,
        ]
        self._verify_solidity = lib.executor_bn254_verify_solidity
        self._verify_solidity.argtypes = [_u8p, _u8p, _u8p, _u8p]
        self._sign = lib.executor_bn254_sign
        self._sign.argtypes = [_u8p, _size, _u8p, _size, _u8p, _size, _u8p]
        self._sign_solidity = lib.executor_bn254_sign_solidity
        self._sign_solidity.argtypes = [_u8p, _size, _u8p, _u8p]
        self._hash = lib.executor_bn254_hash_to_g1
        self._hash.argtypes = [_u8p, _size, _u8p, _size, _u8p]
        self._solidity_hash = lib.executor_bn254_solidity_hash_to_g1
        self._solidity_hash.argtypes = [_u8p, _u8p]
        for function in (
            self._verify_batch,
            self._verify_batch_async,
            self._verify_solidity,
            self._sign,
            self._sign_solidity,
            self._hash,
            self._solidity_hash,
        ):
            function.restype = ctypes.c_int
        self._notifiers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Notifier] = (
            weakref.WeakKeyDictionary()
        )

    def verify_batch(
        self,
        public_key_g2: bytes,
        messages: Sequence[bytes],
        signatures: Sequence[bytes],
        dst: bytes,
    ) -> list[bool]:
        """Whether each signature signs its message (RFC 9380 hash with `dst`) under the key.

        One multi-pairing checks the whole batch under fresh random weights; when it fails, the
        library finds the bad signatures, so every verdict is that of the single check. A
        malformed or identity key makes every verdict False.
        """
        call = _BatchCall.of(public_key_g2, messages, signatures, dst)
        if call is None:
            return [False] * len(messages)
        return call.verdicts_for(self._verify_batch(*call.arguments))

    async def verify_batch_async(
        self,
        public_key_g2: bytes,
        messages: Sequence[bytes],
        signatures: Sequence[bytes],
        dst: bytes,
    ) -> list[bool]:
        """`verify_batch` without blocking the loop or occupying a thread.

        The library computes on its own threads and says so through a pipe the running loop
        watches, so the only Python code that runs is the call that starts it and the
        callback that reads the verdicts, both on the loop.
        """
        call = _BatchCall.of(public_key_g2, messages, signatures, dst)
        if call is None:
            return [False] * len(messages)
        notifier = self._notifier()
        token, done = notifier.expect(call.verdicts)
        _check(self._verify_batch_async(*call.arguments, notifier.write_fd, token))
        return call.verdicts_for(await done)

    def _notifier(self) -> _Notifier:
        loop = asyncio.get_running_loop()
        notifier = self._notifiers.get(loop)
        if notifier is None:
            notifier = self._notifiers[loop] = _Notifier(loop)
        return notifier

    def verify(self, public_key_g2: bytes, message: bytes, signature: bytes, dst: bytes) -> bool:
        """crypto-libs `Verify`: one signature, RFC 9380 hash."""
        return self.verify_batch(public_key_g2, [message], [signature], dst)[0]

    def verify_solidity(self, public_key_g2: bytes, digest32: bytes, signature: bytes) -> bool:
        """crypto-libs `VerifySolidityCompatible`, the check of `sign_solidity` signatures."""
        if len(public_key_g2) != _G2 or len(digest32) != 32 or len(signature) != _G1:
            return False
        verdict = ctypes.create_string_buffer(1)
        status = self._verify_solidity(public_key_g2, digest32, signature, verdict)
        return status == _OK and verdict.raw != b"\x00"

    def keccak256(self, data: bytes) -> bytes:
        """Ethereum's Keccak-256 (x/crypto's legacy Keccak), 32 bytes."""
        out = ctypes.create_string_buffer(32)
        self._keccak(data, len(data), out)
        return out.raw

    def sign(self, secret: bytes, message: bytes, dst: bytes) -> bytes:
        """crypto-libs `Sign`: secret·HashToG1(message, dst), 64 bytes."""
        out = ctypes.create_string_buffer(_G1)
        _check(self._sign(secret, len(secret), message, len(message), dst, len(dst), out))
        return out.raw

    def sign_solidity(self, secret: bytes, digest32: bytes) -> bytes:
        """crypto-libs `SignSolidityCompatible`: secret·hashToG1(digest) (Solidity), 64 bytes."""
        if len(digest32) != 32:
            raise ValueError(f"the digest must be 32 bytes, got {len(digest32)}")
        out = ctypes.create_string_buffer(_G1)
        _check(self._sign_solidity(secret, len(secret), digest32, out))
        return out.raw

    def hash_to_g1(self, message: bytes, dst: bytes) -> bytes:
        """gnark's `HashToG1` (RFC 9380, SVDW), 64 bytes."""
        out = ctypes.create_string_buffer(_G1)
        _check(self._hash(message, len(message), dst, len(dst), out))
        return out.raw

    def solidity_hash_to_g1(self, digest32: bytes) -> bytes:
        """`BN254.hashToG1(bytes32)`, 64 bytes."""
        if len(digest32) != 32:
            raise ValueError(f"the digest must be 32 bytes, got {len(digest32)}")
        out = ctypes.create_string_buffer(_G1)
        _check(self._solidity_hash(digest32, out))
        return out.raw


def _check(status: int) -> None:
    if status == _HASH_FAILED:
        raise ValueError("hashing to G1 failed (the DST is longer than 255 bytes)")
    if status != _OK:
        raise ValueError(f"the native BN254 library refused the input (status {status})")


class _BatchCall:
    """The arguments of one verify_batch call, packed once, and how its verdicts are read."""

    def __init__(
        self,
        public_key_g2: bytes,
        messages: Sequence[bytes],
        signatures: Sequence[bytes],
        dst: bytes,
    ) -> None:
        count = len(messages)
        joined, offsets, packed = _pack(messages, signatures)
        self.verdicts = ctypes.create_string_buffer(count)
        self.arguments: tuple[object, ...] = (
            public_key_g2,
            count,
            joined,
            len(joined),
            offsets,
            packed,
            _weights(count),
            dst,
            len(dst),
            self.verdicts,
        )

    @classmethod
    def of(
        cls,
        public_key_g2: bytes,
        messages: Sequence[bytes],
        signatures: Sequence[bytes],
        dst: bytes,
    ) -> _BatchCall | None:
        """The call, or None when every verdict is False without asking the library."""
        if len(signatures) != len(messages):
            raise ValueError("one signature per message")
        if len(public_key_g2) != _G2 or not messages:
            return None
        return cls(public_key_g2, messages, signatures, dst)

    def verdicts_for(self, status: int) -> list[bool]:
        if status == _BAD_KEY:
            return [False] * len(self.verdicts)
        _check(status)
        return [byte != 0 for byte in self.verdicts.raw]


def _pack(
    messages: Sequence[bytes], signatures: Sequence[bytes]
) -> tuple[bytes, ctypes.Array[ctypes.c_uint64], bytes]:
    """The messages joined with their offsets, and the signatures as 64-byte slots."""
    offsets = (ctypes.c_uint64 * (len(messages) + 1))()
    position = 0
    for i, message in enumerate(messages):
        offsets[i] = position
        position += len(message)
    offsets[len(messages)] = position
    packed = b"".join(s if len(s) == _G1 else bytes(_G1) for s in signatures)
    return b"".join(messages), offsets, packed


def _weights(count: int) -> bytes:
    """Fresh random weights from `secrets`, none of them zero."""
    while True:
        weights = secrets.token_bytes(WEIGHT_BYTES * count)
        zero = bytes(WEIGHT_BYTES)
        if all(weights[i : i + WEIGHT_BYTES] != zero for i in range(0, len(weights), WEIGHT_BYTES)):
            return weights


class _Notifier:
    """The pipe one event loop watches for finished batches: 8-byte token, then a status byte.

    The pipe stays open while the loop lives: a batch still running when its ends were closed
    could write into whatever file took the number next. It is closed when the loop is
    collected, and then only if nothing is still running.
    """

    _RECORD = 9

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._read_fd, self.write_fd = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(self._read_fd, False)
        self._pending: dict[int, tuple[asyncio.Future[int], ctypes.Array[ctypes.c_char]]] = {}
        self._tokens = itertools.count(1)
        self._partial = b""
        loop.add_reader(self._read_fd, self._drain)
        weakref.finalize(loop, _Notifier._close, self._read_fd, self.write_fd, self._pending)

    def expect(self, verdicts: ctypes.Array[ctypes.c_char]) -> tuple[int, asyncio.Future[int]]:
        token = next(self._tokens)
        future: asyncio.Future[int] = self._loop.create_future()
        self._pending[token] = (future, verdicts)  # the buffer lives until the batch is done
        return token, future

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._read_fd, self._RECORD * 512)
            except BlockingIOError:
                return
            if not data:
                return
            data = self._partial + data
            whole = len(data) - len(data) % self._RECORD
            self._partial = data[whole:]
            for at in range(0, whole, self._RECORD):
                token = int.from_bytes(data[at : at + 8], "little")
                entry = self._pending.pop(token, None)
                if entry is not None and not entry[0].done():
                    entry[0].set_result(data[at + 8])

    @staticmethod
    def _close(read_fd: int, write_fd: int, pending: Mapping[int, object]) -> None:
        if not pending:
            os.close(read_fd)
            os.close(write_fd)


def library_path() -> Path:
    """Where the library is looked for: $EXECUTOR_BN254_LIBRARY, else next to this module."""
    override = os.environ.get(LIBRARY_ENV)
    return Path(override) if override else Path(__file__).with_name(LIBRARY_NAME)


@cache
def load() -> NativeBn254 | None:
    """The native backend, or None when it is not built or the pure-Python one is asked for."""
    if os.environ.get(BACKEND_ENV, "").lower() == "python":
        return None
    path = library_path()
    if not path.is_file():
        return None
    return NativeBn254(path)
