"""The Docker adapter: `AiodockerContainerRuntime` implements the core's `ContainerRuntime`."""

from executor_adapters.docker.runtime import AiodockerContainerRuntime

__all__ = ["AiodockerContainerRuntime"]
