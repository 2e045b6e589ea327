"""`executor ctl`: the executor's management API from the command line, instead of grpcurl.

::

    executor ctl [--target HOST:PORT] [--json] [--timeout S] [AUTH] COMMAND
        list [--avs ADDR]
        deploy --avs ADDR --registry REPO --digest sha256:… [--env NAME=VALUE]…
               [--env-from NAME=EXECUTOR_VAR]…
        remove PERFORMER_ID
        token [--operator ADDR]
        health

    AUTH: --keystore FILE [--password-env NAME | --password-file FILE] [--operator ADDR]
          [--no-bind]

The options may also follow the command (`executor ctl list --json`). `--target` defaults to
`$EXECUTOR_CTL_TARGET`, else 127.0.0.1:9090. Calls go to `ExecutorManagementService`, or to a
first-generation executor's `ExecutorService` paths when it has no such service
(`executor_adapters.grpc.management_client`).

With `--keystore` (a bn254 EIP-2335 keystore or an ecdsa v3 key file) each call is
authenticated with a fresh challenge token for `--operator` (default: the ecdsa key's own
address; required with a bn254 key), signed bound to the call unless `--no-bind` asks for
upstream's unbound form. The password comes from `--password-env`, `--password-file`, or a
prompt when standard input is a terminal. When the executor has authentication off, calls go
without it (a note says so on standard error).

Output: a table (or a line) for people; with `--json`, one JSON document on standard output for
every command, errors included (`{"error": {"code", "message", "method"}}`).

Exit status: 0 success; 1 the executor refused or failed the call, could not be reached, or
(`health`) is not serving, with `error: <STATUS>: <message>` on standard error; 2 a usage
error (flags, keystore, password).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from executor_adapters.grpc.management_client import (
    EnvEntry,
    HealthReport,
    ManagementAuth,
    ManagementCallError,
    ManagementClient,
    MessageSigner,
)
from executor_adapters.keystores import KeystoreError, inspect_keystore, load_keystore
from executor_adapters.signing import Bn254ResultSigner, EcdsaResultSigner
from executor_app.keys_cli import KeysCommandError, _given_password
from executor_core.addresses import Address
from executor_core.errors import ExecutorError
from hourglass_proto.eigenlayer.hourglass import v1 as pb

__all__ = [
    "DEFAULT_TARGET",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "TARGET_ENV",
    "add_ctl_commands",
    "image_reference",
    "performer_document",
    "render_health",
    "render_performers",
    "run_ctl_command",
]

DEFAULT_TARGET = "127.0.0.1:9090"
TARGET_ENV = "EXECUTOR_CTL_TARGET"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_TIMEOUTS = {"list": 10.0, "deploy": 300.0, "remove": 120.0, "token": 10.0, "health": 5.0}
"""Seconds per call when `--timeout` is not given: a deployment pulls and health-checks an
image, a removal drains the performer's running tasks."""


class CtlUsageError(Exception):
    """A problem with what was asked, found before any call: exit status 2."""


# --- arguments --------------------------------------------------------------------------------


def _address(text: str) -> str:
    try:
        Address.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text!r}")
    return value


def _split_assignment(text: str, right: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME={right}, got {text!r}")
    return name, value


def _env_value(text: str) -> EnvEntry:
    return _split_assignment(text, "VALUE")


def _env_from(text: str) -> EnvEntry:
    name, variable = _split_assignment(text, "EXECUTOR_VAR")
    if not variable:
        raise argparse.ArgumentTypeError(f"expected NAME=EXECUTOR_VAR, got {text!r}")
    return pb.PerformerEnv(name=name, value_from_env=variable)


def _common_options(parser: argparse.ArgumentParser, *, here: bool) -> None:
    """The options of every ctl command. On `ctl` itself (`here`) they carry the defaults; on
    each command they are SUPPRESSed unless given, so either place works and the later wins."""

    def default(value: object) -> object:
        return value if here else argparse.SUPPRESS

    parser.add_argument(
        "--target",
        default=default(os.environ.get(TARGET_ENV) or DEFAULT_TARGET),
        metavar="HOST:PORT",
        help=f"the executor's management address (default ${TARGET_ENV}, else {DEFAULT_TARGET})",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print one JSON document instead of a table",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=default(None),
        metavar="S",
        help="seconds each call may take (default: list, token 10; health 5; remove 120; "
        "deploy 300)",
    )
    auth = parser.add_argument_group("authentication (when the executor has it on)")
    auth.add_argument(
        "--keystore",
        type=Path,
        default=default(None),
        metavar="FILE",
        help="sign calls with this key: a bn254 EIP-2335 keystore or an ecdsa v3 key file",
    )
    source = auth.add_mutually_exclusive_group()
    source.add_argument(
        "--password-env", default=default(None), metavar="NAME", help="the password is in $NAME"
    )
    source.add_argument(
        "--password-file",
        type=Path,
        default=default(None),
        metavar="FILE",
        help="the password is FILE's content (without a trailing newline)",
    )
    auth.add_argument(
        "--operator",
        type=_address,
        default=default(None),
        metavar="ADDR",
        help="the operator to ask challenge tokens for (default: the ecdsa key's address; "
        "required with a bn254 key)",
    )
    auth.add_argument(
        "--no-bind",
        dest="bind",
        action="store_false",
        default=default(True),
        help="sign upstream's unbound message (keccak256(token)), as an upstream executor needs; "
        "by default the signature also covers the method and the request",
    )


def add_ctl_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `ctl list|deploy|remove|token|health` under the `executor` command."""
    ctl = subparsers.add_parser(
        "ctl",
        help="call a running executor's management API (list, deploy, remove, token, health)",
        description="Call a running executor's management API. Exit status: 0 success, "
        "1 refused or failed by the executor or unreachable, 2 usage error.",
    )
    _common_options(ctl, here=True)
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, here=False)
    commands = ctl.add_subparsers(dest="ctl_command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", parents=[common], help="list the performers")
    listing.add_argument("--avs", type=_address, metavar="ADDR", help="only this AVS's")

    deploy = commands.add_parser(
        "deploy",
        parents=[common],
        help="deploy an image by digest, blue-green; prints the deployment id",
    )
    deploy.add_argument("--avs", required=True, type=_address, metavar="ADDR")
    deploy.add_argument(
        "--registry", required=True, metavar="REPO", help="image repository, host:port/name"
    )
    deploy.add_argument("--digest", required=True, metavar="sha256:…", help="the image digest")
    deploy.add_argument(
        "--env",
        dest="env",
        action="append",
        type=_env_value,
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable of the performer (repeatable)",
    )
    deploy.add_argument(
        "--env-from",
        dest="env",
        action="append",
        type=_env_from,
        metavar="NAME=EXECUTOR_VAR",
        help="an environment variable the executor sets from its own $EXECUTOR_VAR (repeatable)",
    )

    remove = commands.add_parser("remove", parents=[common], help="remove a performer")
    remove.add_argument("performer_id", metavar="PERFORMER_ID", help="as `list` shows it")

    commands.add_parser(
        "token",
        parents=[common],
        help="get a challenge token for --operator (or the ecdsa --keystore's address)",
    )
    commands.add_parser(
        "health", parents=[common], help="grpc.health.v1 status: the server's and each service's"
    )


# --- keys -------------------------------------------------------------------------------------


def _password(args: argparse.Namespace, path: Path) -> str:
    try:
        given = _given_password(args)
    except KeysCommandError as exc:
        raise CtlUsageError(str(exc)) from None
    if given is not None:
        return given
    if sys.stdin.isatty():
        return getpass.getpass(f"Password of {path}: ")
    raise CtlUsageError(
        f"--keystore {path} needs a password: give --password-env or --password-file "
        "(standard input is not a terminal to ask on)"
    )


def _read_keystore(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CtlUsageError(f"cannot read keystore {path}: {reason}") from None


def _signer(text: str, path: Path, args: argparse.Namespace) -> tuple[MessageSigner, str | None]:
    """Decrypt the keystore into its signer, with the address an ecdsa key has."""
    source = str(path)
    curve = inspect_keystore(text, source=source).curve
    if curve not in ("bn254", "ecdsa"):
        raise CtlUsageError(
            f"{path} holds a {curve or 'unknown-curve'} key; management calls are signed with "
            "a bn254 or an ecdsa key"
        )
    loaded = load_keystore(text, _password(args, path), source=source, expected_curve=curve)
    try:
        if curve == "ecdsa":
            ecdsa = EcdsaResultSigner(loaded.secret)
            return ecdsa, ecdsa.address
        return Bn254ResultSigner(loaded.secret), None
    except ValueError as exc:
        raise KeystoreError(source, str(exc)) from None


def _auth(args: argparse.Namespace) -> ManagementAuth | None:
    path: Path | None = args.keystore
    if path is None:
        return None
    signer, own_address = _signer(_read_keystore(path), path, args)
    operator = args.operator or own_address
    if operator is None:
        raise CtlUsageError(f"--operator is required with a bn254 keystore ({path})")
    return ManagementAuth(signer=signer, operator_address=operator, bind=args.bind)


def _token_operator(args: argparse.Namespace) -> str:
    """`token` asks for --operator, else the address a v3 key file stores (no password)."""
    if args.operator:
        return str(args.operator)
    path: Path | None = args.keystore
    if path is not None:
        info = inspect_keystore(_read_keystore(path), source=str(path))
        if info.address is not None:
            return info.address
    raise CtlUsageError("token needs --operator ADDR (or an ecdsa --keystore that stores one)")


# --- rendering --------------------------------------------------------------------------------


def image_reference(registry: str, digest: str, tag: str) -> str:
    """`registry@digest`, else `registry:tag`. A first-generation executor reports the tag in
    `artifact_digest` when there is no digest; a value without `:` is taken as such a tag."""
    if digest and ":" in digest:
        return f"{registry}@{digest}"
    shown_tag = tag or digest
    return f"{registry}:{shown_tag}" if shown_tag else registry


def performer_document(performer: pb.Performer) -> dict[str, Any]:
    """A performer as `--json` prints it: the wire fields, plus the image reference."""
    return {
        "performer_id": performer.performer_id,
        "avs_address": performer.avs_address,
        "status": performer.status,
        "artifact_registry": performer.artifact_registry,
        "artifact_digest": performer.artifact_digest,
        "artifact_tag": performer.artifact_tag,
        "image": image_reference(
            performer.artifact_registry, performer.artifact_digest, performer.artifact_tag
        ),
        "resource_healthy": performer.resource_healthy,
        "application_healthy": performer.application_healthy,
        "last_health_check": performer.last_health_check,
        "container_id": performer.container_id,
    }


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    ]
    return "\n".join(lines)


def render_performers(performers: Sequence[pb.Performer]) -> str:
    """The `list` table; one line saying so when there is no performer."""
    if not performers:
        return "no performers"
    rows = [
        (
            p.performer_id,
            p.avs_address,
            p.status,
            image_reference(p.artifact_registry, p.artifact_digest, p.artifact_tag),
            f"{_yes(p.resource_healthy)}/{_yes(p.application_healthy)}",
            p.last_health_check or "-",
            p.container_id[:12] or "-",
        )
        for p in performers
    ]
    headers = ("PERFORMER ID", "AVS", "STATUS", "IMAGE", "HEALTHY (RES/APP)", "LAST CHECK")
    return _table((*headers, "CONTAINER"), rows)


def health_document(target: str, report: HealthReport) -> dict[str, Any]:
    return {"target": target, "status": report.overall, "services": dict(report.services)}


def render_health(target: str, report: HealthReport) -> str:
    rows = [("(server)", report.overall), *report.services.items()]
    return f"{target}\n" + _table(("SERVICE", "STATUS"), rows)


def _expiry(expires_at: int) -> str:
    return (
        datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


# --- running ----------------------------------------------------------------------------------


@attrs.frozen
class Outcome:
    """What a command prints: a document for `--json`, text otherwise, and its exit status."""

    document: Any
    text: str
    status: int = EXIT_OK
    error: str | None = None
    """A line for standard error (`error: …`) when the status is not 0."""


Command = Callable[[ManagementClient, argparse.Namespace, float], Coroutine[Any, Any, Outcome]]


async def _list(client: ManagementClient, args: argparse.Namespace, timeout: float) -> Outcome:
    performers = await client.list_performers(args.avs, timeout=timeout)
    return Outcome(
        {"performers": [performer_document(p) for p in performers]},
        render_performers(performers),
    )


async def _deploy(client: ManagementClient, args: argparse.Namespace, timeout: float) -> Outcome:
    answer = await client.deploy_artifact(
        args.avs, args.registry, args.digest, args.env, timeout=timeout
    )
    return Outcome(
        {
            "success": answer.success,
            "message": answer.message,
            "deployment_id": answer.deployment_id,
        },
        answer.deployment_id,
    )


async def _remove(client: ManagementClient, args: argparse.Namespace, timeout: float) -> Outcome:
    answer = await client.remove_performer(args.performer_id, timeout=timeout)
    return Outcome({"success": answer.success, "message": answer.message}, answer.message)


async def _token(client: ManagementClient, args: argparse.Namespace, timeout: float) -> Outcome:
    operator = args.token_operator
    answer = await client.get_challenge_token(operator, timeout=timeout)
    expires = _expiry(answer.expires_at)
    document = {
        "operator_address": operator,
        "challenge_token": answer.challenge_token,
        "expires_at": answer.expires_at,
        "expires_at_utc": expires,
    }
    text = _table(
        ("FIELD", "VALUE"),
        [
            ("token", answer.challenge_token),
            ("expires", f"{expires} ({answer.expires_at})"),
            ("operator", operator),
        ],
    )
    return Outcome(document, "\n".join(text.splitlines()[1:]))


async def _health(client: ManagementClient, args: argparse.Namespace, timeout: float) -> Outcome:
    report = await client.health(timeout=timeout)
    outcome = Outcome(health_document(client.target, report), render_health(client.target, report))
    if report.serving:
        return outcome
    return attrs.evolve(
        outcome,
        status=EXIT_FAILED,
        error=f"error: {report.overall}: the executor is not serving "
        "(starting its performers, or shutting down)",
    )


_COMMANDS: dict[str, Command] = {
    "list": _list,
    "deploy": _deploy,
    "remove": _remove,
    "token": _token,
    "health": _health,
}


def _hint(exc: ManagementCallError, auth: ManagementAuth | None) -> str | None:
    if exc.code.name != "UNAUTHENTICATED":
        return None
    if auth is None:
        return "note: this executor authenticates management calls: give --keystore"
    if auth.bind:
        return (
            "note: is this key one the executor authorises (management.authorizedKeys)? "
            "an upstream executor accepts only unbound signatures: try --no-bind"
        )
    return "note: is this key one the executor authorises (management.authorizedKeys)?"


async def _call(args: argparse.Namespace, auth: ManagementAuth | None) -> Outcome:
    timeout: float = args.timeout or DEFAULT_TIMEOUTS[args.ctl_command]
    async with ManagementClient(args.target, auth=auth) as client:
        try:
            outcome = await _COMMANDS[args.ctl_command](client, args, timeout)
        except ManagementCallError as exc:
            error = {"code": exc.code.name, "message": exc.details, "method": exc.method}
            line = f"error: {exc.code.name}: {exc.details}"
            hint = _hint(exc, auth)
            return Outcome({"error": error}, "", EXIT_FAILED, line + (f"\n{hint}" if hint else ""))
        if (
            auth is not None
            and client.auth_off
            and args.ctl_command in ("list", "deploy", "remove")
        ):
            print(
                "note: the executor does not authenticate management calls; sent without auth",
                file=sys.stderr,
            )
        return outcome


def _print(outcome: Outcome, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(outcome.document, indent=2))
    elif outcome.text:
        print(outcome.text)
    if outcome.error:
        print(outcome.error, file=sys.stderr)
    return outcome.status


def _usage_error(message: str, *, as_json: bool) -> int:
    message = " ".join(message.split())
    if as_json:
        print(json.dumps({"error": {"code": "USAGE", "message": message}}, indent=2))
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run_ctl_command(args: argparse.Namespace) -> int:
    """Run `executor ctl …`; return the exit status (0, 1 refused or unreachable, 2 usage)."""
    as_json: bool = args.json
    try:
        if args.ctl_command == "token":
            args.token_operator = _token_operator(args)
            auth = None  # a token is asked for as is; nothing to sign
        else:
            auth = _auth(args)
    except (CtlUsageError, KeystoreError) as exc:
        return _usage_error(str(exc), as_json=as_json)
    try:
        outcome = asyncio.run(_call(args, auth))
    except ExecutorError as exc:  # signing failed on this side
        return _print(
            Outcome(
                {"error": {"code": "CLIENT", "message": str(exc)}}, "", EXIT_FAILED, f"error: {exc}"
            ),
            as_json=as_json,
        )
    except KeyboardInterrupt:
        return 130
    return _print(outcome, as_json=as_json)
