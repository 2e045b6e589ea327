"""How a container's confinement (`ContainerHardening`) is written in a create body.

Kept apart from the I/O code, like `_payloads`, so the rendering is unit-tested without an
engine; `docs/operations.md` says why the defaults are what they are.
"""

from __future__ import annotations

from typing import Any

from executor_core.performers import MIB, ContainerHardening

__all__ = ["TMPFS_OPTIONS", "host_config", "size_text"]

TMPFS_OPTIONS = "rw,nosuid,nodev"
"""Mount options of the tmpfs `/tmp` of a read-only container, before its size. Not `noexec`:
runtimes such as the JVM's unpack native libraries there and map them executable."""
_SIZE_UNITS = (("g", 1024 * MIB), ("m", MIB), ("k", 1024))


def size_text(size: int) -> str:
    """Write a byte count as Docker's options take it, in the largest exact unit (`10m`).

    Docker reads these units as powers of 1024, as the config does.
    """
    for suffix, unit in _SIZE_UNITS:
        if size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def host_config(hardening: ContainerHardening, *, host_cpus: int | None = None) -> dict[str, Any]:
    """Render a container's confinement as HostConfig fields.

    Every capability is dropped and the listed ones added back; a limit of 0 is left out (no
    limit), and the memory limit covers swap too. The CPU limit is lowered to `host_cpus` when
    given, as the engine refuses a limit above the CPUs it has. Logs are rotated by the
    json-file driver, which `docker logs` and the start-failure messages read. Turning
    `no_new_privileges` off leaves SecurityOpt empty, so the engine's own default applies.
    """
    fields: dict[str, Any] = {
        "CapDrop": ["ALL"],
        "CapAdd": [f"CAP_{name}" for name in hardening.cap_add],
        "SecurityOpt": ["no-new-privileges:true"] if hardening.no_new_privileges else [],
        "ReadonlyRootfs": hardening.read_only_root_filesystem,
        "LogConfig": {
            "Type": "json-file",
            "Config": {
                "max-size": size_text(hardening.log_max_size_bytes),
                "max-file": str(hardening.log_max_files),
            },
        },
    }
    if hardening.pids_limit:
        fields["PidsLimit"] = hardening.pids_limit
    if hardening.memory_bytes:
        fields["Memory"] = hardening.memory_bytes
        fields["MemorySwap"] = hardening.memory_bytes
    if hardening.cpus:
        cpus = hardening.cpus if host_cpus is None else min(hardening.cpus, float(host_cpus))
        fields["NanoCpus"] = round(cpus * 1e9)
    if hardening.read_only_root_filesystem:
        fields["Tmpfs"] = {"/tmp": f"{TMPFS_OPTIONS},size={hardening.tmpfs_size_bytes}"}
    return fields
