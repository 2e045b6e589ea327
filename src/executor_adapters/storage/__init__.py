"""Stores the executor keeps between tasks: the processed-task results of the second generation."""

from executor_adapters.storage.processed_tasks import InMemoryProcessedTasks

__all__ = ["InMemoryProcessedTasks"]
