"""Second-generation (G2) keys, devkit's generated file, both spellings, and ignored keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from ruamel.yaml import YAML

from executor_adapters.config import (
    AvsPerformerConfig,
    ConfigError,
    ContractOverrides,
    DeduplicationConfig,
    EnvVarConfig,
    ExecutorConfig,
    IgnoredKey,
    L1ChainConfig,
    SigningCurve,
    StorageConfig,
    load_config,
    parse_config,
)
from executor_core.addresses import Address, AvsAddress
from executor_core.performers import PerformerImage
from tests.unit.config.samples import (
    AVS,
    KEYSTORE_FILE,
    KEYSTORE_TEXT,
    OTHER_AVS,
    PEER,
    REPO,
    dump,
    load,
    minimal,
    performer,
    with_value,
    without,
)

HERE = Path(__file__).resolve().parent
DEVKIT_FILE = HERE / "devkit_executor.yaml"
G2_EXAMPLE = REPO / "examples" / "config" / "executor-g2.yaml"
ECDSA_KEY = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
CHAIN = {"rpcUrl": "http://127.0.0.1:8545", "chainId": 31337}


def problems_of(document: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(document, **kwargs)
    return caught.value.problems


def g2(**top: Any) -> dict[str, Any]:
    """A minimal G2 document: `l1Chain` set, the performer checks signatures (peers on chain)."""
    document = without(minimal(), "avsPerformers.0.verifyAggregatorSignature")
    return document | {"l1Chain": dict(CHAIN)} | top


def ignored_paths(config: ExecutorConfig) -> list[str]:
    return [key.path for key in config.ignored_keys]


# --- devkit's file and the G2 example --------------------------------------------------------


def test_devkits_generated_executor_yaml_loads_unchanged() -> None:
    config = load_config(DEVKIT_FILE, environ={})
    assert (config.grpc_port, config.management_port) == (9090, 9090)
    assert config.performer_network_name == "hourglass-local_hourglass-network"
    assert config.operator.address == Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")
    bls = config.operator.signing_keys.bls
    assert bls is not None
    assert json.loads(bls.keystore) == json.loads(KEYSTORE_TEXT)
    assert (bls.source, bls.password) == ("inline keystore", "")
    assert config.l1_chain == L1ChainConfig(
        rpc_url="http://host.docker.internal:8545", chain_id=31337
    )
    (entry,) = config.avs_performers
    assert entry.image == PerformerImage(repository="my-avs", tag="latest")
    assert entry.avs_address == AvsAddress(AVS)
    assert (entry.process_type, entry.worker_count, entry.signing_curve) == ("server", 1, "bn254")
    assert entry.avs_registrar_address == Address("0xf4c5c29b14f0237131f7510a51684c8191f98e06")
    assert entry.envs == (EnvVarConfig(name="LOG_LEVEL", value="info"),)
    assert entry.verify_aggregator_signature is True
    assert (config.accepts_g1(entry), config.accepts_g2) == (False, True)
    assert config.storage == StorageConfig()
    assert config.authentication_enabled is False
    assert ignored_paths(config) == ["operator.operatorPrivateKey", "overrideContracts"]


def test_the_g2_example_in_the_upstream_docs_shape_loads() -> None:
    config = load_config(G2_EXAMPLE, environ={})
    assert (config.grpc_port, config.management_server_grpc_port) == (9090, 9091)
    assert config.management_port == 9091
    keys = config.operator.signing_keys
    assert keys.bls is not None
    assert keys.bls.source == str(KEYSTORE_FILE)
    assert keys.ecdsa is not None
    assert keys.ecdsa.private_key == ECDSA_KEY
    assert config.l1_chain == L1ChainConfig(rpc_url="http://127.0.0.1:8545", chain_id=31337)
    (entry,) = config.avs_performers
    assert (entry.deployment_mode, entry.signing_curve) == ("docker", SigningCurve.BN254)
    assert entry.envs == (EnvVarConfig(name="LOG_LEVEL", value="debug"),)
    assert config.storage.type == "badger"
    assert config.storage.database_dir == "/var/lib/executor"
    assert config.authentication_enabled is False
    assert ignored_paths(config) == ["operator.operatorPrivateKey"]


GO_FIELD_NAMES = {
    "grpcPort": "GrpcPort",
    "managementServerGrpcPort": "ManagementServerGrpcPort",
    "performerNetworkName": "PerformerNetworkName",
    "operator": "Operator",
    "address": "Address",
    "operatorPrivateKey": "OperatorPrivateKey",
    "privateKey": "PrivateKey",
    "signingKeys": "SigningKeys",
    "bls": "BLS",
    "ecdsa": "ECDSA",
    "keystoreFile": "KeystoreFile",
    "password": "Password",
    "remoteSigner": "UseRemoteSigner",
    "l1Chain": "L1Chain",
    "rpcUrl": "RpcURL",
    "chainId": "ChainID",
    "avsPerformers": "AvsPerformers",
    "image": "Image",
    "repository": "Repository",
    "tag": "Tag",
    "processType": "ProcessType",
    "avsAddress": "AvsAddress",
    "deploymentMode": "DeploymentMode",
    "envs": "Envs",
    "name": "Name",
    "value": "Value",
    "storage": "Storage",
    "type": "Type",
    "badger": "BadgerConfig",
    "dir": "Dir",
    "authentication": "AuthConfig",
    "enabled": "IsEnabled",
}


def _go_spelling(node: Any) -> Any:
    if isinstance(node, list):
        return [_go_spelling(item) for item in node]
    if isinstance(node, dict):
        return {GO_FIELD_NAMES[key]: _go_spelling(value) for key, value in node.items()}
    return node


def test_the_g2_example_written_with_go_field_names_loads_to_the_same_config() -> None:
    document = YAML(typ="safe").load(G2_EXAMPLE.read_text(encoding="utf-8"))
    text = dump(_go_spelling(document))
    assert "AuthConfig" in text
    assert "BadgerConfig" in text
    assert "IsEnabled" in text
    go = parse_config(text, base_dir=G2_EXAMPLE.parent, environ={})
    assert go == load_config(G2_EXAMPLE, environ={})


# --- both spellings ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["grpcPort", "GrpcPort", "grpcport", "GRPCPORT"])
def test_a_key_may_be_spelt_as_its_tag_or_its_go_field_in_any_case(key: str) -> None:
    assert load(minimal() | {key: 9500}).grpc_port == 9500


@pytest.mark.parametrize(
    ("path", "tag_form", "go_form"),
    [
        ("authentication", {"enabled": False}, None),
        ("authConfig", None, {"isEnabled": False}),
        ("storage", {"type": "badger", "badger": {"dir": "/d"}},
         {"type": "badger", "badgerConfig": {"dir": "/d"}}),
        ("operator.signingKeys.ecdsa", {"privateKey": ECDSA_KEY, "remoteSigner": False},
         {"privateKey": ECDSA_KEY, "useRemoteSigner": False}),
        ("operator.operatorPrivateKey", {"privateKey": "0x11", "remoteSigner": True},
         {"privateKey": "0x11", "useRemoteSigner": True}),
    ],
)  # fmt: skip
def test_go_field_names_that_differ_from_the_tag_are_accepted(
    path: str, tag_form: dict[str, Any] | None, go_form: dict[str, Any] | None
) -> None:
    if tag_form is None or go_form is None:  # the key itself is aliased
        tag = load(minimal() | {"authentication": {"enabled": False}})
        assert load(minimal() | {path: go_form or tag_form}) == tag
        return
    assert load(with_value(minimal(), path, go_form)) == load(with_value(minimal(), path, tag_form))


def test_the_same_key_in_two_spellings_is_an_error_naming_both() -> None:
    text = dump(minimal()) + "grpcPort: 9090\nGrpcPort: 9091\nauthentication: {}\nAuthConfig: {}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, base_dir=REPO, environ={})
    assert caught.value.problems == [
        "grpcPort: given twice, as grpcPort and GrpcPort; keep one",
        "authentication: given twice, as authentication and AuthConfig; keep one",
    ]


def test_errors_name_the_canonical_spelling_and_unknown_keys_their_own() -> None:
    document = minimal() | {"GRPCPORT": 0, "GrpcPot": 1}
    document["avsPerformers"][0]["WORKERCOUNT"] = 0
    assert sorted(problems_of(document)) == [
        "GrpcPot: unknown key",
        "avsPerformers[0].workerCount: must be an integer of at least 1",
        "grpcPort: must be an integer between 1 and 65535",
    ]


def test_an_inline_keystore_mapping_keeps_its_keys_as_written() -> None:
    keystore = {"Crypto": {"KDF": 1}, "crypto": {"kdf": 2}}
    config = load(with_value(minimal(), "operator.signingKeys.bls", {"keystore": keystore}))
    bls = config.operator.signing_keys.bls
    assert bls is not None
    assert json.loads(bls.keystore) == keystore


def test_the_loaders_own_attributes_are_not_file_keys() -> None:
    document = minimal() | {"ignoredKeys": [], "authenticationEnabled": False}
    assert problems_of(document) == [
        "authenticationEnabled: unknown key",
        "ignoredKeys: unknown key",
    ]


# --- managementServerGrpcPort -----------------------------------------------------------------


def test_the_management_port_defaults_to_the_grpc_listener() -> None:
    config = load(minimal() | {"grpcPort": 9100})
    assert (config.management_server_grpc_port, config.management_port) == (0, 9100)
    assert load(minimal() | {"managementServerGrpcPort": 9091}).management_port == 9091


@pytest.mark.parametrize("port", [-1, 65536, "9091", True])
def test_a_bad_management_port_is_reported(port: object) -> None:
    assert problems_of(minimal() | {"managementServerGrpcPort": port}) == [
        "managementServerGrpcPort: must be an integer between 0 and 65535"
    ]


@pytest.mark.parametrize(
    "variable", ["EXECUTOR_MANAGEMENT_SERVER_GRPC_PORT", "EXECUTOR__MANAGEMENT_SERVER_GRPC_PORT"]
)
def test_the_environment_overrides_the_management_port(variable: str) -> None:
    config = load(minimal() | {"managementServerGrpcPort": 9091}, environ={variable: "9200"})
    assert config.management_server_grpc_port == 9200


def test_a_management_api_sharing_the_grpc_port_follows_the_cli_port() -> None:
    shared = load(minimal() | {"grpcPort": 9090, "managementServerGrpcPort": 9090})
    assert shared.with_grpc_port(9300).management_port == 9300
    own = load(minimal() | {"managementServerGrpcPort": 9091})
    assert own.with_grpc_port(9300).management_port == 9091
    assert load(minimal()).with_grpc_port(9300).management_port == 9300


# --- operator keys ----------------------------------------------------------------------------


def test_the_g2_ecdsa_form_with_a_local_key_is_read_and_its_remote_config_ignored() -> None:
    ecdsa = {
        "privateKey": "0x" + ECDSA_KEY,
        "remoteSigner": False,
        "remoteSignerConfig": {"url": "https://signer", "fromAddress": PEER, "publicKey": "0x"},
    }
    config = load(with_value(minimal(), "operator.signingKeys.ecdsa", ecdsa))
    key = config.operator.signing_keys.ecdsa
    assert key is not None
    assert key.private_key == ECDSA_KEY
    assert ignored_paths(config) == ["operator.signingKeys.ecdsa.remoteSignerConfig"]


def test_a_remote_signer_is_refused() -> None:
    ecdsa = {"privateKey": ECDSA_KEY, "remoteSigner": True}
    assert problems_of(with_value(minimal(), "operator.signingKeys.ecdsa", ecdsa)) == [
        "operator.signingKeys.ecdsa.remoteSigner: remote signers are not supported; "
        "give privateKey or a keystore"
    ]


def test_the_operator_private_key_object_is_checked_though_unused() -> None:
    bad = {"privateKey": 5, "remoteSigner": "yes", "extra": 1}
    assert sorted(problems_of(with_value(minimal(), "operator.operatorPrivateKey", bad))) == [
        "operator.operatorPrivateKey.extra: unknown key",
        "operator.operatorPrivateKey.privateKey: must be a string (quote numbers and booleans)",
        "operator.operatorPrivateKey.remoteSigner: must be true or false",
    ]


def test_the_operator_private_key_is_not_required() -> None:
    assert "operatorPrivateKey" not in minimal()["operator"]
    assert load(minimal()).ignored_keys == ()


# --- l1Chain ----------------------------------------------------------------------------------


def test_l1_chain_is_read_with_its_defaults() -> None:
    config = load(g2())
    assert config.l1_chain == L1ChainConfig(rpc_url="http://127.0.0.1:8545", chain_id=31337)
    assert config.l1_chain.timeout == 5.0
    assert config.l1_chain.contracts == ContractOverrides()


def test_l1_chain_takes_a_quoted_chain_id_a_timeout_and_contract_addresses() -> None:
    chain = {
        "rpcUrl": "https://rpc.example/v1?key=x",
        "chainId": "11155111",
        "timeout": "2s",
        "contracts": {
            "allocationManager": PEER,
            "keyRegistrar": AVS,
            "taskMailbox": OTHER_AVS,
            "bn254CertificateVerifier": PEER,
            "ecdsaCertificateVerifier": AVS,
        },
    }
    chain_config = load(g2(l1Chain=chain)).l1_chain
    assert chain_config is not None
    assert (chain_config.chain_id, chain_config.timeout) == (11155111, 2.0)
    assert chain_config.contracts == ContractOverrides(
        allocation_manager=Address(PEER),
        key_registrar=Address(AVS),
        task_mailbox=Address(OTHER_AVS),
        bn254_certificate_verifier=Address(PEER),
        ecdsa_certificate_verifier=Address(AVS),
    )


def test_l1_chain_without_a_chain_id_accepts_what_the_rpc_reports() -> None:
    chain_config = load(g2(l1Chain={"rpcUrl": "http://node:8545"})).l1_chain
    assert chain_config is not None
    assert chain_config.chain_id is None


@pytest.mark.parametrize(
    ("chain", "line"),
    [
        ({"rpcUrl": "ws://node:8546"},
         "l1Chain.rpcUrl: must be an http:// or https:// URL (JSON-RPC over HTTP)"),
        ({"rpcUrl": "node:8545"},
         "l1Chain.rpcUrl: must be an http:// or https:// URL (JSON-RPC over HTTP)"),
        ({"chainId": 1}, "l1Chain.rpcUrl: required"),
        ({"rpcUrl": "http://n", "chainId": "0x7a69"},
         "l1Chain.chainId: must be a chain ID: an integer, or decimal digits in quotes"),
        ({"rpcUrl": "http://n", "chainId": 0},
         "l1Chain.chainId: must be an integer between 1 and 18446744073709551615"),
        ({"rpcUrl": "http://n", "timeout": 0}, "l1Chain.timeout: must be greater than 0"),
        ({"rpcUrl": "http://n", "contracts": {"taskMailbox": "0x12"}},
         "l1Chain.contracts.taskMailbox: must be 0x followed by 40 hex digits, got '0x12'"),
        ({"rpcUrl": "http://n", "contracts": {"registry": PEER}},
         "l1Chain.contracts.registry: unknown key"),
        ({"rpcUrl": "http://n", "wsUrl": "ws://n"}, "l1Chain.wsUrl: unknown key"),
    ],
)  # fmt: skip
def test_a_bad_l1_chain_is_reported_at_its_key(chain: dict[str, Any], line: str) -> None:
    assert problems_of(g2(l1Chain=chain)) == [line]


# --- task generations -------------------------------------------------------------------------

PEERING = {"simulation": {"simulatePeering": {"enabled": True}}}


@pytest.mark.parametrize(
    ("extra", "accept_key", "g1", "g2_tasks"),
    [
        ({}, None, True, False),  # a G1 file, as the seed's
        (PEERING, None, True, False),
        ({"l1Chain": CHAIN}, None, False, True),  # a G2 file never takes G1 tasks by omission
        ({"l1Chain": CHAIN} | PEERING, None, True, True),
        ({"l1Chain": CHAIN}, True, True, True),
        ({"l1Chain": CHAIN} | PEERING, False, False, True),
        ({}, True, True, False),
    ],
)
def test_which_task_generations_an_avs_accepts(
    extra: dict[str, Any], accept_key: bool | None, g1: bool, g2_tasks: bool
) -> None:
    document = minimal() | extra
    if accept_key is not None:
        document["avsPerformers"][0]["acceptG1Tasks"] = accept_key
    config = load(document)
    (entry,) = config.avs_performers
    assert entry.accept_g1_tasks is accept_key
    assert (config.accepts_g1(entry), config.accepts_g2) == (g1, g2_tasks)


def test_an_avs_not_in_the_file_accepts_g1_tasks_by_the_same_default() -> None:
    assert load(minimal()).accepts_g1() is True
    assert load(g2()).accepts_g1() is False
    assert load(g2() | PEERING).accepts_g1() is True


def test_an_avs_that_would_accept_no_tasks_is_an_error() -> None:
    document = with_value(minimal(), "avsPerformers.0.acceptG1Tasks", False)
    assert problems_of(document) == [
        "avsPerformers[0].acceptG1Tasks: this AVS would accept no tasks, since G2 tasks need "
        "l1Chain; set l1Chain or remove this key"
    ]


def test_with_l1_chain_the_performer_list_may_be_empty_or_absent() -> None:
    assert load(g2(avsPerformers=[])).avs_performers == ()
    assert load(without(g2(), "avsPerformers")).avs_performers == ()


def test_with_l1_chain_aggregator_signatures_may_be_checked_without_simulated_peers() -> None:
    assert load(g2()).avs_performers[0].verify_aggregator_signature is True


# --- performers -------------------------------------------------------------------------------


def test_the_signing_curve_defaults_to_bn254() -> None:
    entry = load(without(minimal(), "avsPerformers.0.signingCurve")).avs_performers[0]
    assert entry.signing_curve is SigningCurve.BN254


def test_envs_take_a_value_or_one_read_from_the_environment() -> None:
    envs = [
        {"name": "LOG_LEVEL", "value": "info", "type": "plain"},
        {"name": "API_KEY", "valueFromEnv": "MY_API_KEY"},
        {"name": "EMPTY"},
    ]
    config = load(with_value(minimal(), "avsPerformers.0.envs", envs), environ={"MY_API_KEY": "k"})
    assert config.avs_performers[0].envs == (
        EnvVarConfig(name="LOG_LEVEL", value="info"),
        EnvVarConfig(name="API_KEY", value="k", value_from_env="MY_API_KEY"),
        EnvVarConfig(name="EMPTY"),
    )


def test_a_kubernetes_env_is_refused_for_an_avs_on_docker() -> None:
    env = {
        "name": "SECRET",
        "kubernetesEnv": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
    }
    assert problems_of(with_value(minimal(), "avsPerformers.0.envs", [{"name": "A"}, env])) == [
        "avsPerformers[0].envs[1].kubernetesEnv: needs deploymentMode kubernetes; this AVS runs "
        "on Docker, which has no Secrets or ConfigMaps (give value or valueFromEnv)"
    ]


@pytest.mark.parametrize(
    ("envs", "line"),
    [
        ([{"name": "A", "valueFromEnv": "NOT_SET"}],
         "avsPerformers[0].envs[0].valueFromEnv: environment variable NOT_SET is not set"),
        ([{"name": "A", "value": "x", "valueFromEnv": "HOME"}],
         "avsPerformers[0].envs[0]: give at most one of value, valueFromEnv"),
        ([{"value": "x"}], "avsPerformers[0].envs[0].name: required"),
        ([{"name": "1A"}], "avsPerformers[0].envs[0].name: must be an environment variable name "
         "(letters, digits, _; no leading digit)"),
        ([{"name": "A", "type": "secret"}], "avsPerformers[0].envs[0].type: must be plain"),
        ([{"name": "A", "value": 1}],
         "avsPerformers[0].envs[0].value: must be a string (quote numbers and booleans)"),
        ([{"name": "A"}, {"name": "A"}], "avsPerformers[0].envs: A given more than once"),
        ([{"name": "A", "kubernetesEnv": {"valueFrom": {"fieldRef": {}}}}],
         "avsPerformers[0].envs[0].kubernetesEnv.valueFrom.fieldRef: unknown key"),
        ({"name": "A"}, "avsPerformers[0].envs: must be a list"),
    ],
)  # fmt: skip
def test_a_bad_env_is_reported_at_its_key(envs: object, line: str) -> None:
    assert problems_of(with_value(minimal(), "avsPerformers.0.envs", envs), environ={}) == [line]


def test_the_deployment_mode_is_docker_or_kubernetes() -> None:
    for mode in ("docker", "kubernetes"):
        config = load(with_value(minimal(), "avsPerformers.0.deploymentMode", mode))
        assert config.deployment_mode == config.avs_performers[0].deployment_mode == mode
    assert load(minimal()).deployment_mode == "docker"
    assert problems_of(with_value(minimal(), "avsPerformers.0.deploymentMode", "podman")) == [
        "avsPerformers[0].deploymentMode: must be one of docker, kubernetes"
    ]


def test_kubernetes_blocks_of_a_docker_file_are_checked_and_recorded_as_ignored() -> None:
    document = minimal() | {
        "kubernetes": {
            "namespace": "default",
            "operatorNamespace": "hourglass-system",
            "crdGroup": "hourglass.eigenlayer.io",
            "crdVersion": "v1alpha1",
            "connectionTimeout": "30s",
            "kubeConfigPath": "~/.kube/config",
            "inCluster": False,
        }
    }
    document["avsPerformers"][0]["kubernetes"] = {
        "serviceAccountName": "performer",
        "endpointOverride": "performer.example:8080",
    }
    config = load(document)
    assert config.ignored_keys == (
        IgnoredKey(
            path="avsPerformers[0].kubernetes",
            reason="this AVS runs on Docker (deploymentMode docker)",
        ),
        IgnoredKey(
            path="kubernetes",
            reason="no avsPerformers entry has deploymentMode kubernetes: performers run on Docker",
        ),
    )  # the keys inside `kubernetes` that are never used are not listed again
    assert problems_of(minimal() | {"kubernetes": {"namespaces": "x"}}) == [
        "kubernetes.namespaces: unknown key"
    ]
    document["avsPerformers"][0]["kubernetes"]["endpointOverride"] = "http://x"
    assert problems_of(document) == [
        "avsPerformers[0].kubernetes.endpointOverride: must be host:port, such as "
        "performer.example:8080 (no scheme)"
    ]


# --- storage, authentication, deduplication ---------------------------------------------------


def test_storage_defaults_to_memory_and_badgers_directory_holds_our_database() -> None:
    assert load(minimal()).storage == StorageConfig(type="memory")
    assert load(minimal()).storage.database_dir is None
    config = load(minimal() | {"storage": {"type": "badger", "badger": {"dir": "/data"}}})
    assert (config.storage.type, config.storage.database_dir) == ("badger", "/data")
    assert config.ignored_keys == ()
    sqlite = load(minimal() | {"storage": {"type": "sqlite", "dir": "/state"}})
    assert sqlite.storage.database_dir == "/state"
    memory = load(minimal() | {"storage": {"type": "memory", "badger": {"dir": "/x"}}})
    assert memory.storage.database_dir is None


@pytest.mark.parametrize(
    ("storage", "line"),
    [
        ({"type": "disk"}, "storage.type: must be one of memory, badger, sqlite"),
        ({"type": "sqlite"}, "storage.dir: required with storage.type sqlite"),
        ({"type": "badger", "badger": {"inMemory": True}},
         "storage.badger.dir: required with storage.type badger (or give storage.dir)"),
        ({"badger": {"dir": 1}},
         "storage.badger.dir: must be a string (quote numbers and booleans)"),
        ({"badger": {"numVersionsToKeep": -1}},
         "storage.badger.numVersionsToKeep: must be an integer of at least 0"),
        ({"badger": {"path": "/d"}}, "storage.badger.path: unknown key"),
    ],
)  # fmt: skip
def test_a_bad_storage_block_is_reported(storage: dict[str, Any], line: str) -> None:
    assert problems_of(minimal() | {"storage": storage}) == [line]


def test_authentication_turns_on_with_authorised_keys_and_binding() -> None:
    assert load(minimal() | {"authentication": {"enabled": False}}).authentication_enabled is False
    admin = "0x" + "ab" * 20
    config = load(
        minimal()
        | {
            "authentication": {"enabled": True},
            "management": {
                "authorizedKeys": [
                    {"ecdsaAddress": admin, "name": "laptop"},
                    {"bn254PublicKey": "0x" + "cd" * 128},
                ],
                "requireRequestBinding": True,
            },
        }
    )
    assert config.authentication_enabled
    first, second = config.management.authorized_keys
    assert (first.ecdsa_address, first.name) == (Address(admin), "laptop")
    assert second.bn254_public_key == bytes.fromhex("cd" * 128)
    assert config.management.require_request_binding


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ({}, "management.authorizedKeys[0]: give exactly one of ecdsaAddress and bn254PublicKey"),
        ({"ecdsaAddress": "0x" + "ab" * 20, "bn254PublicKey": "cd" * 128},
         "management.authorizedKeys[0]: give exactly one of ecdsaAddress and bn254PublicKey"),
        ({"bn254PublicKey": "cd" * 64},
         "management.authorizedKeys[0].bn254PublicKey: must be 256 hex digits (a 128-byte G2 "
         "point), 0x optional"),
        ({"ecdsaAddress": "0x12"},
         "management.authorizedKeys[0].ecdsaAddress: must be 0x followed by 40 hex digits, "
         "got '0x12'"),
        ({"address": "0x" + "ab" * 20}, "management.authorizedKeys[0].address: unknown key"),
    ],
)  # fmt: skip
def test_a_bad_authorised_key_is_reported(key: dict[str, Any], line: str) -> None:
    document = minimal() | {
        "authentication": {"enabled": True},
        "management": {"authorizedKeys": [key]},
    }
    assert line in problems_of(document)


def test_authentication_needs_some_key_that_can_sign() -> None:
    document = without(minimal(), "operator.signingKeys.bls") | {
        "authentication": {"enabled": True}
    }
    document["operator"]["signingKeys"] = {"bls381": {"keystoreFile": str(KEYSTORE_FILE)}}
    document["avsPerformers"][0]["signingCurve"] = "bls381"
    assert problems_of(document) == [
        "authentication.enabled: no key could sign management calls; give "
        "operator.signingKeys.ecdsa or .bls, or list management.authorizedKeys"
    ]


def test_keys_that_need_authentication_are_ignored_without_it_and_vice_versa() -> None:
    off = load(
        minimal()
        | {
            "management": {
                "authorizedKeys": [{"ecdsaAddress": "0x" + "ab" * 20}],
                "requireRequestBinding": True,
            }
        }
    )
    on = load(
        minimal()
        | {"authentication": {"enabled": True}, "management": {"allowRemoteWithoutAuth": True}}
    )
    assert ignored_paths(off) == ["management.authorizedKeys", "management.requireRequestBinding"]
    assert ignored_paths(on) == ["management.allowRemoteWithoutAuth"]


def test_deduplication_has_defaults_and_reads_durations() -> None:
    assert load(minimal()).deduplication == DeduplicationConfig(
        retention=86400.0, max_entries=100_000, max_bytes=268_435_456
    )
    block = {"retention": "1h", "maxEntries": 10, "maxBytes": 4096}
    assert load(minimal() | {"deduplication": block}).deduplication == DeduplicationConfig(
        retention=3600.0, max_entries=10, max_bytes=4096
    )
    bad = {"maxEntries": 0, "retention": 0}
    assert sorted(problems_of(minimal() | {"deduplication": bad})) == [
        "deduplication.maxEntries: must be an integer of at least 1",
        "deduplication.retention: must be greater than 0",
    ]


def test_override_contracts_are_checked_though_unused() -> None:
    bad = {"taskMailbox": {"chainIds": ["x"], "contract": {}}}
    assert problems_of(minimal() | {"overrideContracts": bad}) == [
        "overrideContracts.taskMailbox.chainIds: must be a list of chain IDs (integers)",
        "overrideContracts.taskMailbox.contract: must be a string (quote numbers and booleans)",
    ]


# --- values built in code ---------------------------------------------------------------------


def test_g2_values_built_in_code_are_validated_like_the_file() -> None:
    with pytest.raises(ValueError, match="JSON-RPC over HTTP"):
        L1ChainConfig(rpc_url="wss://node")
    with pytest.raises(ValueError, match="environment variable name"):
        EnvVarConfig(name="A-B")
    with pytest.raises(ValueError, match="must be one of memory, badger"):
        StorageConfig(type="disk")
    with pytest.raises(ValueError, match="must be a non-empty string"):
        IgnoredKey(path="", reason="x")
    entry = load(minimal()).avs_performers[0]
    with pytest.raises(ValueError, match="must be one of docker, kubernetes"):
        attrs.evolve(entry, deployment_mode="podman")
    assert isinstance(attrs.evolve(entry, accept_g1_tasks=True), AvsPerformerConfig)
    assert performer()["avsAddress"] == AVS
