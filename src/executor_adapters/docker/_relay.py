"""The relay that publishes the port of a performer on an internal network.

Docker publishes no port of a container whose network is internal (`Internal: true`: the
engine drops whatever its containers send beyond the network), so a performer there cannot be
reached on 127.0.0.1 by itself. A relay container is: it starts on the default bridge, where
its port is published on loopback, joins the performer's internal network, and forwards each
connection to the performer by name. The performer keeps no route out; the relay runs only the
program below, confined by `RELAY_HARDENING`.
"""

from __future__ import annotations

from typing import Any

from executor_adapters.docker._confinement import host_config
from executor_adapters.docker._payloads import (
    LOOPBACK,
    RELAY_FOR_LABEL,
    RELAY_ROLE,
    ROLE_LABEL,
)
from executor_core.performers import (
    MIB,
    PERFORMER_PORT,
    ContainerHardening,
    ContainerSpec,
    PerformerImage,
)

__all__ = ["RELAY_HARDENING", "RELAY_PROGRAM", "internal_mismatch", "relay_config"]

RELAY_HARDENING = ContainerHardening(
    pids_limit=64,
    memory_bytes=64 * MIB,
    cpus=1.0,
    read_only_root_filesystem=True,
    tmpfs_size_bytes=MIB,
    user="65532:65532",
    log_max_size_bytes=MIB,
    log_max_files=2,
)
"""No capabilities, little memory, an unprivileged user and a read-only root."""
_PORT_KEY = f"{PERFORMER_PORT}/tcp"

RELAY_PROGRAM = f"""\
import asyncio, signal, sys

TARGET, PORT = sys.argv[1], {PERFORMER_PORT}


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def relay(reader, writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(TARGET, PORT)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def main():
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(number, stop.set)
    server = await asyncio.start_server(relay, "0.0.0.0", PORT)
    async with server:
        await stop.wait()


asyncio.run(main())
"""
"""Python with nothing but the standard library, so any image with python3 runs it; it is
PID 1 in its container, hence the signal handlers (PID 1 has no default ones)."""


def relay_config(
    spec: ContainerSpec, performer_id: str, image: PerformerImage, *, host_cpus: int | None = None
) -> dict[str, Any]:
    """Build the create body of the relay that publishes performer `performer_id`'s port.

    It carries the performer's labels, so whatever finds the performer by label finds its relay
    too, plus its role and whose relay it is; the runtime connects it to the performer's
    network before starting it.
    """
    return {
        "Image": image.reference,
        "Entrypoint": ["python3", "-c", RELAY_PROGRAM, spec.name],
        "Cmd": [],
        "User": RELAY_HARDENING.user,
        "Env": ["PYTHONDONTWRITEBYTECODE=1"],
        "Labels": {**spec.labels, ROLE_LABEL: RELAY_ROLE, RELAY_FOR_LABEL: performer_id},
        "ExposedPorts": {_PORT_KEY: {}},
        "HostConfig": {
            "PortBindings": {_PORT_KEY: [{"HostIp": LOOPBACK, "HostPort": ""}]},
            "RestartPolicy": {"Name": "no"},
            "AutoRemove": False,
            "NetworkMode": "bridge",
            **host_config(RELAY_HARDENING, host_cpus=host_cpus),
        },
    }


def internal_mismatch(name: str, internal: bool) -> str:
    """Say why an existing network with the other `Internal` flag is not used as it is."""
    wanted, found = ("internal", "not internal") if internal else ("not internal", "internal")
    return (
        f"network {name} exists and is {found}, but the performer network must be {wanted}: "
        "remove it, or change performerNetworkInternal"
    )
