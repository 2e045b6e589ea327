"""In-memory adapters of every port, for tests: yours and ours.

They keep the contracts of the real adapters (tests/contract runs the same suites against
both), so an executor built on them behaves like the real one without Docker, gRPC or keys::

    from executor_adapters.memory import InMemoryContainerRuntime, ScriptedPerformerConnector
    app = await build_executor(config, runtime=InMemoryContainerRuntime(),
                               connector=ScriptedPerformerConnector(my_handler),
                               signers={SigningCurve.BN254: FakeResultSigner()})
"""

from executor_adapters.memory.aggregators import (
    FakeTaskSignatureVerifier,
    InMemoryAggregatorKeys,
    fake_task_signature,
)
from executor_adapters.memory.chain import InMemoryChain
from executor_adapters.memory.clock import FakeClock, SequentialIds
from executor_adapters.memory.container_runtime import InMemoryContainerRuntime
from executor_adapters.memory.deployments import InMemoryDeploymentStore
from executor_adapters.memory.performer import ScriptedPerformer, ScriptedPerformerConnector
from executor_adapters.memory.signer import FakeResultSigner

__all__ = [
    "FakeClock",
    "FakeResultSigner",
    "FakeTaskSignatureVerifier",
    "InMemoryAggregatorKeys",
    "InMemoryChain",
    "InMemoryContainerRuntime",
    "InMemoryDeploymentStore",
    "ScriptedPerformer",
    "ScriptedPerformerConnector",
    "SequentialIds",
    "fake_task_signature",
]
