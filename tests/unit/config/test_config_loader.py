"""The config file: what a valid one yields, every default, and how each fault is reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from executor_adapters.config import (
    PASSWORD_ENV,
    AvsPerformerConfig,
    ConfigError,
    ExecutorConfig,
    HealthCheckConfig,
    LogFormat,
    LogLevel,
    SigningCurve,
    load_config,
    parse_config,
)
from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ExecutorError
from executor_core.performers import PerformerImage
from tests.unit.config.samples import (
    AVS,
    KEYSTORE_FILE,
    KEYSTORE_TEXT,
    OPERATOR,
    OTHER_AVS,
    PEER,
    PUBLIC_KEY,
    REPO,
    dump,
    load,
    minimal,
    performer,
    with_value,
    without,
)


def problems_of(document: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(document, **kwargs)
    return caught.value.problems


def bls_with(**keys: Any) -> dict[str, Any]:
    return with_value(minimal(), "operator.signingKeys.bls", keys)


# --- valid files ---------------------------------------------------------------------------


def test_a_minimal_file_loads_with_its_values() -> None:
    config = load(minimal())
    assert config.operator.address == Address(OPERATOR)
    bls = config.operator.signing_keys.bls
    assert (bls.keystore, bls.source) == (KEYSTORE_TEXT, "inline keystore")
    (entry,) = config.avs_performers
    assert entry.avs_address == AvsAddress(AVS)
    assert entry.image == PerformerImage(repository="hourglass-example-performer", tag="latest")
    assert entry.signing_curve is SigningCurve.BN254


def test_every_omitted_key_takes_its_default() -> None:
    config = load(minimal())
    assert config.grpc_port == 9090
    assert config.debug is False
    assert config.performer_network_name == ""
    assert config.operator.signing_keys.bls.password == ""
    assert config.shutdown_grace_period == 10.0
    assert config.task_timeout == 60.0
    assert config.max_message_size == 4 * 1024 * 1024
    assert (config.logging.level, config.logging.format) == (LogLevel.INFO, LogFormat.JSON)
    assert config.simulation.simulate_peering.enabled is False
    assert config.simulation.simulate_peering.aggregator_peers == ()
    (entry,) = config.avs_performers
    assert entry.process_type == "server"
    assert (entry.worker_count, entry.task_queue_size) == (1, 64)
    assert entry.avs_registrar_address is None
    assert entry.health == HealthCheckConfig(check_interval=15.0, timeout=1.0)


def test_every_key_is_read_when_given() -> None:
    document = minimal() | {
        "grpcPort": 9500,
        "debug": True,
        "performerNetworkName": "hourglass-demo",
        "shutdownGracePeriod": "30s",
        "taskTimeout": 5,
        "maxMessageSize": 1024,
        "logging": {"level": "warning", "format": "text"},
        "simulation": {
            "simulatePeering": {
                "enabled": True,
                "aggregatorPeers": [
                    {
                        "networkAddress": "127.0.0.1:9000",
                        "publicKey": "0x" + PUBLIC_KEY.hex(),
                        "operatorAddress": PEER,
                        "operatorSetId": 3,
                    }
                ],
            }
        },
    }
    document["avsPerformers"][0] |= {
        "processType": "server",
        "workerCount": 4,
        "taskQueueSize": 0,
        "signingCurve": "bls381",
        "avsRegistrarAddress": PEER,
        "health": {"checkInterval": "5s", "timeout": "500ms"},
    }
    config = load(document)
    assert (config.grpc_port, config.debug) == (9500, True)
    assert config.performer_network_name == "hourglass-demo"
    assert (config.shutdown_grace_period, config.task_timeout) == (30.0, 5.0)
    assert config.max_message_size == 1024
    assert (config.logging.level, config.logging.format) == ("warning", "text")
    (peer,) = config.simulation.simulate_peering.aggregator_peers
    assert (peer.public_key, peer.operator_address) == (PUBLIC_KEY, Address(PEER))
    assert (peer.network_address, peer.operator_set_id) == ("127.0.0.1:9000", 3)
    (entry,) = config.avs_performers
    assert (entry.worker_count, entry.task_queue_size) == (4, 0)
    assert entry.signing_curve == "bls381"
    assert entry.avs_registrar_address == Address(PEER)
    assert entry.health == HealthCheckConfig(check_interval=5.0, timeout=0.5)


def test_json_is_read_as_well(tmp_path: Path) -> None:
    path = tmp_path / "executor.json"
    path.write_text(json.dumps(minimal()), encoding="utf-8")
    assert load_config(path, environ={}).avs_performers[0].avs_address == AvsAddress(AVS)


def test_unquoted_hex_addresses_and_keys_stay_text() -> None:
    document = minimal() | {
        "simulation": {
            "simulatePeering": {
                "aggregatorPeers": [{"publicKey": "0x" + PUBLIC_KEY.hex(), "operatorAddress": PEER}]
            }
        }
    }
    text = dump(document).replace(f"'{OPERATOR}'", OPERATOR).replace(f"'{PEER}'", PEER)
    text = text.replace(f"'0x{PUBLIC_KEY.hex()}'", f"0x{PUBLIC_KEY.hex()}")
    assert f"'{OPERATOR}'" not in text
    config = parse_config(text, base_dir=REPO, environ={})
    assert config.operator.address == Address(OPERATOR)
    assert config.simulation.simulate_peering.aggregator_peers[0].public_key == PUBLIC_KEY


@pytest.mark.parametrize(
    ("written", "seconds"),
    [(2, 2.0), (0.25, 0.25), ("15s", 15.0), ("500ms", 0.5), ("1m", 60.0), ("1m30s", 90.0),
     ("2.5s", 2.5), ("1h", 3600.0), ("10", 10.0)],
)  # fmt: skip
def test_durations_are_seconds_or_text_with_a_unit(written: object, seconds: float) -> None:
    config = load(with_value(minimal(), "avsPerformers.0.health", {"checkInterval": written}))
    assert config.avs_performers[0].health.check_interval == pytest.approx(seconds)


def test_g1_keys_the_executor_does_not_use_are_accepted_and_recorded_as_ignored() -> None:
    document = minimal() | {
        "contracts": [{"name": "TaskMailbox", "address": PEER}],
        "overrideContracts": {"taskMailbox": {"contract": "{}", "chainIds": [31337]}},
        "simulation": {"simulatePeering": {"enabled": False, "operatorPeers": [{"a": 1}]}},
    }
    document["operator"]["operatorPrivateKey"] = "0x" + "11" * 32
    config = load(document)
    assert attrs.evolve(config, ignored_keys=()) == load(minimal())
    assert sorted(key.path for key in config.ignored_keys) == [
        "contracts",
        "operator.operatorPrivateKey",
        "overrideContracts",
        "simulation.simulatePeering.operatorPeers",
    ]
    assert all(key.reason for key in config.ignored_keys)


def test_a_file_without_unused_keys_records_none() -> None:
    assert load(minimal()).ignored_keys == ()


def test_the_g2_object_form_of_the_operator_private_key_is_accepted() -> None:
    document = with_value(minimal(), "operator.operatorPrivateKey", {"privateKey": "0x11"})
    config = load(document)
    assert attrs.evolve(config, ignored_keys=()) == load(minimal())
    assert [key.path for key in config.ignored_keys] == ["operator.operatorPrivateKey"]


def test_the_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    config = load_config(REPO / "examples" / "config" / "executor.yaml", environ={})
    assert (config.grpc_port, config.performer_network_name) == (9090, "hourglass-demo")
    assert config.operator.signing_keys.bls.source == str(KEYSTORE_FILE)
    assert config.operator.signing_keys.bls.keystore == KEYSTORE_TEXT
    (entry,) = config.avs_performers
    assert (entry.worker_count, entry.health.check_interval, entry.health.timeout) == (4, 5, 1)
    (peer,) = config.simulation.simulate_peering.aggregator_peers
    assert peer.operator_address == Address(PEER)


# --- one fault, one line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "line"),
    [
        (with_value(minimal(), "avsPerformers.0.signingCurve", "bn25"),
         "avsPerformers[0].signingCurve: must be one of bn254, bls381, ecdsa"),
        (without(minimal(), "operator.address"), "operator.address: required"),
        (without(minimal(), "avsPerformers"),
         "avsPerformers: must list at least one performer unless l1Chain is set"),
        (without(minimal(), "operator.signingKeys.bls"),
         "operator.signingKeys: give at least one of bls, bls381, ecdsa"),
        (minimal() | {"grpcPort": 0}, "grpcPort: must be an integer between 1 and 65535"),
        (minimal() | {"grpcPort": 65536}, "grpcPort: must be an integer between 1 and 65535"),
        (minimal() | {"grpcPort": "9090"}, "grpcPort: must be an integer between 1 and 65535"),
        (minimal() | {"grpcPort": 90.5}, "grpcPort: must be an integer between 1 and 65535"),
        (minimal() | {"grpcPort": True}, "grpcPort: must be an integer between 1 and 65535"),
        (minimal() | {"debug": "yes"}, "debug: must be true or false"),
        (minimal() | {"foo": 1}, "foo: unknown key"),
        (with_value(minimal(), "avsPerformers.0.image.digest", "sha256:00"),
         "avsPerformers[0].image.digest: unknown key"),
        (with_value(minimal(), "avsPerformers.0.image.repository", "Not A Repo"),
         "avsPerformers[0].image.repository: not a valid image repository: 'Not A Repo'"),
        (with_value(minimal(), "avsPerformers.0.image.tag", ""),
         "avsPerformers[0].image.tag: must not be empty"),
        (with_value(minimal(), "avsPerformers.0.image", "repo:tag"),
         "avsPerformers[0].image: must be a mapping"),
        (with_value(minimal(), "avsPerformers.0.processType", "one-off"),
         "avsPerformers[0].processType: must be server"),
        (with_value(minimal(), "avsPerformers.0.workerCount", 0),
         "avsPerformers[0].workerCount: must be an integer of at least 1"),
        (with_value(minimal(), "avsPerformers.0.taskQueueSize", -1),
         "avsPerformers[0].taskQueueSize: must be an integer of at least 0"),
        (with_value(minimal(), "avsPerformers.0.avsAddress", "0x1234"),
         "avsPerformers[0].avsAddress: must be 0x followed by 40 hex digits, got '0x1234'"),
        (with_value(minimal(), "avsPerformers.0.health", {"checkInterval": 0}),
         "avsPerformers[0].health.checkInterval: must be greater than 0"),
        (with_value(minimal(), "avsPerformers.0.health", {"timeout": "-1s"}),
         "avsPerformers[0].health.timeout: must be greater than 0"),
        (with_value(minimal(), "avsPerformers.0.health", {"timeout": "soon"}),
         "avsPerformers[0].health.timeout: must be a duration: seconds as a number, "
         "or text such as 15s, 500ms, 1m"),
        (minimal() | {"avsPerformers": []},
         "avsPerformers: must list at least one performer unless l1Chain is set"),
        (minimal() | {"avsPerformers": {"a": 1}}, "avsPerformers: must be a list"),
        (minimal() | {"performerNetworkName": "no spaces"},
         "performerNetworkName: must be empty or a Docker network name (letters, digits, _ . -)"),
        (minimal() | {"maxMessageSize": 0},
         "maxMessageSize: must be an integer between 1 and 2147483647"),
        (minimal() | {"logging": {"level": "loud"}},
         "logging.level: must be one of debug, info, warning, error"),
        (minimal() | {"logging": {"format": "xml"}}, "logging.format: must be one of json, text"),
        (minimal() | {"simulation": {"simulatePeering": {"aggregatorPeers": [
            {"publicKey": "0x1234", "operatorAddress": PEER}]}}},
         "simulation.simulatePeering.aggregatorPeers[0].publicKey: must be 256 hex digits "
         "(a 128-byte G2 point), 0x optional"),
        (minimal() | {"simulation": {"simulatePeering": {"aggregatorPeers": [
            {"publicKey": PUBLIC_KEY.hex(), "operatorAddress": PEER, "operatorSetId": -1}]}}},
         "simulation.simulatePeering.aggregatorPeers[0].operatorSetId: "
         "must be an integer between 0 and 4294967295"),
        (with_value(minimal(), "operator.address", 5),
         "operator.address: must be a string (quote numbers and booleans)"),
        (with_value(minimal(), "operator.operatorPrivateKey", 5),
         "operator.operatorPrivateKey: must be a string or a mapping"),
        (minimal() | {"l1Chain": "mainnet"}, "l1Chain: must be a mapping"),
        (bls_with(), "operator.signingKeys.bls: give exactly one of keystore or keystoreFile"),
        (bls_with(keystore=KEYSTORE_TEXT, keystoreFile=str(KEYSTORE_FILE)),
         "operator.signingKeys.bls: give exactly one of keystore or keystoreFile"),
        (bls_with(keystore=KEYSTORE_TEXT, password="a", passwordEnv="B"),
         "operator.signingKeys.bls: give at most one of password, passwordFile, passwordEnv"),
        (bls_with(keystore="{not json"),
         "operator.signingKeys.bls.keystore: is not keystore JSON: "
         "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        (bls_with(keystore=KEYSTORE_TEXT, password=1234),
         "operator.signingKeys.bls.password: must be a string (quote numbers and booleans)"),
        (bls_with(keystore=KEYSTORE_TEXT, passwordEnv="NOT_SET_ANYWHERE"),
         "operator.signingKeys.bls.passwordEnv: environment variable NOT_SET_ANYWHERE is not set"),
    ],
)  # fmt: skip
def test_each_fault_is_reported_on_one_line_with_its_path(document: Any, line: str) -> None:
    assert problems_of(document) == [line]


def test_two_entries_for_one_avs_are_refused_whatever_the_case() -> None:
    document = minimal()
    document["avsPerformers"].append(performer(AVS.lower()))
    document["avsPerformers"].insert(1, performer(OTHER_AVS))
    assert problems_of(document) == [
        f"avsPerformers: avsAddress {AVS.lower()} appears in entries 0, 2 "
        "(addresses ignore case); each AVS may be listed once"
    ]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    document = minimal() | {"grpcPort": 0, "foo": 1, "bar": 2}
    document = with_value(document, "avsPerformers.0.signingCurve", "ed25519")
    document["avsPerformers"].append(without(performer(OTHER_AVS), "image.tag"))
    document = without(document, "operator.address")
    assert problems_of(document) == [
        "operator.address: required",
        "avsPerformers[0].signingCurve: must be one of bn254, bls381, ecdsa",
        "avsPerformers[1].image.tag: required",
        "grpcPort: must be an integer between 1 and 65535",
        "bar: unknown key",
        "foo: unknown key",
    ]


def test_the_error_is_an_executor_error_whose_text_is_every_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load(minimal() | {"grpcPort": 0, "debug": 1})
    assert isinstance(caught.value, ExecutorError)
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert len(caught.value.problems) == 2


# --- files that cannot be read or parsed ------------------------------------------------------


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.yaml")
    assert caught.value.problems == [
        f"{tmp_path / 'absent.yaml'}: cannot read: No such file or directory"
    ]


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "executor.yaml"
    path.write_text("grpcPort: 9090\noperator: [unclosed\ndebug: true\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (line,) = caught.value.problems
    assert line.startswith(f"{path}: line 3, column 6: ")


def test_a_duplicate_key_is_a_syntax_error() -> None:
    with pytest.raises(ConfigError, match=r"<config>: line 2, column 1: found duplicate key"):
        parse_config("debug: true\ndebug: false\n", base_dir=REPO, environ={})


@pytest.mark.parametrize(
    ("text", "line"),
    [("", "<config>: is empty"), ("- 1\n", "<config>: must be a mapping of keys at the top level")],
)
def test_a_document_that_is_not_a_mapping_is_refused(text: str, line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, base_dir=REPO, environ={})
    assert caught.value.problems == [line]


# --- the BLS keystore and its password --------------------------------------------------------


def test_a_relative_keystore_file_is_found_next_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "conf").mkdir()
    (tmp_path / "keys" / "k.json").write_text(KEYSTORE_TEXT, encoding="utf-8")
    config_file = tmp_path / "conf" / "executor.yaml"
    config_file.write_text(dump(bls_with(keystoreFile="../keys/k.json")), encoding="utf-8")
    monkeypatch.chdir(REPO)
    bls = load_config(config_file, environ={}).operator.signing_keys.bls
    assert (bls.keystore, bls.source) == (KEYSTORE_TEXT, str(tmp_path / "keys" / "k.json"))


def test_an_absolute_keystore_file_is_read_as_given(tmp_path: Path) -> None:
    config = load(bls_with(keystoreFile=str(KEYSTORE_FILE)), base_dir=tmp_path)
    assert config.operator.signing_keys.bls.keystore == KEYSTORE_TEXT


def test_an_inline_keystore_may_be_a_yaml_mapping() -> None:
    config = load(bls_with(keystore=json.loads(KEYSTORE_TEXT)))
    keystore = config.operator.signing_keys.bls.keystore
    assert json.loads(keystore) == json.loads(KEYSTORE_TEXT)


def test_a_missing_keystore_file_is_reported_with_its_resolved_path(tmp_path: Path) -> None:
    assert problems_of(bls_with(keystoreFile="nope.json"), base_dir=tmp_path) == [
        f"operator.signingKeys.bls.keystoreFile: cannot read {tmp_path / 'nope.json'}: "
        "No such file or directory"
    ]


def test_a_keystore_file_that_is_not_json_is_reported(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text("[1, 2]", encoding="utf-8")
    assert problems_of(bls_with(keystoreFile="k.json"), base_dir=tmp_path) == [
        "operator.signingKeys.bls.keystoreFile: is not keystore JSON: expected an object"
    ]


def test_a_missing_password_file_is_reported(tmp_path: Path) -> None:
    document = bls_with(keystore=KEYSTORE_TEXT, passwordFile="pw.txt")
    assert problems_of(document, base_dir=tmp_path) == [
        f"operator.signingKeys.bls.passwordFile: cannot read {tmp_path / 'pw.txt'}: "
        "No such file or directory"
    ]


def test_a_password_file_loses_its_trailing_newline_only(tmp_path: Path) -> None:
    (tmp_path / "pw.txt").write_text(" s3cret \n", encoding="utf-8")
    config = load(bls_with(keystore=KEYSTORE_TEXT, passwordFile="pw.txt"), base_dir=tmp_path)
    assert config.operator.signing_keys.bls.password == " s3cret "


@pytest.mark.parametrize(
    ("keys", "environ", "password"),
    [
        ({"password": "inline"}, {PASSWORD_ENV: "fallback"}, "inline"),
        ({"password": ""}, {PASSWORD_ENV: "fallback"}, ""),
        ({"passwordEnv": "MY_PW"}, {"MY_PW": "from-env", PASSWORD_ENV: "fallback"}, "from-env"),
        ({}, {PASSWORD_ENV: "fallback"}, "fallback"),
        ({}, {}, ""),
    ],
)
def test_the_password_comes_from_the_file_first_then_the_fallback_variable(
    keys: dict[str, str], environ: dict[str, str], password: str
) -> None:
    config = load(bls_with(keystore=KEYSTORE_TEXT, **keys), environ=environ)
    assert config.operator.signing_keys.bls.password == password


def test_secrets_are_kept_out_of_the_repr() -> None:
    config = load(bls_with(keystore=KEYSTORE_TEXT, password="hunter2"))
    assert "hunter2" not in repr(config)
    assert "crypto" not in repr(config)


# --- environment overrides --------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["EXECUTOR_GRPC_PORT", "EXECUTOR__GRPC_PORT"])
def test_the_environment_overrides_the_file_grpc_port(variable: str) -> None:
    config = load(minimal() | {"grpcPort": 9100}, environ={variable: "9200"})
    assert config.grpc_port == 9200


def test_the_single_underscore_spelling_wins_over_the_double() -> None:
    environ = {"EXECUTOR_GRPC_PORT": "9201", "EXECUTOR__GRPC_PORT": "9202"}
    assert load(minimal(), environ=environ).grpc_port == 9201


def test_debug_and_the_network_name_can_come_from_the_environment() -> None:
    environ = {"EXECUTOR_DEBUG": "true", "EXECUTOR__PERFORMER_NETWORK_NAME": "net-1"}
    config = load(minimal(), environ=environ)
    assert (config.debug, config.performer_network_name) == (True, "net-1")


def test_a_bad_environment_value_is_reported_by_its_variable_with_file_problems() -> None:
    with pytest.raises(ConfigError) as caught:
        load(minimal() | {"foo": 1}, environ={"EXECUTOR__GRPC_PORT": "ninety"})
    assert caught.value.problems == [
        "foo: unknown key",
        "EXECUTOR__GRPC_PORT: must be an integer between 1 and 65535",
    ]


def test_load_config_reads_the_process_environment_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "executor.yaml"
    path.write_text(dump(minimal()), encoding="utf-8")
    monkeypatch.setenv("EXECUTOR_GRPC_PORT", "9300")
    assert load_config(path).grpc_port == 9300


# --- values built in code ---------------------------------------------------------------------


def test_values_built_in_code_are_validated_like_the_file() -> None:
    entry = load(minimal()).avs_performers[0]
    with pytest.raises(ValueError, match="must be an integer of at least 1"):
        attrs.evolve(entry, worker_count=0)
    with pytest.raises(ValueError, match="must be greater than 0"):
        HealthCheckConfig(timeout=0)
    with pytest.raises(ValueError, match="must be one of bn254, bls381, ecdsa"):
        AvsPerformerConfig(
            avs_address=entry.avs_address,
            image=entry.image,
            signing_curve="bn254",  # type: ignore[arg-type]
        )


def test_the_network_and_port_can_be_replaced_by_the_cli() -> None:
    config = load(minimal())
    assert config.with_network("other").performer_network_name == "other"
    assert config.with_grpc_port(1234).grpc_port == 1234
    with pytest.raises(ValueError, match="Docker network name"):
        config.with_network("bad name")
    assert isinstance(config, ExecutorConfig)


def test_the_aggregator_check_is_on_by_default_and_needs_peers() -> None:
    document = without(minimal(), "avsPerformers.0.verifyAggregatorSignature")
    with pytest.raises(ConfigError) as caught:
        load(document)
    assert caught.value.problems == [
        "avsPerformers[0].verifyAggregatorSignature: aggregator peers are needed to check "
        "signatures: enable simulation.simulatePeering or set l1Chain, or set this to false to "
        "run unchecked"
    ]
    peered = document | {
        "simulation": {
            "simulatePeering": {
                "enabled": True,
                "aggregatorPeers": [{"operatorAddress": PEER, "publicKey": PUBLIC_KEY.hex()}],
            }
        }
    }
    assert load(peered).avs_performers[0].verify_aggregator_signature is True


def test_a_relative_peers_file_is_found_next_to_the_config_file(tmp_path: Path) -> None:
    document = minimal() | {
        "simulation": {"simulatePeering": {"enabled": True, "aggregatorPeersFile": "peers.yaml"}}
    }
    config = load(document, base_dir=tmp_path)
    peers_file = config.simulation.simulate_peering.aggregator_peers_file
    assert peers_file == str(tmp_path / "peers.yaml")
