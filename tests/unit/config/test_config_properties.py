"""Properties of the loader over generated documents.

Any valid document loads to the values it spells; any single fault in one yields a `ConfigError`
(never another exception) whose every line starts with a path present in the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor_adapters.config import ConfigError
from executor_core.addresses import Address
from tests.unit.config.samples import KEYSTORE_TEXT, load

HERE = Path(__file__).resolve().parent
KEYSTORE_NAME = "k.json"
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

addresses = st.text("0123456789abcdefABCDEF", min_size=40, max_size=40).map(lambda d: "0x" + d)
names = st.from_regex(r"[a-z][a-z0-9]{0,8}(?:[-_.][a-z0-9]{1,5}){0,2}", fullmatch=True)
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,20}", fullmatch=True)


@st.composite
def durations(draw: st.DrawFn) -> tuple[object, float]:
    """A duration as the file writes it, with the seconds it means."""
    if draw(st.booleans()):
        number = draw(st.integers(1, 10_000) | st.floats(0.001, 10_000, allow_nan=False))
        return number, float(number)
    amount, unit = draw(st.integers(1, 500)), draw(st.sampled_from(sorted(UNITS)))
    return f"{amount}{unit}", amount * UNITS[unit]


@st.composite
def documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid config document, and the values it should load to (None: the default)."""
    expected: dict[str, Any] = {}
    document: dict[str, Any] = {}
    for key, strategy in [
        ("grpcPort", st.integers(1, 65535)),
        ("debug", st.booleans()),
        ("performerNetworkName", st.just("") | names),
        ("maxMessageSize", st.integers(1, 2**31 - 1)),
    ]:
        if draw(st.booleans()):
            document[key] = expected[key] = draw(strategy)
    for key in ("shutdownGracePeriod", "taskTimeout"):
        if draw(st.booleans()):
            document[key], expected[key] = draw(durations())
    bls: dict[str, Any] = (
        {"keystoreFile": KEYSTORE_NAME} if draw(st.booleans()) else {"keystore": KEYSTORE_TEXT}
    )
    # YAML reads NEL, LS and PS inside a scalar as line breaks, and the dumper writes them raw.
    yaml_breaks = st.characters(blacklist_characters="\x85\u2028\u2029")
    password = draw(st.none() | st.text(yaml_breaks, max_size=20))
    if password is not None:
        bls["password"] = password
    expected["password"] = password or ""
    operator = draw(addresses)
    document["operator"] = {"address": operator, "signingKeys": {"bls": bls}}
    expected["operator"] = operator.lower()
    peering = draw(st.booleans())
    avs_list = draw(st.lists(addresses, min_size=1, max_size=3, unique_by=str.lower))
    document["avsPerformers"], expected["avsPerformers"] = [], []
    for avs in avs_list:
        entry = {
            "avsAddress": avs,
            "image": {"repository": draw(names), "tag": draw(tags)},
            "signingCurve": draw(st.sampled_from(["bn254", "bls381"])),
            "workerCount": draw(st.integers(1, 1000)),
            "taskQueueSize": draw(st.integers(0, 10_000)),
            "verifyAggregatorSignature": peering and draw(st.booleans()),
        }
        (interval, interval_s), (timeout, timeout_s) = draw(durations()), draw(durations())
        entry["health"] = {"checkInterval": interval, "timeout": timeout}
        if draw(st.booleans()):
            entry["avsRegistrarAddress"] = draw(addresses)
        document["avsPerformers"].append(entry)
        expected["avsPerformers"].append((entry, interval_s, timeout_s))
    peers = draw(st.lists(st.binary(min_size=128, max_size=128), max_size=2))
    document["simulation"] = {
        "simulatePeering": {
            "enabled": peering,
            "aggregatorPeers": [
                {
                    "networkAddress": f"127.0.0.1:{9000 + i}",
                    "publicKey": draw(st.sampled_from(["", "0x"])) + key.hex(),
                    "operatorAddress": draw(addresses),
                    "operatorSetId": draw(st.integers(0, 2**32 - 1)),
                }
                for i, key in enumerate(peers)
            ],
        }
    }
    expected["peers"] = peers
    if draw(st.booleans()):
        document["logging"] = {
            "level": draw(st.sampled_from(["debug", "info", "warning", "error"])),
            "format": draw(st.sampled_from(["json", "text"])),
        }
    return document, expected


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("config")
    (directory / KEYSTORE_NAME).write_text(KEYSTORE_TEXT, encoding="utf-8")
    return directory


@PROPERTY_SETTINGS
@given(documents())
def test_any_valid_document_loads_to_the_values_it_spells(
    base_dir: Path, case: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    document, expected = case
    config = load(document, base_dir=base_dir)
    assert config.grpc_port == expected.get("grpcPort", 9090)
    assert config.debug == expected.get("debug", False)
    assert config.performer_network_name == expected.get("performerNetworkName", "")
    assert config.max_message_size == expected.get("maxMessageSize", 4 * 1024 * 1024)
    assert config.shutdown_grace_period == pytest.approx(expected.get("shutdownGracePeriod", 10))
    assert config.task_timeout == pytest.approx(expected.get("taskTimeout", 60))
    assert config.operator.address.value == expected["operator"]
    bls = config.operator.signing_keys.bls
    assert (bls.keystore, bls.password) == (KEYSTORE_TEXT, expected["password"])
    assert len(config.avs_performers) == len(expected["avsPerformers"])
    for loaded, (entry, interval, timeout) in zip(
        config.avs_performers, expected["avsPerformers"], strict=True
    ):
        assert loaded.avs_address.value == entry["avsAddress"].lower()
        assert loaded.image.reference == f"{entry['image']['repository']}:{entry['image']['tag']}"
        assert loaded.signing_curve == entry["signingCurve"]
        assert (loaded.worker_count, loaded.task_queue_size) == (
            entry["workerCount"],
            entry["taskQueueSize"],
        )
        assert loaded.health.check_interval == pytest.approx(interval)
        assert loaded.health.timeout == pytest.approx(timeout)
        registrar = entry.get("avsRegistrarAddress")
        assert loaded.avs_registrar_address == (None if registrar is None else Address(registrar))
    peering = config.simulation.simulate_peering
    assert peering.enabled == document["simulation"]["simulatePeering"]["enabled"]
    assert [peer.public_key for peer in peering.aggregator_peers] == expected["peers"]
    if "logging" in document:
        assert config.logging.level == document["logging"]["level"]
        assert config.logging.format == document["logging"]["format"]


# --- mutations --------------------------------------------------------------------------------

WRONG_TYPES: list[object] = ["text", None, [1], {"a": 1}, 1.5, True, 12]
"""Values of every YAML type; for each field at least one is wrong for it."""
KIND_OF_LEAF = {
    "grpcPort": "int",
    "maxMessageSize": "int",
    "workerCount": "int",
    "taskQueueSize": "int",
    "operatorSetId": "int",
    "debug": "bool",
    "enabled": "bool",
    "verifyAggregatorSignature": "bool",
    "performerNetworkName": "str",
    "networkAddress": "str",
    "repository": "str",
    "tag": "str",
    "password": "str",
    "keystore": "str",
    "keystoreFile": "str",
}
BAD_VALUES: dict[str, list[object]] = {
    "int": ["text", None, [1], {"a": 1}, 1.5, True, -1],
    "bool": ["true", None, [1], {"a": 1}, 1.5, 0],
    "str": [None, [1], {"a": 1}, 1.5, True, 12],
    "address": ["0x12", "text", None, [1], 12, True],
    "duration": ["soon", 0, -3, "-1s", None, [1], True],
    "choice": ["other", None, 12, [1]],
    "publicKey": ["0x12", "zz" * 128, 12, None],
    "block": ["text", 12, [1], None],
    "list": ["text", 12, {"a": 1}, None],
}
ALSO_VALID: dict[str, list[object]] = {
    "password": [None],
    "avsRegistrarAddress": [None],
    "keystore": [{"a": 1}],
}
"""Values valid for a key although of another kind: null as "not given", a keystore as YAML."""
CHOICES = {"signingCurve", "processType", "level", "format"}
DURATIONS = {"shutdownGracePeriod", "taskTimeout", "checkInterval", "timeout"}
ADDRESSES = {"address", "avsAddress", "avsRegistrarAddress", "operatorAddress"}


def _kind(key: str, value: object) -> str:
    if isinstance(value, dict):
        return "block"
    if isinstance(value, list):
        return "list"
    if key in CHOICES:
        return "choice"
    if key in DURATIONS:
        return "duration"
    if key in ADDRESSES:
        return "address"
    if key == "publicKey":
        return "publicKey"
    return KIND_OF_LEAF[key]


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
    """Yield (path, key, value) for every mapping key below `node`, through lists too."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _places(item, (*path, index))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), key, value
            if key != "keystore":
                yield from _places(value, (*path, key))


def _set(document: Any, path: tuple[Any, ...], value: object) -> None:
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _exists(document: Any, dotted: str) -> bool:
    node = document
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", dotted):
        if index:
            if not isinstance(node, list) or int(index) >= len(node):
                return False
            node = node[int(index)]
        elif isinstance(node, dict) and name in node:
            node = node[name]
        else:
            return False
    return True


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document with one field given a wrong type or value, or one unknown key added."""
    document, _ = draw(documents())
    places = list(_places(document))
    path, key, value = draw(st.sampled_from(places))
    if draw(st.integers(0, 9)) == 9:
        target = value if isinstance(value, dict) else document
        target["unexpectedKey"] = draw(st.sampled_from(WRONG_TYPES))
        return document
    choices = [bad for bad in BAD_VALUES[_kind(key, value)] if bad not in ALSO_VALID.get(key, [])]
    bad = draw(st.sampled_from(choices))
    _set(document, path, "missing.json" if key == "keystoreFile" else bad)
    return document


@PROPERTY_SETTINGS
@given(mutated())
def test_any_single_fault_gives_a_config_error_whose_paths_exist(
    base_dir: Path, document: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(document, base_dir=base_dir)
    assert caught.value.problems
    for line in caught.value.problems:
        path, _, problem = line.partition(": ")
        assert problem, line
        assert _exists(document, path), line
