"""The executor's config file: a YAML or JSON document read into frozen, validated values.

`load_config` reads a file and `parse_config` reads text; both raise `ConfigError` listing
every problem as `<path>: <problem>`. Both generations of the Go executor's schema load, each
key in its camelCase tag or its Go field name, in any case. See `schema` for the keys, their
defaults and the keys added to the Go executor's schema.
"""

from executor_adapters.config._keys import PASSWORD_ENV
from executor_adapters.config.errors import ConfigError
from executor_adapters.config.loader import load_config, parse_config
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
    IgnoredKey,
    KubernetesConfig,
    L1ChainConfig,
    LogFormat,
    LoggingConfig,
    LogLevel,
    ManagementConfig,
    MetricsConfig,
    OperatorConfig,
    PeeringSimulationConfig,
    PerformerEndpoint,
    PerformerKubernetesConfig,
    RecreateConfig,
    ResourcesConfig,
    SigningCurve,
    SigningKeysConfig,
    SimulationConfig,
    StorageConfig,
)

__all__ = [
    "PASSWORD_ENV",
    "AggregatorPeerConfig",
    "AuthorizedKeyConfig",
    "AvsPerformerConfig",
    "BlsKeyConfig",
    "ConfigError",
    "ContainerConfig",
    "ContractOverrides",
    "DeduplicationConfig",
    "DeploymentConfig",
    "EcdsaKeyConfig",
    "EnvVarConfig",
    "ExecutorConfig",
    "HealthCheckConfig",
    "IgnoredKey",
    "KubernetesConfig",
    "L1ChainConfig",
    "LogFormat",
    "LogLevel",
    "LoggingConfig",
    "ManagementConfig",
    "MetricsConfig",
    "OperatorConfig",
    "PeeringSimulationConfig",
    "PerformerEndpoint",
    "PerformerKubernetesConfig",
    "RecreateConfig",
    "ResourcesConfig",
    "SigningCurve",
    "SigningKeysConfig",
    "SimulationConfig",
    "StorageConfig",
    "load_config",
    "parse_config",
]
