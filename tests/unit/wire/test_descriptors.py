"""Our protos, field by field, against the wire contract of both upstream generations.

The expected tables are written from the reference's message tables (hourglass-executor.md
§1.1-§1.2, second generation at head): number, name, type and label of every field, and every
method path. A renamed field is harmless on the wire; a renumbered or retyped one is not.
"""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor

from executor_adapters.grpc.reflection import register_descriptors

F = FieldDescriptor
STRING, BYTES, BOOL = F.TYPE_STRING, F.TYPE_BYTES, F.TYPE_BOOL
UINT32, UINT64, INT64, MESSAGE = F.TYPE_UINT32, F.TYPE_UINT64, F.TYPE_INT64, F.TYPE_MESSAGE
AUTH = "eigenlayer.hourglass.v1.common.AuthSignature"
P = "eigenlayer.hourglass.v1."

# message -> [(number, name, type, message type or "", repeated)]
EXPECTED: dict[str, list[tuple[int, str, int, str, bool]]] = {
    "TaskSubmission": [
        (1, "task_id", STRING, "", False),
        (2, "aggregator_address", STRING, "", False),
        (3, "avs_address", STRING, "", False),
        (4, "payload", BYTES, "", False),
        (5, "signature", BYTES, "", False),
        (6, "operator_set_id", UINT32, "", False),
        (7, "reference_timestamp", UINT32, "", False),
        (8, "executor_address", STRING, "", False),
        (9, "task_block_number", UINT64, "", False),
        (10, "version", UINT32, "", False),
    ],
    "TaskResult": [
        (1, "task_id", STRING, "", False),
        (2, "operator_address", STRING, "", False),
        (3, "output", BYTES, "", False),
        (4, "result_signature", BYTES, "", False),
        (5, "avs_address", STRING, "", False),
        (6, "operator_set_id", UINT32, "", False),
        (7, "auth_signature", BYTES, "", False),
        (8, "version", UINT32, "", False),
    ],
    "DeployArtifactRequest": [
        (1, "avs_address", STRING, "", False),
        (2, "digest", STRING, "", False),
        (3, "registry_url", STRING, "", False),
        (4, "env", MESSAGE, P + "PerformerEnv", True),
        (5, "kubernetes", MESSAGE, P + "KubernetesConfig", False),
        (6, "auth", MESSAGE, AUTH, False),
    ],
    "DeployArtifactResponse": [
        (1, "success", BOOL, "", False),
        (2, "message", STRING, "", False),
        (3, "deployment_id", STRING, "", False),
    ],
    "ListPerformersRequest": [
        (1, "avs_address", STRING, "", False),
        (2, "auth", MESSAGE, AUTH, False),
    ],
    "ListPerformersResponse": [(1, "performers", MESSAGE, P + "Performer", True)],
    "Performer": [
        (1, "performer_id", STRING, "", False),
        (2, "avs_address", STRING, "", False),
        (3, "status", STRING, "", False),
        (4, "artifact_registry", STRING, "", False),
        (5, "artifact_digest", STRING, "", False),
        (6, "resource_healthy", BOOL, "", False),
        (7, "application_healthy", BOOL, "", False),
        (8, "last_health_check", STRING, "", False),
        (9, "container_id", STRING, "", False),
        (10, "artifact_tag", STRING, "", False),
    ],
    "RemovePerformerRequest": [
        (1, "performer_id", STRING, "", False),
        (2, "auth", MESSAGE, AUTH, False),
    ],
    "RemovePerformerResponse": [(1, "success", BOOL, "", False), (2, "message", STRING, "", False)],
    "PerformerEnv": [
        (1, "name", STRING, "", False),
        (2, "value", STRING, "", False),
        (3, "value_from_env", STRING, "", False),
        (4, "kubernetes_env", MESSAGE, P + "KubernetesEnv", False),
    ],
    "KubernetesEnv": [(1, "value_from", MESSAGE, P + "EnvValueFrom", False)],
    "EnvValueFrom": [
        (1, "secret_key_ref", MESSAGE, P + "SecretKeyRef", False),
        (2, "config_map_key_ref", MESSAGE, P + "ConfigMapKeyRef", False),
    ],
    "SecretKeyRef": [(1, "name", STRING, "", False), (2, "key", STRING, "", False)],
    "ConfigMapKeyRef": [(1, "name", STRING, "", False), (2, "key", STRING, "", False)],
    "KubernetesConfig": [(1, "service_account_name", STRING, "", False)],
    "GetChallengeTokenRequest": [(1, "operator_address", STRING, "", False)],
    "GetChallengeTokenResponse": [
        (1, "challenge_token", STRING, "", False),
        (2, "expires_at", INT64, "", False),
    ],
    "common.AuthSignature": [
        (1, "challenge_token", STRING, "", False),
        (2, "signature", BYTES, "", False),
    ],
}

SERVICES = {
    "ExecutorService": {
        "SubmitTask": ("TaskSubmission", "TaskResult"),
        "DeployArtifact": ("DeployArtifactRequest", "DeployArtifactResponse"),
        "ListPerformers": ("ListPerformersRequest", "ListPerformersResponse"),
        "RemovePerformer": ("RemovePerformerRequest", "RemovePerformerResponse"),
    },
    "ExecutorManagementService": {
        "DeployArtifact": ("DeployArtifactRequest", "DeployArtifactResponse"),
        "ListPerformers": ("ListPerformersRequest", "ListPerformersResponse"),
        "RemovePerformer": ("RemovePerformerRequest", "RemovePerformerResponse"),
        "GetChallengeToken": ("GetChallengeTokenRequest", "GetChallengeTokenResponse"),
    },
}


def _pool() -> descriptor_pool.DescriptorPool:
    register_descriptors()
    return descriptor_pool.Default()


@pytest.mark.parametrize("message", sorted(EXPECTED))
def test_message_fields_match_the_reference(message: str) -> None:
    descriptor = _pool().FindMessageTypeByName(P + message)
    actual = [
        (
            f.number,
            f.name,
            f.type,
            f.message_type.full_name if f.message_type else "",
            f.is_repeated,
        )
        for f in sorted(descriptor.fields, key=lambda f: f.number)
    ]
    assert actual == EXPECTED[message]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_methods_match_the_reference(service: str) -> None:
    descriptor = _pool().FindServiceByName(P + service)
    actual = {
        m.name: (m.input_type.name, m.output_type.name)
        for m in descriptor.methods
        if not (m.client_streaming or m.server_streaming)
    }
    assert actual == SERVICES[service]
    assert len(descriptor.methods) == len(actual)  # all unary


def test_the_proto_package_is_the_same_for_both_generations() -> None:
    for service in SERVICES:
        assert _pool().FindServiceByName(P + service).file.package == "eigenlayer.hourglass.v1"
