"""Stores the executor keeps: processed G2 task results, and (durably, in SQLite) deployments."""

from executor_adapters.storage.processed_tasks import InMemoryProcessedTasks
from executor_adapters.storage.sqlite import (
    SqliteDeploymentStore,
    SqliteProcessedTasks,
    StateDatabase,
    StateDatabaseError,
)

__all__ = [
    "InMemoryProcessedTasks",
    "SqliteDeploymentStore",
    "SqliteProcessedTasks",
    "StateDatabase",
    "StateDatabaseError",
]
