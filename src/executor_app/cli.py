"""The `executor` command: `executor run --config FILE`, as the Go executor is invoked."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

from executor_adapters.config import ConfigError, ExecutorConfig, load_config
from executor_adapters.keystores import KeystoreError
from executor_adapters.log_sink import configure_logging
from executor_adapters.signing import bn254
from executor_app.bootstrap import build_executor, executor_version
from executor_app.ctl import add_ctl_commands, run_ctl_command
from executor_app.keys_cli import add_keys_commands, run_keys_command
from executor_app.signers import StartupError
from executor_core.errors import ExecutorError

EXIT_FAILURE = 1
EXIT_CONFIG = 2
log = logging.getLogger("executor_app")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="executor",
        description="Python executor for EigenLayer AVS operators (Hourglass-compatible).",
        epilog="Environment: EXECUTOR_CONFIG_PATH (instead of --config), EXECUTOR_GRPC_PORT, "
        "EXECUTOR_BLS_KEYSTORE_PASSWORD.",
    )
    parser.add_argument("--version", action="version", version=f"executor {executor_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the executor")
    _config_args(run)
    run.add_argument("--debug", action="store_true", help="log at debug level")
    run.add_argument("--grpc-port", type=int, help="override grpcPort")
    run.add_argument("--performer-network-name", help="override performerNetworkName")
    run.add_argument(
        "--listen-host", default="0.0.0.0", help="address to serve gRPC on (default 0.0.0.0)"
    )

    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    _config_args(config_commands.add_parser("validate", help="check a config file and exit"))

    commands.add_parser("version", help="print the version")
    add_keys_commands(commands)
    add_ctl_commands(commands)
    return parser


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("EXECUTOR_CONFIG_PATH"),
        help="YAML or JSON config file (default: $EXECUTOR_CONFIG_PATH)",
    )


def _load(path: Path | None) -> ExecutorConfig:
    if path is None:
        raise ConfigError(["--config is required (or set EXECUTOR_CONFIG_PATH)"])
    return load_config(path)


def _fail(message: str) -> int:
    for line in message.splitlines() or [message]:
        print(f"executor: {line}", file=sys.stderr)
    return EXIT_CONFIG


async def _serve(config: ExecutorConfig, host: str, port: int | None) -> int:
    for key in config.ignored_keys:
        log.info("config key ignored", extra={"key": key.path, "reason": key.reason})
    if config.management.allow_remote_without_auth and not config.authentication_enabled:
        log.warning(
            "management API open to every caller without authentication: anyone who reaches "
            "the management port can run any image on this host",
            extra={"key": "management.allowRemoteWithoutAuth"},
        )
    app = await build_executor(config, host=host, port=port)
    starting: dict[str, object] = {
        "executorInstance": app.instance_id,
        "version": executor_version(),
        "bn254Backend": bn254.backend(),
        "acceptsG2": app.executor.accepts_g2,
    }
    if app.chain is not None:
        starting["chainId"] = app.chain.chain_id
    auth = app.executor.management_auth
    starting["managementAuth"] = (
        ",".join(f"{key.name}:{key.curve.name}" for key in auth.keys) if auth else "off"
    )
    starting["executorName"] = app.executor.executor_name
    starting["state"] = str(app.database.path) if app.database else "memory"
    log.info("executor starting", extra=starting)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            log.warning(
                "already stopping; removing containers before exit", extra={"signal": signum}
            )
            return
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        bound = await app.start()
    except BaseException:
        await app.runtime.aclose()
        if app.chain is not None:
            await app.chain.aclose()
        if app.database is not None:
            await app.database.aclose()
        raise
    serving: dict[str, object] = {
        "address": f"{host}:{bound}",
        "avsCount": len(config.avs_performers),
    }
    if app.server.management_port not in (None, bound):
        serving["managementAddress"] = f"{host}:{app.server.management_port}"
    if app.node_api is not None:
        serving["nodeApiAddress"] = f"{config.metrics.listen_host}:{app.node_api.port}"
    log.info("executor serving", extra=serving)
    await stop.wait()
    await app.stop()
    log.info("executor stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    if args.command == "version":
        print(f"executor {executor_version()}")
        return
    if args.command == "keys":
        sys.exit(run_keys_command(args))
    if args.command == "ctl":
        sys.exit(run_ctl_command(args))
    try:
        config = _load(args.config)
    except ConfigError as exc:
        sys.exit(_fail(str(exc)))
    if args.command == "config":
        print(f"{args.config}: valid ({len(config.avs_performers)} AVS)")
        for key in config.ignored_keys:
            print(f"{args.config}: ignored {key.path}: {key.reason}")
        return
    level = "debug" if args.debug or config.debug else config.logging.level
    configure_logging(level=level, fmt=config.logging.format)
    if args.performer_network_name is not None:
        config = attrs.evolve(config, performer_network_name=args.performer_network_name)
    try:
        code = asyncio.run(_serve(config, args.listen_host, args.grpc_port))
    except (ConfigError, KeystoreError, StartupError) as exc:
        code = _fail(str(exc))
    except (ExecutorError, OSError) as exc:
        log.error("executor failed", extra={"error": str(exc), "errorType": type(exc).__name__})
        code = EXIT_FAILURE
    sys.exit(code)
