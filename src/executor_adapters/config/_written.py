"""How the file is written, where that differs from the schema's values.

Blocks that are read and then turned into schema values (a key block into the keystore text, an
env entry into its value), and blocks that are accepted without effect, are attrs classes here,
so that their keys are checked, spelt and reported like every other block's. The tables say
which keys a block accepts without using (and why), which Go struct field names differ from the
documented tag, and which attribute is written under another key.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs

from executor_adapters.config._validators import (
    env_name,
    int_in,
    is_bool,
    one_of,
    optional,
)
from executor_adapters.config.schema import (
    AggregatorPeerConfig,
    AuthorizedKeyConfig,
    AvsPerformerConfig,
    BlsKeyConfig,
    ContainerConfig,
    ContractOverrides,
    DeduplicationConfig,
    DeploymentConfig,
    EcdsaKeyConfig,
    EnvVarConfig,
    ExecutorConfig,
    HealthCheckConfig,
    KubernetesConfig,
    L1ChainConfig,
    LoggingConfig,
    ManagementConfig,
    MetricsConfig,
    OperatorConfig,
    PeeringSimulationConfig,
    PerformerKubernetesConfig,
    RecreateConfig,
    ResourcesConfig,
    SigningKeysConfig,
    SimulationConfig,
    StorageConfig,
)
from executor_core.performers import PerformerImage

_count = optional(int_in(0))
_flag = optional(is_bool)


@attrs.frozen(kw_only=True)
class ImageBlock:
    repository: str
    tag: str


@attrs.frozen(kw_only=True)
class BlsKeyBlock:
    """`operator.signingKeys.bls` as written: where the keystore and its password are."""

    keystore: Any = None
    keystore_file: str | None = None
    password: str | None = None
    password_file: str | None = None
    password_env: str | None = None


@attrs.frozen(kw_only=True)
class EcdsaKeyBlock(BlsKeyBlock):
    """`operator.signingKeys.ecdsa` as written: a keystore like BLS, or a raw key (G2's form)."""

    private_key: str | None = None
    remote_signer: bool | None = attrs.field(default=None, validator=_flag)


@attrs.frozen(kw_only=True)
class RemoteSignerConfigBlock:
    url: str | None = None
    ca_cert: str | None = None
    cert: str | None = None
    key: str | None = None
    from_address: str | None = None
    public_key: str | None = None


@attrs.frozen(kw_only=True)
class OperatorPrivateKeyBlock:
    """G2's `operator.operatorPrivateKey`, a transaction signer the executor never builds."""

    private_key: str | None = None
    remote_signer: bool | None = attrs.field(default=None, validator=_flag)
    remote_signer_config: RemoteSignerConfigBlock | None = None


def _chain_ids(_: object, __: attrs.Attribute[Any], value: tuple[object, ...]) -> None:
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value):
        raise ValueError("must be a list of chain IDs (integers)")


@attrs.frozen(kw_only=True)
class TaskMailboxOverrideBlock:
    chain_ids: tuple[Any, ...] = attrs.field(default=(), validator=_chain_ids)
    contract: str | None = None
    """The contract as JSON text (name, address, chainId, abiVersions)."""


@attrs.frozen(kw_only=True)
class OverrideContractsBlock:
    task_mailbox: TaskMailboxOverrideBlock | None = None


@attrs.frozen(kw_only=True)
class KeyRefBlock:
    """`secretKeyRef` or `configMapKeyRef`: the object, and the key whose value is read."""

    name: str | None = None
    key: str | None = None


@attrs.frozen(kw_only=True)
class ValueFromBlock:
    secret_key_ref: KeyRefBlock | None = None
    config_map_key_ref: KeyRefBlock | None = None


@attrs.frozen(kw_only=True)
class KubernetesEnvBlock:
    """`envs[].kubernetesEnv` as written; the loader makes it an `EnvReference`."""

    value_from: ValueFromBlock | None = None


@attrs.frozen(kw_only=True)
class EnvBlock:
    """`avsPerformers[].envs[]` as written; the loader resolves it into an `EnvVarConfig`."""

    name: str = attrs.field(validator=env_name)
    value: str | None = None
    value_from_env: str | None = attrs.field(default=None, validator=optional(env_name))
    type: str = attrs.field(default="plain", validator=one_of("plain"))
    """Devkit writes `plain`; nothing else is defined."""
    kubernetes_env: KubernetesEnvBlock | None = None


@attrs.frozen(kw_only=True)
class BadgerBlock:
    dir: str | None = None
    in_memory: bool | None = attrs.field(default=None, validator=_flag)
    value_log_file_size: int | None = attrs.field(default=None, validator=_count)
    num_versions_to_keep: int | None = attrs.field(default=None, validator=_count)
    num_level_zero_tables: int | None = attrs.field(default=None, validator=_count)
    num_level_zero_tables_stall: int | None = attrs.field(default=None, validator=_count)


@attrs.frozen(kw_only=True)
class AuthenticationBlock:
    enabled: bool = attrs.field(default=False, validator=is_bool)


@attrs.frozen
class Unused:
    """A key a block accepts without effect: what its value must be, and why it is unused."""

    kind: Any
    """The type the value is structured as, so a wrong value is still reported."""
    reason: str


@attrs.frozen
class Renamed:
    """An attribute written under another key, as a block that `pick` turns into its value."""

    key: str
    block: type[Any]
    pick: Callable[[Any], Any]


_NO_TRANSACTIONS = "the executor sends no transactions"
_HASHED_LOCALLY = (
    "the TaskMailbox message hash is computed locally; contract addresses go in l1Chain.contracts"
)
_NO_OPERATOR = "the executor creates Pods itself; no operator or custom resource is involved"

UNUSED: dict[type, dict[str, Unused]] = {
    ExecutorConfig: {
        "contracts": Unused(Any, _HASHED_LOCALLY),  # G1 raw JSON of any shape
        "overrideContracts": Unused(OverrideContractsBlock, _HASHED_LOCALLY),
    },
    OperatorConfig: {"operatorPrivateKey": Unused(str | OperatorPrivateKeyBlock, _NO_TRANSACTIONS)},
    EcdsaKeyBlock: {
        "remoteSignerConfig": Unused(RemoteSignerConfigBlock, "remote signers are not supported")
    },
    KubernetesConfig: {
        "operatorNamespace": Unused(str, _NO_OPERATOR),
        "crdGroup": Unused(str, _NO_OPERATOR),
        "crdVersion": Unused(str, _NO_OPERATOR),
    },
    PeeringSimulationConfig: {
        "operatorPeers": Unused(tuple[Any, ...], "declared upstream and never used")
    },
}
"""Per block, the keys accepted without effect; each one given is recorded as ignored."""

ALIASES: dict[type, dict[str, str]] = {
    ExecutorConfig: {"authConfig": "authentication"},
    AuthenticationBlock: {"isEnabled": "enabled"},
    StorageConfig: {"badgerConfig": "badger"},
    EcdsaKeyBlock: {"useRemoteSigner": "remoteSigner"},
    OperatorPrivateKeyBlock: {"useRemoteSigner": "remoteSigner"},
}
"""Go struct field names that differ from the documented tag, which upstream's binary reads."""

RENAMED: dict[type, dict[str, Renamed]] = {
    ExecutorConfig: {
        "authentication_enabled": Renamed(
            "authentication", AuthenticationBlock, lambda block: block.enabled
        )
    },
    StorageConfig: {"badger_dir": Renamed("badger", BadgerBlock, lambda block: block.dir or "")},
}
OMITTED: dict[type, frozenset[str]] = {ExecutorConfig: frozenset({"ignored_keys"})}
"""Attributes the loader sets, which the file may not."""

WRITTEN_AS: dict[type, type] = {
    PerformerImage: ImageBlock,
    BlsKeyConfig: BlsKeyBlock,
    EcdsaKeyConfig: EcdsaKeyBlock,
    EnvVarConfig: EnvBlock,
}
"""Schema values whose file form is a block of another shape."""

BLOCKS: frozenset[type] = frozenset(
    {
        ExecutorConfig,
        OperatorConfig,
        SigningKeysConfig,
        AvsPerformerConfig,
        ContainerConfig,
        HealthCheckConfig,
        SimulationConfig,
        PeeringSimulationConfig,
        AggregatorPeerConfig,
        LoggingConfig,
        DeploymentConfig,
        RecreateConfig,
        L1ChainConfig,
        ContractOverrides,
        StorageConfig,
        DeduplicationConfig,
        ManagementConfig,
        MetricsConfig,
        AuthorizedKeyConfig,
        ImageBlock,
        BlsKeyBlock,
        EcdsaKeyBlock,
        RemoteSignerConfigBlock,
        OperatorPrivateKeyBlock,
        TaskMailboxOverrideBlock,
        OverrideContractsBlock,
        KubernetesConfig,
        PerformerKubernetesConfig,
        ResourcesConfig,
        KeyRefBlock,
        ValueFromBlock,
        KubernetesEnvBlock,
        EnvBlock,
        BadgerBlock,
        AuthenticationBlock,
    }
)
"""Every mapping of the file: structured with its keys checked, one spelling each."""

Shape = type | tuple[str, Any] | None
"""A block class, `("list", shape)` for a list of them, or None for a value with no keys."""


def camel(name: str) -> str:
    """Return the file's spelling of attribute `name` (`grpc_port` -> `grpcPort`)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def shape_of(kind: Any) -> Shape:
    """Return the shape a value of type `kind` is written in."""
    kind = WRITTEN_AS.get(kind, kind)
    origin = typing.get_origin(kind)
    if origin is tuple:
        inner = shape_of(typing.get_args(kind)[0])
        return None if inner is None else ("list", inner)
    if origin in (typing.Union, types.UnionType):
        return next((s for s in map(shape_of, typing.get_args(kind)) if s is not None), None)
    return kind if kind in BLOCKS else None


@functools.cache
def keys_of(block: type) -> dict[str, Shape]:
    """Return the canonical (camelCase) keys `block` accepts, each with its value's shape."""
    attrs.resolve_types(block)
    renamed = RENAMED.get(block, {})
    keys: dict[str, Shape] = {}
    for field in attrs.fields(block):
        if field.name in OMITTED.get(block, frozenset()):
            continue
        if field.name in renamed:
            keys[renamed[field.name].key] = renamed[field.name].block
        else:
            keys[camel(field.name)] = shape_of(field.type)
    for key, unused in UNUSED.get(block, {}).items():
        keys[key] = shape_of(unused.kind)
    return keys


@functools.cache
def spellings(block: type) -> dict[str, str]:
    """Return every accepted spelling of `block`'s keys, lower-cased, to the canonical key."""
    table = {key.lower(): key for key in keys_of(block)}
    table |= {alias.lower(): key for alias, key in ALIASES.get(block, {}).items()}
    return table


def file_key(attribute: str) -> str:
    """Return the key the file writes attribute `attribute` under."""
    for renamed in RENAMED.values():
        if attribute in renamed:
            return renamed[attribute].key
    return camel(attribute)
