"""Properties of key spelling over generated G1 and G2 documents.

Any mixture of case of the known keys (and the Go field names that differ from the tag) loads to
the same config as the camelCase document; an unknown key anywhere is reported at its canonical
path, spelt as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor_adapters.config import ConfigError
from tests.unit.config.samples import KEYSTORE_TEXT, load
from tests.unit.config.test_config_properties import KEYSTORE_NAME, addresses, documents

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ECDSA_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
OPAQUE = {"keystore", "contracts", "requests", "limits", "nodeSelector"}
"""Keys whose values are data, not blocks: their own keys are kept as written."""
GO_NAMES = {
    ("", "authentication"): "authConfig",
    ("authentication", "enabled"): "isEnabled",
    ("storage", "badger"): "badgerConfig",
    ("ecdsa", "remoteSigner"): "useRemoteSigner",
    ("operatorPrivateKey", "remoteSigner"): "useRemoteSigner",
}
"""(parent key, tag) -> the Go struct field name upstream's binary reads instead."""


@st.composite
def g2_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document of either generation: a G1 one, with any of the G2 keys added."""
    document, _ = draw(documents())
    maybe = st.booleans()
    if draw(maybe):
        document["l1Chain"] = {
            "rpcUrl": draw(st.sampled_from(["http://127.0.0.1:8545", "https://rpc.example"])),
            "chainId": draw(st.integers(1, 2**32) | st.integers(1, 2**32).map(str)),
            "timeout": draw(st.sampled_from([1, "3s", "500ms"])),
            "contracts": {"taskMailbox": draw(addresses), "keyRegistrar": draw(addresses)},
        }
    if draw(maybe):
        document["managementServerGrpcPort"] = draw(st.integers(0, 65535))
    if draw(maybe):
        badger = {"dir": "/var/lib/executor", "inMemory": draw(st.booleans())}
        document["storage"] = {"type": draw(st.sampled_from(["memory", "badger"]))}
        if draw(maybe) or document["storage"]["type"] == "badger":  # badger needs its dir
            document["storage"]["badger"] = badger
    if draw(maybe):
        document["authentication"] = {"enabled": False}
    if draw(maybe):
        document["deduplication"] = {"retention": "2h", "maxEntries": draw(st.integers(1, 10**6))}
    kubernetes = draw(maybe)
    if kubernetes and "performerNetworkName" in document:  # a NetworkPolicy's name there
        document["performerNetworkName"] = document["performerNetworkName"].replace("_", "-")
    if draw(maybe):
        document["kubernetes"] = {"namespace": "default", "inCluster": draw(st.booleans())}
        if kubernetes:
            document["kubernetes"] |= {
                "connectionTimeout": draw(st.sampled_from(["30s", 10, "1m"])),
                "kubeConfigPath": "kube/config",
                "performerEndpoint": draw(st.sampled_from(["service", "portForward"])),
                "operatorNamespace": "hourglass-system",
                "crdGroup": "hourglass.eigenlayer.io",
                "crdVersion": "v1alpha1",
            }
    if draw(maybe):
        document["contracts"] = [{"Name": "TaskMailbox", "ChainId": 1}]
    if draw(maybe):
        mailbox = {"chainIds": [31337], "contract": '{"name": "TaskMailbox"}'}
        document["overrideContracts"] = {"taskMailbox": mailbox}
    operator = document["operator"]
    if draw(maybe):
        operator["operatorPrivateKey"] = draw(
            st.just(ECDSA_KEY) | st.just({"privateKey": ECDSA_KEY, "remoteSigner": False})
        )
    if draw(maybe):
        ecdsa = {"privateKey": ECDSA_KEY, "remoteSigner": False}
        if draw(maybe):
            ecdsa["remoteSignerConfig"] = {"url": "https://signer", "fromAddress": draw(addresses)}
        operator["signingKeys"]["ecdsa"] = ecdsa
    for entry in document["avsPerformers"]:
        if draw(maybe):
            entry["envs"] = [{"name": "LOG_LEVEL", "value": "info", "type": "plain"}]
            if kubernetes:
                source = draw(st.sampled_from(["secretKeyRef", "configMapKeyRef"]))
                reference = {source: {"name": "avs-secrets", "key": "api-key"}}
                entry["envs"].append({"name": "SECRET", "kubernetesEnv": {"valueFrom": reference}})
        if kubernetes:
            entry["deploymentMode"] = "kubernetes"
        elif draw(maybe):
            entry["deploymentMode"] = "docker"
        if draw(maybe):
            entry["kubernetes"] = {"serviceAccountName": "performer"}
            if draw(maybe):
                entry["kubernetes"] |= {
                    "endpointOverride": "performer.example:8080",
                    "resources": {"requests": {"cpu": "500m"}, "limits": {"nvidia.com/gpu": 1}},
                    "nodeSelector": {"kubernetes.io/arch": "amd64"},
                }
        if draw(maybe):
            entry["acceptG1Tasks"] = True
    return document


def _recase(draw: st.DrawFn, node: Any, parent: str = "") -> Any:
    """Return `node` with every known key in a random case, or spelt as its Go field."""
    if isinstance(node, list):
        return [_recase(draw, item, parent) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        spelling = key
        if (parent, key) in GO_NAMES and draw(st.booleans()):
            spelling = GO_NAMES[parent, key]
        mask = draw(st.integers(0, 2 ** len(spelling) - 1))
        spelling = "".join(
            c.upper() if mask >> i & 1 else c.lower() for i, c in enumerate(spelling)
        )
        result[spelling] = value if key in OPAQUE else _recase(draw, value, key)
    return result


def _blocks(
    node: Any, path: str = "", at: tuple[int, ...] = ()
) -> list[tuple[str, tuple[int, ...]]]:
    """Every mapping below `node` that is a block: (its canonical path, its position)."""
    found: list[tuple[str, tuple[int, ...]]] = []
    if isinstance(node, dict):
        found.append((path, at))
        for index, (key, value) in enumerate(node.items()):
            if key not in OPAQUE:
                found += _blocks(value, f"{path}.{key}" if path else key, (*at, index))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _blocks(item, f"{path}[{index}]", (*at, index))
    return found


def _at(node: Any, position: tuple[int, ...]) -> Any:
    for index in position:
        node = list(node.values())[index] if isinstance(node, dict) else node[index]
    return node


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("spelling")
    (directory / KEYSTORE_NAME).write_text(KEYSTORE_TEXT, encoding="utf-8")
    return directory


@SETTINGS
@given(st.data())
def test_any_mixture_of_case_of_known_keys_loads_the_same_config(
    base_dir: Path, data: st.DataObject
) -> None:
    document = data.draw(g2_documents())
    recased = data.draw(st.composite(lambda draw: _recase(draw, document))())
    assert load(recased, base_dir=base_dir) == load(document, base_dir=base_dir)


@SETTINGS
@given(st.data())
def test_an_unknown_key_is_always_reported_at_its_path(base_dir: Path, data: st.DataObject) -> None:
    document = data.draw(g2_documents())
    recased = data.draw(st.composite(lambda draw: _recase(draw, document))())
    path, position = data.draw(st.sampled_from(_blocks(document)))
    key = data.draw(st.from_regex(r"zz[A-Za-z0-9_]{0,10}", fullmatch=True))
    value = data.draw(st.sampled_from(["text", 1, True, None, [1], {"a": 1}]))
    _at(recased, position)[key] = value
    with pytest.raises(ConfigError) as caught:
        load(recased, base_dir=base_dir)
    where = f"{path}.{key}" if path else key
    assert f"{where}: unknown key" in caught.value.problems
