"""The Kubernetes adapter: `KubernetesContainerRuntime` implements the core's `ContainerRuntime`
with a Pod and a Service per performer.

Importing it loads kubernetes_asyncio (about 1.5 s and 38 MB), so the composition root imports
it only when some AVS runs in Kubernetes mode.
"""

from executor_adapters.kubernetes.runtime import KubernetesContainerRuntime
from executor_adapters.kubernetes.settings import ClusterSettings, PerformerReach, PodSettings

__all__ = ["ClusterSettings", "KubernetesContainerRuntime", "PerformerReach", "PodSettings"]
