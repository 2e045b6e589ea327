"""Find the operator's BLS keystore and password as the config names them; never decrypt.

Files are read relative to the config file's directory. The password comes from exactly one of
`password`, `passwordFile` (trailing newline dropped) or `passwordEnv`; without any of them,
`EXECUTOR_BLS_KEYSTORE_PASSWORD` is used if set, else the empty password of the upstream test
keystores. An ECDSA key is a keystore the same way, or G2's `privateKey`; remote signers are
refused, since the executor could not sign with one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import attrs
from cattrs import BaseConverter

from executor_adapters.config._structure import Problem
from executor_adapters.config._written import BlsKeyBlock, EcdsaKeyBlock
from executor_adapters.config.schema import BlsKeyConfig, EcdsaKeyConfig

PASSWORD_ENV = "EXECUTOR_BLS_KEYSTORE_PASSWORD"
ECDSA_PASSWORD_ENV = "EXECUTOR_ECDSA_KEYSTORE_PASSWORD"
INLINE_SOURCE = "inline keystore"
PRIVATE_KEY_SOURCE = "signingKeys.ecdsa.privateKey"


@attrs.frozen
class KeyFinder:
    """Structures `operator.signingKeys.bls` into a `BlsKeyConfig`, reading what it points to."""

    base_dir: Path
    environ: Mapping[str, str]
    default_password_env: str = PASSWORD_ENV

    def __call__(self, value: object, converter: BaseConverter) -> BlsKeyConfig:
        """Raise a group of `Problem`s naming each bad key, or return the keystore text."""
        block = converter.structure(value, BlsKeyBlock)
        keystore, source, password = self._keystore(block)
        return BlsKeyConfig(keystore=keystore, source=source, password=password)

    def ecdsa(self, value: object, converter: BaseConverter) -> EcdsaKeyConfig:
        """Structure `signingKeys.ecdsa`: a keystore as for BLS, or `privateKey` instead."""
        block = converter.structure(value, EcdsaKeyBlock)
        if block.remote_signer:
            problem = "remote signers are not supported; give privateKey or a keystore"
            raise ExceptionGroup("ECDSA key problems", [Problem("remoteSigner", problem)])
        finder = attrs.evolve(self, default_password_env=ECDSA_PASSWORD_ENV)
        if block.private_key is not None:
            others = [
                key
                for key in (
                    "keystore",
                    "keystore_file",
                    "password",
                    "password_file",
                    "password_env",
                )
                if getattr(block, key) is not None
            ]
            if others:
                problem = "privateKey cannot be combined with a keystore or a password"
                raise ExceptionGroup("ECDSA key problems", [Problem(None, problem)])
            key = block.private_key.removeprefix("0x")
            if len(key) != 64 or any(c not in "0123456789abcdefABCDEF" for c in key):
                problem = "must be 64 hex digits (0x optional)"
                raise ExceptionGroup("ECDSA key problems", [Problem("privateKey", problem)])
            return EcdsaKeyConfig(source=PRIVATE_KEY_SOURCE, private_key=key)
        keystore, source, password = finder._keystore(block)
        return EcdsaKeyConfig(keystore=keystore, source=source, password=password)

    def _keystore(self, block: BlsKeyBlock) -> tuple[str, str, str]:
        problems: list[Problem] = []
        keystore = source = ""
        if (block.keystore is None) == (block.keystore_file is None):
            problems.append(Problem(None, "give exactly one of keystore or keystoreFile"))
        elif block.keystore_file is not None:
            path = self._path(block.keystore_file)
            keystore, source = self._read(path, "keystoreFile", problems), str(path)
            if keystore:
                self._check_json(keystore, "keystoreFile", problems)
        elif isinstance(block.keystore, dict):
            keystore, source = self._dump_json(block.keystore, problems), INLINE_SOURCE
        elif isinstance(block.keystore, str):
            keystore, source = block.keystore, INLINE_SOURCE
            self._check_json(keystore, "keystore", problems)
        else:
            problems.append(Problem("keystore", "must be keystore JSON text"))
        password = self._password(block, problems)
        if problems:
            raise ExceptionGroup("key problems", problems)
        return keystore, source, password

    def _path(self, name: str) -> Path:
        path = Path(name).expanduser()
        return Path(os.path.normpath(path if path.is_absolute() else self.base_dir / path))

    @staticmethod
    def _read(path: Path, key: str, problems: list[Problem]) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problems.append(Problem(key, f"cannot read {path}: {reason}"))
            return ""

    @staticmethod
    def _dump_json(keystore: dict[object, object], problems: list[Problem]) -> str:
        try:
            return json.dumps(keystore)
        except (TypeError, ValueError):
            problems.append(Problem("keystore", "must be keystore JSON text"))
            return ""

    @staticmethod
    def _check_json(text: str, key: str, problems: list[Problem]) -> None:
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            problems.append(Problem(key, f"is not keystore JSON: {exc}"))
            return
        if not isinstance(parsed, dict):
            problems.append(Problem(key, "is not keystore JSON: expected an object"))

    def _password(self, block: BlsKeyBlock, problems: list[Problem]) -> str:
        given = [
            key
            for key in ("password", "password_file", "password_env")
            if getattr(block, key) is not None
        ]
        if len(given) > 1:
            problem = "give at most one of password, passwordFile, passwordEnv"
            problems.append(Problem(None, problem))
        elif block.password_file is not None:
            path = self._path(block.password_file)
            return self._read(path, "passwordFile", problems).rstrip("\r\n")
        elif block.password_env is not None:
            name = block.password_env
            if name not in self.environ:
                problems.append(Problem("passwordEnv", f"environment variable {name} is not set"))
            return self.environ.get(name, "")
        elif block.password is not None:
            return block.password
        return self.environ.get(self.default_password_env, "")
