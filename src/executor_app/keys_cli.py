"""`executor keys generate|show`: make operator keystores and show the keys to register on chain.

::

    executor keys generate --curve bn254|bls381|ecdsa --out FILE [PASSWORD]
    executor keys show FILE [PASSWORD] [--json]

    PASSWORD: --password-env NAME | --password-file FILE

`generate` writes a crypto-libs EIP-2335 keystore (bn254, bls381) or a go-ethereum v3 key file
(ecdsa) with mode 0600, refuses to overwrite an existing file, and prints the public identity.
Without a password flag it prompts twice when standard input is a terminal, and otherwise reads
one line from standard input. An empty password is allowed (upstream allows it) but warned about.

`show` prints what an operator registers in the KeyRegistrar: for bn254 the G1 key `(X, Y)` and the
G2 key `[[X.A1, X.A0], [Y.A1, Y.A0]]` in decimal and hex, and the 128-byte gnark G2 bytes; for
bls381 the 192-byte raw G2 key; for ecdsa the address and the uncompressed public key. Without a
password it shows what the file stores (an EIP-2335 bn254 file stores only the G2 key, a v3 file
only the address); with one it decrypts, derives everything from the secret, and fails if the
stored public key or address does not belong to it.

Errors are one line on standard error, exit status 2.

Test hook: with the environment variable `EXECUTOR_KEYSTORE_TEST_KDF=fast`, `generate` uses scrypt
n = 1024 (r = 8, p = 1) instead of n = 262144, so tests run in milliseconds. Such keystores are
weak: never set it for real keys. Any other non-empty value is an error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from executor_adapters.keystores.eip2335 import KeystoreError
from executor_adapters.keystores.loader import (
    CURVES,
    Curve,
    KeystoreInfo,
    inspect_keystore,
    load_keystore,
)
from executor_adapters.keystores.writer import (
    DEFAULT_SCRYPT,
    ScryptParams,
    write_eip2335,
    write_v3,
)
from executor_adapters.signing import bls381, bn254, ecdsa

__all__ = ["TEST_KDF_ENV", "add_keys_commands", "run_keys_command"]

TEST_KDF_ENV = "EXECUTOR_KEYSTORE_TEST_KDF"
_FAST_SCRYPT = ScryptParams(n=1024, r=8, p=1)
EXIT_OK = 0
EXIT_ERROR = 2
_ORDERS: dict[str, int] = {
    "bn254": bn254.CURVE_ORDER,
    "bls381": bls381.CURVE_ORDER,
    "ecdsa": ecdsa.CURVE_ORDER,
}


class KeysCommandError(Exception):
    """A problem to report as one line with exit status 2."""


def add_keys_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Register `keys generate` and `keys show` under the `executor` command."""
    keys = subparsers.add_parser("keys", help="generate and inspect operator keystores")
    commands = keys.add_subparsers(dest="keys_command", required=True)

    generate = commands.add_parser(
        "generate",
        help="make a new key and write it to an encrypted keystore (mode 0600)",
        description="Make a new key; bn254/bls381 keys are written as crypto-libs EIP-2335 "
        "keystores, ecdsa keys as go-ethereum v3 key files. Never overwrites a file.",
    )
    generate.add_argument("--curve", required=True, choices=CURVES, help="the key's curve")
    generate.add_argument("--out", required=True, type=Path, help="keystore file to create")
    _password_args(generate)

    show = commands.add_parser(
        "show",
        help="show a keystore's public keys in the encodings registered on chain",
        description="Without a password, show what the keystore stores; with one, decrypt it, "
        "derive the public keys from the secret and check the stored ones.",
    )
    show.add_argument("file", type=Path, help="keystore file")
    _password_args(show)
    show.add_argument("--json", action="store_true", help="print one JSON object")


def _password_args(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--password-env", metavar="NAME", help="read the password from $NAME")
    source.add_argument(
        "--password-file", type=Path, metavar="FILE", help="read the password from FILE"
    )


def run_keys_command(args: argparse.Namespace) -> int:
    """Run `executor keys …`; return the exit status (errors: one line, status 2)."""
    handlers: dict[str, Callable[[argparse.Namespace], None]] = {
        "generate": _generate,
        "show": _show,
    }
    try:
        handlers[args.keys_command](args)
    except (KeysCommandError, KeystoreError) as exc:
        message = " ".join(str(exc).split())
        print(f"executor: keys {args.keys_command}: {message}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


# --- passwords --------------------------------------------------------------------------------


def _given_password(args: argparse.Namespace) -> str | None:
    """The password from --password-env / --password-file, or None when neither is given."""
    if args.password_env is not None:
        value = os.environ.get(args.password_env)
        if value is None:
            raise KeysCommandError(f"environment variable {args.password_env} is not set")
        return value
    if args.password_file is not None:
        path: Path = args.password_file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeysCommandError(f"cannot read password file {path}: {_reason(exc)}") from None
        return _strip_newline(text)
    return None


def _strip_newline(line: str) -> str:
    return line.removesuffix("\n").removesuffix("\r")


def _new_password(args: argparse.Namespace) -> str:
    given = _given_password(args)
    if given is not None:
        return given
    if sys.stdin.isatty():
        first = getpass.getpass("New keystore password: ")
        if getpass.getpass("Repeat the password: ") != first:
            raise KeysCommandError("the passwords do not match")
        return first
    line = sys.stdin.readline()
    if not line:
        raise KeysCommandError(
            "no password: standard input is empty (use --password-env or --password-file)"
        )
    return _strip_newline(line)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


# --- generate ---------------------------------------------------------------------------------


def _scrypt_params() -> ScryptParams:
    mode = os.environ.get(TEST_KDF_ENV, "")
    if mode == "":
        return DEFAULT_SCRYPT
    if mode == "fast":
        print(
            f"executor: warning: {TEST_KDF_ENV}=fast: weak scrypt parameters, for tests only",
            file=sys.stderr,
        )
        return _FAST_SCRYPT
    raise KeysCommandError(f"{TEST_KDF_ENV} must be 'fast' or unset, got {mode!r}")


def _generate(args: argparse.Namespace) -> None:
    curve: Curve = args.curve
    out: Path = args.out
    if out.exists() or out.is_symlink():
        raise KeysCommandError(f"{out} already exists; refusing to overwrite it")
    scrypt = _scrypt_params()
    password = _new_password(args)
    if not password:
        print("executor: warning: the keystore has an empty password", file=sys.stderr)
    secret = (secrets.randbelow(_ORDERS[curve] - 1) + 1).to_bytes(32, "big")
    try:
        if curve == "ecdsa":
            text = write_v3(secret, password, scrypt=scrypt)
        else:
            text = write_eip2335(secret, password, curve=curve, scrypt=scrypt)
    except ValueError as exc:
        raise KeysCommandError(str(exc)) from None
    _create_private_file(out, text)
    info = inspect_keystore(text, source=str(out))
    identity = _identity(out, info, secret)
    identity["status"] = f"new key, written to {out} (mode 0600)"
    _print_identity(identity, as_json=False)


def _create_private_file(path: Path, text: str) -> None:
    """Create `path` with mode 0600, failing if it exists (no race with another writer)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeysCommandError(f"{path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeysCommandError(f"cannot create {path}: {_reason(exc)}") from None
    try:
        os.fchmod(fd, 0o600)  # the umask cannot widen it, but make the mode exact
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KeysCommandError(f"cannot write {path}: {_reason(exc)}") from None


# --- show -------------------------------------------------------------------------------------


def _show(args: argparse.Namespace) -> None:
    path: Path = args.file
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeysCommandError(f"cannot read {path}: {_reason(exc)}") from None
    info = inspect_keystore(text, source=source)
    password = _given_password(args)
    secret: bytes | None = None
    if password is not None:
        curve, secret = load_keystore(text, password, source=source, expected_curve=info.curve)
        info = info._replace(curve=curve)
    _print_identity(_identity(path, info, secret), as_json=args.json)


def _identity(path: Path, info: KeystoreInfo, secret: bytes | None) -> dict[str, Any]:
    """The public identity; derived from `secret` (and checked) when given, else as stored."""
    source = str(path)
    identity: dict[str, Any] = {
        "file": source,
        "format": info.format,
        "curve": info.curve,
        "decrypted": secret is not None,
    }
    if info.curve == "bn254":
        identity.update(_bn254_identity(info, secret, source))
    elif info.curve == "bls381":
        identity.update(_bls381_identity(info, secret, source))
    elif info.curve == "ecdsa":
        identity.update(_ecdsa_identity(info, secret, source))
    else:
        raise KeystoreError(source, "has no curveType and its pubkey size does not tell the curve")
    return identity


def _words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]


def _hex_word(value: int) -> str:
    return f"{value:#066x}"


def _bn254_identity(info: KeystoreInfo, secret: bytes | None, source: str) -> dict[str, Any]:
    stored = info.public_key
    g1: bytes | None = None
    if secret is not None:
        scalar = bn254.secret_to_scalar(secret) % bn254.CURVE_ORDER
        if scalar == 0:
            raise KeystoreError(source, "the bn254 secret key is zero modulo the group order")
        g1 = bn254.public_key_g1(scalar)
        g2 = bn254.public_key_g2(scalar)
        if stored is not None and stored != g2:
            raise KeystoreError(source, "the stored pubkey does not belong to the secret key")
    else:
        if stored is None or len(stored) != 128:
            raise KeystoreError(source, "the stored pubkey is not a 128-byte bn254 G2 key")
        try:
            bn254.check_public_key_g2(stored)
        except ValueError as exc:
            raise KeystoreError(source, f"the stored pubkey is not a G2 point: {exc}") from None
        g2 = stored
    x_a1, x_a0, y_a1, y_a0 = _words(g2)
    identity: dict[str, Any] = {}
    if g1 is None:
        identity["g1"] = None
    else:
        x, y = _words(g1)
        identity["g1"] = {"X": str(x), "Y": str(y), "X_hex": _hex_word(x), "Y_hex": _hex_word(y)}
    identity["g2"] = {
        "solidity": [[str(x_a1), str(x_a0)], [str(y_a1), str(y_a0)]],
        "solidity_hex": [
            [f"{w:#066x}" for w in (x_a1, x_a0)],
            [f"{w:#066x}" for w in (y_a1, y_a0)],
        ],
        "gnark_hex": g2.hex(),
    }
    return identity


def _bls381_identity(info: KeystoreInfo, secret: bytes | None, source: str) -> dict[str, Any]:
    stored = info.public_key
    if secret is not None:
        scalar = bls381.scalar_of(secret)
        if scalar.is_zero():
            raise KeystoreError(source, "the bls381 secret key is zero modulo the group order")
        g2 = bls381.public_key_g2(secret)
        if stored is not None and not _bls381_stored_key_matches(stored, secret):
            raise KeystoreError(source, "the stored pubkey does not belong to the secret key")
    else:
        if stored is None or len(stored) not in (bls381.G2_RAW_BYTES, bls381.G2_COMPRESSED_BYTES):
            raise KeystoreError(
                source,
                "the stored pubkey is not a bls381 G2 key (an Ethereum-layout keystore stores a "
                "G1 key; give the password to derive the G2 key)",
            )
        try:
            g2 = bls381.g2_to_bytes(bls381.g2_from_bytes(stored))
        except ValueError as exc:
            raise KeystoreError(source, f"the stored pubkey is not a G2 point: {exc}") from None
    return {
        "g2": {
            "gnark_hex": g2.hex(),
            "compressed_hex": bls381.g2_to_compressed(bls381.g2_from_bytes(g2)).hex(),
        }
    }


def _bls381_stored_key_matches(stored: bytes, secret: bytes) -> bool:
    try:
        if len(stored) in (bls381.G1_RAW_BYTES // 2,):  # 48 bytes: Ethereum G1 key
            expected_g1 = bls381.g1_from_bytes(bls381.public_key_g1(secret))
            return bls381.g1_from_bytes(stored) == expected_g1
        return bls381.g2_from_bytes(stored) == bls381.g2_from_bytes(bls381.public_key_g2(secret))
    except ValueError:
        return False


def _ecdsa_identity(info: KeystoreInfo, secret: bytes | None, source: str) -> dict[str, Any]:
    if secret is None:
        if info.address is None:
            raise KeysCommandError(
                f"{source} stores no address; give the password to derive the key's identity"
            )
        return {"address": info.address, "public_key_hex": None}
    try:
        key = ecdsa.private_key(secret)
    except ValueError as exc:
        raise KeystoreError(source, str(exc)) from None
    return {"address": ecdsa.address_of(key), "public_key_hex": ecdsa.public_key(key).hex()}


def _print_identity(identity: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(identity, indent=2))
        return
    lines: list[tuple[str, str]] = [
        ("file", identity["file"]),
        ("format", identity["format"]),
        ("curve", identity["curve"]),
        ("checked", identity.get("status") or _status(identity["decrypted"])),
    ]
    if identity["curve"] == "bn254":
        g1 = identity["g1"]
        if g1 is None:
            lines.append(("G1 (X, Y)", "not stored; give the password to derive it"))
        else:
            lines.append(("G1 (X, Y)", f"({g1['X']}, {g1['Y']})"))
            lines.append(("G1 hex", f"({g1['X_hex']}, {g1['Y_hex']})"))
        g2 = identity["g2"]
        lines.append(("G2 [[X.A1, X.A0], [Y.A1, Y.A0]]", _pairs(g2["solidity"])))
        lines.append(("G2 hex", _pairs(g2["solidity_hex"])))
        lines.append(("G2 gnark bytes (128)", g2["gnark_hex"]))
    elif identity["curve"] == "bls381":
        lines.append(("G2 raw (192 bytes)", identity["g2"]["gnark_hex"]))
        lines.append(("G2 compressed (96 bytes)", identity["g2"]["compressed_hex"]))
    else:
        lines.append(("address", identity["address"]))
        public_key = identity["public_key_hex"]
        lines.append(
            ("public key (65 bytes)", public_key or "not stored; give the password to derive it")
        )
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label + ':':<{width + 1}} {value}")


def _status(decrypted: bool) -> str:
    if decrypted:
        return "decrypted; the stored public key or address belongs to the secret"
    return "not decrypted (no password given): showing what the file stores"


def _pairs(pairs: list[list[str]]) -> str:
    return "[" + ", ".join("[" + ", ".join(pair) + "]" for pair in pairs) + "]"
