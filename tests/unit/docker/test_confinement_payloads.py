"""How a container's confinement, and the relay of an internal network, are written in the
Docker create bodies (no engine needed; tests/contract/container_runtime/test_confinement.py
checks what an engine makes of them)."""

from __future__ import annotations

import ast

import pytest

from executor_adapters.docker._confinement import host_config, size_text
from executor_adapters.docker._payloads import (
    container_config,
    container_event,
    network_config,
    relay_of,
)
from executor_adapters.docker._relay import (
    RELAY_HARDENING,
    RELAY_PROGRAM,
    internal_mismatch,
    relay_config,
)
from executor_core.performers import (
    MIB,
    ContainerHardening,
    ContainerSpec,
    PerformerImage,
    capability,
)
from executor_core.ports import ContainerEventKind

IMAGE = PerformerImage("example/performer", tag="1")
RELAY_IMAGE = PerformerImage("hourglass-python-base", tag="bookworm")


def spec(hardening: ContainerHardening | None = None, network: str | None = None) -> ContainerSpec:
    return ContainerSpec(
        image=IMAGE,
        name="avs-performer-abc",
        labels={"owner": "me"},
        network=network,
        hardening=hardening or ContainerHardening(),
    )


def test_the_defaults_drop_every_capability_and_limit_everything() -> None:
    body = container_config(spec())
    host = body["HostConfig"]

    assert host["CapDrop"] == ["ALL"]
    assert host["CapAdd"] == []
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["PidsLimit"] == 512
    assert host["Memory"] == host["MemorySwap"] == 1024 * MIB
    assert host["NanoCpus"] == 2_000_000_000
    assert host["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-size": "10m", "max-file": "3"},
    }
    assert host["ReadonlyRootfs"] is False
    assert "Tmpfs" not in host
    assert "User" not in body  # the image's own
    assert host["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert host["RestartPolicy"] == {"Name": "no"}
    assert host["AutoRemove"] is False


def test_every_setting_is_rendered() -> None:
    hardening = ContainerHardening(
        cap_add=("net_bind_service", "CAP_CHOWN"),
        pids_limit=64,
        memory_bytes=256 * MIB,
        cpus=0.25,
        read_only_root_filesystem=True,
        tmpfs_size_bytes=16 * MIB,
        user="65532:65532",
        log_max_size_bytes=512 * 1024,
        log_max_files=7,
    )
    body = container_config(spec(hardening, network="performers"))
    host = body["HostConfig"]

    assert host["CapAdd"] == ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"]
    assert host["PidsLimit"] == 64
    assert host["Memory"] == host["MemorySwap"] == 256 * MIB
    assert host["NanoCpus"] == 250_000_000
    assert host["ReadonlyRootfs"] is True
    assert host["Tmpfs"] == {"/tmp": f"rw,nosuid,nodev,size={16 * MIB}"}
    assert host["LogConfig"]["Config"] == {"max-size": "512k", "max-file": "7"}
    assert host["NetworkMode"] == "performers"
    assert body["User"] == "65532:65532"


def test_limits_of_0_are_left_out_and_privileges_may_be_allowed() -> None:
    relaxed = ContainerHardening(no_new_privileges=False, pids_limit=0, memory_bytes=0, cpus=0)
    host = host_config(relaxed)

    assert host["SecurityOpt"] == []
    assert host["CapDrop"] == ["ALL"]
    for key in ("PidsLimit", "Memory", "MemorySwap", "NanoCpus"):
        assert key not in host


def test_the_cpu_limit_is_lowered_to_what_the_host_has() -> None:
    assert host_config(ContainerHardening(cpus=4), host_cpus=2)["NanoCpus"] == 2_000_000_000
    assert host_config(ContainerHardening(cpus=0.5), host_cpus=2)["NanoCpus"] == 500_000_000


@pytest.mark.parametrize(
    ("size", "text"),
    [(10 * MIB, "10m"), (1024 * MIB, "1g"), (1536 * MIB, "1536m"), (3072, "3k"), (1500, "1500")],
)
def test_sizes_are_written_in_the_largest_exact_unit(size: int, text: str) -> None:
    assert size_text(size) == text


def test_a_relayed_container_publishes_nothing_itself() -> None:
    host = container_config(spec(network="internal"), publish=False)["HostConfig"]
    assert "PortBindings" not in host


def test_the_relay_publishes_on_loopback_from_the_bridge_and_is_confined() -> None:
    body = relay_config(spec(network="internal"), "performer-id", RELAY_IMAGE, host_cpus=1)
    host = body["HostConfig"]

    assert body["Image"] == "hourglass-python-base:bookworm"
    assert body["Entrypoint"][:2] == ["python3", "-c"]
    assert body["Entrypoint"][3] == "avs-performer-abc"  # forwards to the performer by name
    assert body["Cmd"] == []
    assert body["Labels"]["owner"] == "me"
    assert relay_of(body["Labels"]) == "performer-id"
    assert host["NetworkMode"] == "bridge"
    assert host["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert body["User"] == RELAY_HARDENING.user == "65532:65532"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["CapAdd"] == []
    assert host["NanoCpus"] == 1_000_000_000


def test_the_relay_program_is_valid_python() -> None:
    ast.parse(RELAY_PROGRAM)


def test_a_relays_death_is_reported_as_its_performers() -> None:
    attributes = {
        "owner": "me",
        "com.eigenlayer.hourglass.role": "relay",
        "com.eigenlayer.hourglass.relay-for": "performer-id",
        "exitCode": "137",
    }
    message = {
        "Type": "container",
        "Action": "die",
        "Actor": {"ID": "relay-id", "Attributes": attributes},
    }

    event = container_event(message, {"owner": "me"})

    assert event is not None
    assert (event.container_id, event.kind, event.exit_code) == (
        "performer-id",
        ContainerEventKind.DIED,
        137,
    )
    assert relay_of({"owner": "me"}) is None


def test_networks_are_internal_only_when_asked() -> None:
    assert network_config("n", {})["Internal"] is False
    assert network_config("n", {}, internal=True)["Internal"] is True
    assert "is not internal, but the performer network must be internal" in internal_mismatch(
        "n", True
    )


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("NET_BIND_SERVICE", "NET_BIND_SERVICE"), ("cap_chown", "CHOWN"), (" Sys_Nice ", "SYS_NICE")],
)
def test_capabilities_are_named_canonically(name: str, canonical: str) -> None:
    assert capability(name) == canonical


@pytest.mark.parametrize("name", ["ALL", "NET_FOO", "", "CAP_"])
def test_anything_but_a_capability_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a Linux capability"):
        capability(name)


@pytest.mark.parametrize(
    "bad",
    [
        {"memory_bytes": MIB},
        {"cpus": 0.001},
        {"pids_limit": -1},
        {"user": "a b"},
        {"tmpfs_size_bytes": 1024},
        {"log_max_files": 0},
        {"cap_add": "NET_ADMIN"},
    ],
)
def test_the_core_value_refuses_what_docker_would(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each field words its own problem
        ContainerHardening(**bad)  # type: ignore[arg-type]
