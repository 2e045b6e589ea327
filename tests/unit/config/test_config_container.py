"""`avsPerformers[].container` (how performer containers are confined) and the internal
performer network (`performerNetworkInternal`, `performerNetworkRelayImage`)."""

from __future__ import annotations

from typing import Any

import pytest

from executor_adapters.config import ConfigError, ContainerConfig
from executor_app.bootstrap import avs_settings
from executor_core.performers import MIB, ContainerHardening, PerformerImage
from tests.unit.config.samples import load, minimal, performer

RELAY = {"repository": "hourglass-python-base", "tag": "bookworm"}


def container(block: Any, key: str = "container") -> dict[str, Any]:
    return minimal() | {"avsPerformers": [performer() | {key: block}]}


def problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(document)
    return caught.value.problems


def test_without_the_block_the_container_is_hardened() -> None:
    entry = load(minimal()).avs_performers[0]

    assert entry.container == ContainerConfig()
    assert entry.container.hardening() == ContainerHardening()
    defaults = ContainerHardening()
    assert defaults.no_new_privileges
    assert defaults.cap_add == ()
    assert (defaults.pids_limit, defaults.memory_bytes, defaults.cpus) == (512, 1024 * MIB, 2.0)
    assert (defaults.log_max_size_bytes, defaults.log_max_files) == (10 * MIB, 3)
    assert not defaults.read_only_root_filesystem
    assert defaults.user == ""


def test_every_key_is_read_and_reaches_the_core_settings() -> None:
    config = load(
        container(
            {
                "noNewPrivileges": False,
                "capAdd": ["net_bind_service", "CAP_CHOWN", "NET_BIND_SERVICE"],
                "pidsLimit": 128,
                "memory": "512m",
                "cpus": 0.5,
                "readOnlyRootFilesystem": True,
                "tmpfsSize": "16MiB",
                "user": "65532:65532",
                "logMaxSize": "1m",
                "logMaxFile": 5,
            }
        )
    )

    (settings,) = avs_settings(config)
    assert settings.container == ContainerHardening(
        no_new_privileges=False,
        cap_add=("NET_BIND_SERVICE", "CHOWN"),
        pids_limit=128,
        memory_bytes=512 * MIB,
        cpus=0.5,
        read_only_root_filesystem=True,
        tmpfs_size_bytes=16 * MIB,
        user="65532:65532",
        log_max_size_bytes=MIB,
        log_max_files=5,
    )


@pytest.mark.parametrize(
    ("key", "written", "read"),
    [
        ("memory", 268435456, 256 * MIB),
        ("memory", "1g", 1024 * MIB),
        ("memory", "1.5G", 1536 * MIB),
        ("memory", "64MB", 64 * MIB),
        ("memory", "7340032b", 7 * MIB),
        ("memory", 0, 0),
        ("logMaxSize", "512k", 512 * 1024),
        ("tmpfsSize", "2 m", 2 * MIB),
        ("cpus", 2, 2.0),
        ("cpus", "1.5", 1.5),
        ("cpus", 0, 0.0),
        ("pidsLimit", 0, 0),
        ("user", "nobody", "nobody"),
        ("user", "1000", "1000"),
    ],
)
def test_sizes_cpus_and_users_are_read_as_docker_writes_them(
    key: str, written: Any, read: Any
) -> None:
    block = load(container({key: written})).avs_performers[0].container
    attribute = {"logMaxSize": "log_max_size", "tmpfsSize": "tmpfs_size", "pidsLimit": "pids_limit"}
    assert getattr(block, attribute.get(key, key)) == read


@pytest.mark.parametrize(
    ("block", "line"),
    [
        ({"capAdd": ["ALL"]}, "capAdd: ALL would undo the drop; list the capabilities"),
        ({"capAdd": ["NET_FOO"]}, "capAdd: 'NET_FOO' is not a Linux capability"),
        ({"capAdd": "NET_ADMIN"}, "capAdd: must be a list"),
        ({"memory": "5m"}, "memory: must be 0 (no limit) or a size of at least 6m"),
        ({"memory": "lots"}, "memory: must be a size: bytes as an integer, or text such as 512m"),
        ({"memory": -1}, "memory: must be 0 (no limit) or a size of at least 6m"),
        ({"cpus": "2s"}, "cpus: must be a number of CPUs, such as 2 or 0.5"),
        ({"cpus": 0.001}, "cpus: must be 0 (no limit) or a number of CPUs between 0.01 and 1024"),
        ({"cpus": True}, "cpus: must be a number of CPUs"),
        ({"pidsLimit": -1}, "pidsLimit: must be an integer between 0 and 4194304"),
        ({"tmpfsSize": "512k"}, "tmpfsSize: must be a size of at least 1m"),
        ({"logMaxSize": 100}, "logMaxSize: must be a size of at least 1k"),
        ({"logMaxFile": 0}, "logMaxFile: must be an integer between 1 and 100"),
        ({"user": "a b"}, "user: must be empty (the image's user) or user[:group]"),
        ({"readOnlyRootFilesystem": "yes"}, "readOnlyRootFilesystem: must be true or false"),
        ({"noNewPrivilege": True}, "noNewPrivilege: unknown key"),
    ],
)
def test_a_bad_value_is_reported_at_its_key(block: dict[str, Any], line: str) -> None:
    (found,) = problems(container(block))
    assert found.startswith(f"avsPerformers[0].container.{line}"), found


def test_every_problem_of_the_block_is_reported_in_one_pass() -> None:
    found = problems(container({"memory": "1", "logMaxFile": 0, "user": ":"}))
    assert [line.split(":")[0] for line in found] == [
        "avsPerformers[0].container.memory",
        "avsPerformers[0].container.user",
        "avsPerformers[0].container.logMaxFile",
    ]


@pytest.mark.parametrize("key", ["container", "Container", "CONTAINER"])
def test_the_block_and_its_keys_take_either_spelling(key: str) -> None:
    config = load(container({"ReadOnlyRootFilesystem": True, "pidslimit": 64}, key=key))
    block = config.avs_performers[0].container
    assert block.read_only_root_filesystem
    assert block.pids_limit == 64


def test_the_network_is_not_internal_by_default() -> None:
    config = load(minimal())
    assert config.performer_network_internal is False
    assert config.performer_network_relay_image is None


def test_an_internal_network_is_read_with_its_relay_image() -> None:
    config = load(
        minimal()
        | {
            "performerNetworkName": "performers",
            "performerNetworkInternal": True,
            "performerNetworkRelayImage": RELAY,
        }
    )
    assert config.performer_network_internal is True
    assert config.performer_network_relay_image == PerformerImage(
        "hourglass-python-base", tag="bookworm"
    )


def test_an_internal_network_needs_a_name_and_a_relay_image() -> None:
    found = problems(minimal() | {"performerNetworkInternal": True})
    assert found == [
        "performerNetworkInternal: needs performerNetworkName, the network to make internal",
        "performerNetworkRelayImage: required with performerNetworkInternal: true; Docker "
        "publishes no port of a container on an internal network, so a relay in this image "
        "(any image with python3) publishes each performer's port on 127.0.0.1",
    ]


def test_the_network_name_may_come_from_the_environment() -> None:
    document = minimal() | {"performerNetworkInternal": True, "performerNetworkRelayImage": RELAY}
    config = load(document, environ={"EXECUTOR_PERFORMER_NETWORK_NAME": "performers"})
    assert config.performer_network_name == "performers"


def test_a_relay_image_without_an_internal_network_is_recorded_as_ignored() -> None:
    config = load(minimal() | {"performerNetworkRelayImage": RELAY})
    assert [key.path for key in config.ignored_keys] == ["performerNetworkRelayImage"]


def test_a_bad_relay_image_is_reported() -> None:
    found = problems(minimal() | {"performerNetworkRelayImage": {"repository": "x"}})
    assert found == ["performerNetworkRelayImage.tag: required"]
