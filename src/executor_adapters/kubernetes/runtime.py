"""`ContainerRuntime` on a Kubernetes cluster, through kubernetes_asyncio.

The core sees a pod as it sees a container: the pod's name is the container id (ListPerformers
shows it), its death is a `die` event, and its endpoint is where the executor dials port 8080.
The node's kubelet pulls images, so `ensure_image` has nothing to do and a pull's failure is
told when the pod is started; `local_image_id` knows no node's images and says so with None.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio import watch as k8s_watch
from kubernetes_asyncio.client.exceptions import ApiException

from executor_adapters.kubernetes._errors import translate_errors
from executor_adapters.kubernetes._labels import label_selector, original_labels
from executor_adapters.kubernetes._manifests import (
    CONTAINER,
    NETWORK_LABEL,
    network_policy_manifest,
    pod_manifest,
    policy_is_internal,
    service_manifest,
    service_name,
)
from executor_adapters.kubernetes._pod_state import (
    PodView,
    death_events,
    found_container,
    repo_digest,
    start_failure,
)
from executor_adapters.kubernetes._port_forward import PortForward
from executor_adapters.kubernetes.settings import ClusterSettings, PerformerReach
from executor_core.errors import (
    ContainerRuntimeError,
    ContainerStartFailed,
    RuntimeUnavailable,
)
from executor_core.labels import AVS_ADDRESS_LABEL
from executor_core.performers import (
    PERFORMER_PORT,
    ContainerSpec,
    Endpoint,
    PerformerImage,
    RunningContainer,
)
from executor_core.ports import ContainerEvent, ContainerEventKind, FoundContainer, NetworkRef

__all__ = ["KubernetesContainerRuntime"]

log = logging.getLogger("executor_adapters.kubernetes")

T = TypeVar("T")

_LOG_TAIL_LINES = 20
_WATCH_SECONDS = 240
_RECONNECT_DELAY = 1.0
_GONE_GRACE = 30.0
"""How long past its grace a deleted pod may take to disappear before removal gives up."""


class KubernetesContainerRuntime:
    """Run performer pods in one namespace of a Kubernetes cluster.

    Args:
        settings: The cluster, the namespace, how performers are reached, and each AVS's pods.
        api_client: A client to use; it stays the caller's to close. Without one, a client is
            made on first use from the settings (kubeconfig or in-cluster), and `aclose`
            closes it.
        start_timeout: Seconds a new pod has to be Ready (pull included).
        poll_interval: Seconds between looks at a pod while waiting for it.
    """

    def __init__(
        self,
        settings: ClusterSettings | None = None,
        *,
        api_client: k8s.ApiClient | None = None,
        start_timeout: float = 300.0,
        poll_interval: float = 0.25,
    ) -> None:
        self._settings = settings or ClusterSettings()
        self._api_client = api_client
        self._owns_client = api_client is None
        self._client_lock = asyncio.Lock()
        self._start_timeout = start_timeout
        self._poll_interval = poll_interval
        self._forwards: dict[str, PortForward] = {}
        self._closed = False
        self._closing = asyncio.Event()
        """Set by `aclose`: open watches end on it, as closing the client does not end a
        watch response that is being read (aiohttp leaves its reader waiting)."""
        self._event_streams = 0

    @property
    def namespace(self) -> str:
        return self._settings.namespace

    @property
    def active_event_streams(self) -> int:
        return self._event_streams

    async def _client(self) -> k8s.ApiClient:
        if self._closed:
            raise RuntimeUnavailable("the Kubernetes runtime is closed")
        if self._api_client is None:
            async with self._client_lock:
                if self._api_client is None:
                    self._api_client = await self._connect()
        return self._api_client

    async def _connect(self) -> k8s.ApiClient:
        configuration = k8s.Configuration()
        with translate_errors("load the Kubernetes client configuration"):
            try:
                if self._settings.in_cluster:
                    k8s_config.load_incluster_config(  # type: ignore[no-untyped-call]
                        client_configuration=configuration
                    )
                else:
                    await k8s_config.load_kube_config(
                        config_file=self._settings.kubeconfig_path or None,
                        client_configuration=configuration,
                        persist_config=False,
                    )
            except k8s_config.ConfigException as exc:
                raise RuntimeUnavailable(f"no usable Kubernetes configuration: {exc}") from exc
        return k8s.ApiClient(configuration)

    async def _call(
        self, action: str, call: Callable[[k8s.ApiClient], Awaitable[T]], **kw: Any
    ) -> T:
        api = await self._client()
        with translate_errors(action, **kw):
            async with asyncio.timeout(self._settings.connection_timeout):
                return await call(api)

    async def _json(self, api: k8s.ApiClient, obj: Any) -> dict[str, Any]:
        result: dict[str, Any] = api.sanitize_for_serialization(obj)
        return result

    # --- networks: NetworkPolicies --------------------------------------------------------

    async def ensure_network(
        self, name: str, labels: Mapping[str, str], *, internal: bool = False
    ) -> NetworkRef:
        body: Any = network_policy_manifest(name, labels, internal=internal)
        ns = self.namespace

        async def create(api: k8s.ApiClient) -> Any:
            return await k8s.NetworkingV1Api(api).create_namespaced_network_policy(ns, body)

        try:
            await self._call(f"create network policy {name}", create, conflict=_Taken)
            return NetworkRef(network_id=name, name=name, created=True)
        except _Taken:
            pass

        async def read(api: k8s.ApiClient) -> dict[str, Any]:
            policy = await k8s.NetworkingV1Api(api).read_namespaced_network_policy(name, ns)
            return await self._json(api, policy)

        existing = await self._call(f"read network policy {name}", read)
        if policy_is_internal(existing) != internal:
            raise ContainerRuntimeError(
                f"network policy {name} exists with internal={not internal}; remove it or set "
                f"performerNetworkInternal to {not internal}"
            )
        metadata = existing.get("metadata") or {}
        found = original_labels(metadata.get("labels"), metadata.get("annotations"))
        ours = all(found.get(key) == value for key, value in labels.items())
        return NetworkRef(network_id=name, name=name, created=ours)

    async def remove_network(self, network_id: str) -> None:
        """Delete the policy; refused while a pod names it, as Docker refuses to remove a
        network with containers attached."""
        pods, _ = await self._list_pods({NETWORK_LABEL: network_id})
        if pods:
            names = ", ".join(sorted((p.get("metadata") or {}).get("name", "") for p in pods))
            raise ContainerRuntimeError(f"network {network_id} is in use by pods {names}")
        ns = self.namespace

        async def delete(api: k8s.ApiClient) -> Any:
            return await k8s.NetworkingV1Api(api).delete_namespaced_network_policy(network_id, ns)

        with contextlib.suppress(_Gone):
            await self._call(f"remove network policy {network_id}", delete, not_found=_Gone)

    async def _network_exists(self, name: str) -> bool:
        ns = self.namespace

        async def read(api: k8s.ApiClient) -> Any:
            return await k8s.NetworkingV1Api(api).read_namespaced_network_policy(name, ns)

        try:
            await self._call(f"read network policy {name}", read, not_found=_Gone)
        except _Gone:
            return False
        return True

    # --- images ---------------------------------------------------------------------------

    async def ensure_image(self, image: PerformerImage) -> None:
        """Nothing to do: the kubelet of the pod's node pulls, `IfNotPresent`."""
        await self._client()

    async def local_image_id(self, reference: str) -> str | None:
        """None: images live on nodes, which the executor does not look into."""
        return None

    # --- pods -----------------------------------------------------------------------------

    async def start_container(self, spec: ContainerSpec) -> RunningContainer:
        settings = self._settings.pod_settings(spec.labels.get(AVS_ADDRESS_LABEL, ""))
        try:
            body: Any = pod_manifest(spec, settings)
        except ValueError as exc:
            raise ContainerStartFailed(f"pod {spec.name}: {exc}") from None
        if spec.network and not await self._network_exists(spec.network):
            raise ContainerStartFailed(
                f"pod {spec.name}: network {spec.network} does not exist (no NetworkPolicy of "
                f"that name in namespace {self.namespace})"
            )
        ns = self.namespace

        async def create(api: k8s.ApiClient) -> dict[str, Any]:
            pod = await k8s.CoreV1Api(api).create_namespaced_pod(ns, body)
            return await self._json(api, pod)

        created = await self._call(f"create pod {spec.name}", create)
        try:
            await self._create_service(created)
            view = await self._wait_until_ready(spec.name)
            endpoint = await self._endpoint(spec.name, settings.endpoint_override)
        except BaseException:
            await asyncio.shield(self._discard(spec.name))
            raise
        return RunningContainer(
            spec.name, spec.name, endpoint, image_digest=_digest_of(spec.image, view)
        )

    async def _create_service(self, pod: dict[str, Any]) -> None:
        body: Any = service_manifest(pod)
        ns = self.namespace

        async def create(api: k8s.ApiClient) -> Any:
            return await k8s.CoreV1Api(api).create_namespaced_service(ns, body)

        await self._call(f"create service {body['metadata']['name']}", create)

    async def _read_pod(self, name: str) -> dict[str, Any] | None:
        ns = self.namespace

        async def read(api: k8s.ApiClient) -> dict[str, Any]:
            return await self._json(api, await k8s.CoreV1Api(api).read_namespaced_pod(name, ns))

        try:
            return await self._call(f"read pod {name}", read, not_found=_Gone)
        except _Gone:
            return None

    async def _wait_until_ready(self, name: str) -> PodView:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        view: PodView | None = None
        while True:
            pod = await self._read_pod(name)
            if pod is None:
                raise ContainerStartFailed(f"pod {name} was deleted while it started")
            view = PodView.of(pod)
            failure = start_failure(view)
            if failure is not None:
                if isinstance(failure, ContainerStartFailed):
                    tail = await self._log_tail(name)
                    if tail:
                        failure = ContainerStartFailed(f"{failure}; last output:\n{tail}")
                raise failure
            if view.ready and view.alive:
                return view
            if loop.time() > deadline:
                why = view.unschedulable or view.waiting_reason or view.phase
                raise ContainerStartFailed(
                    f"pod {name} was not Ready within {self._start_timeout:g} s ({why})"
                )
            await asyncio.sleep(self._poll_interval)

    async def _log_tail(self, name: str) -> str:
        ns = self.namespace

        async def read(api: k8s.ApiClient) -> str:
            text: str = await k8s.CoreV1Api(api).read_namespaced_pod_log(
                name, ns, container=CONTAINER, tail_lines=_LOG_TAIL_LINES
            )
            return text

        try:
            return (await self._call(f"read the log of pod {name}", read)).strip()[-2000:]
        except ContainerRuntimeError:
            return ""

    async def _endpoint(self, name: str, override: Endpoint | None) -> Endpoint:
        if override is not None:
            return override
        if self._settings.performer_reach is PerformerReach.SERVICE:
            return Endpoint(f"{service_name(name)}.{self.namespace}.svc", PERFORMER_PORT)
        forward = self._forwards.get(name)
        if forward is None:
            await self._check_port_forward(name)
            forward = PortForward(lambda: self._open_port_forward(name), pod=name)
            self._forwards[name] = forward
            return await forward.start()
        raise ContainerRuntimeError(f"pod {name} already has a port-forward")

    async def _check_port_forward(self, name: str) -> None:
        """Open one port-forward stream to the pod and close it again, so that a refusal (the
        account lacks pods/portforward) fails here, naming it, instead of every connection to
        the endpoint later, which the listener can only close."""
        action = f"open a port-forward to pod {name}"
        try:
            async with asyncio.timeout(self._settings.connection_timeout):
                stream = await self._open_port_forward(name)
                await stream.close()
        except aiohttp.WSServerHandshakeError as exc:
            refused = f"{action}: the API server answered {exc.status} {exc.message}"
            if exc.status in (401, 403):
                raise ContainerRuntimeError(
                    f"{refused} (the executor's account needs get and create on "
                    "pods/portforward: see the RBAC in docs/operations.md)"
                ) from exc
            raise ContainerRuntimeError(refused) from exc
        except (aiohttp.ClientConnectionError, OSError, TimeoutError) as exc:
            raise RuntimeUnavailable(
                f"{action}: cannot reach the Kubernetes API server: {exc!r}"
            ) from exc

    async def _open_port_forward(self, name: str) -> aiohttp.ClientWebSocketResponse:
        api = await self._client()
        configuration = api.configuration
        headers: dict[str, str] = {}
        auth = await configuration.auth_settings()
        bearer = auth.get("BearerToken")
        if bearer and bearer.get("value"):
            headers["Authorization"] = bearer["value"]
        url = (
            f"{configuration.host}/api/v1/namespaces/{self.namespace}/pods/{name}/portforward"
            f"?ports={PERFORMER_PORT}"
        )
        session: aiohttp.ClientSession = api.rest_client.pool_manager
        return await session.ws_connect(
            url,
            protocols=("v4.channel.k8s.io",),
            headers=headers,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
            max_msg_size=0,
            autoping=True,
        )

    async def _close_forward(self, name: str) -> None:
        forward = self._forwards.pop(name, None)
        if forward is not None:
            await forward.aclose()

    async def _discard(self, name: str) -> None:
        """Remove a pod whose start failed; a failure here is logged, the start's is raised."""
        try:
            await self.remove_container(name, grace_seconds=0)
        except ContainerRuntimeError as exc:
            log.warning("could not remove pod %s after its start failed: %s", name, exc)

    async def is_running(self, container_id: str) -> bool:
        pod = await self._read_pod(container_id)
        return pod is not None and PodView.of(pod).alive

    async def remove_container(self, container_id: str, *, grace_seconds: float) -> None:
        """Delete the pod and its Service, and wait until the pod is gone."""
        await self._close_forward(container_id)
        ns = self.namespace
        grace = max(0, math.ceil(grace_seconds))

        async def delete_pod(api: k8s.ApiClient) -> Any:
            return await k8s.CoreV1Api(api).delete_namespaced_pod(
                container_id, ns, grace_period_seconds=grace
            )

        async def delete_service(api: k8s.ApiClient) -> Any:
            return await k8s.CoreV1Api(api).delete_namespaced_service(
                service_name(container_id), ns
            )

        with contextlib.suppress(_Gone):
            await self._call(f"delete pod {container_id}", delete_pod, not_found=_Gone)
        with contextlib.suppress(_Gone):
            await self._call(
                f"delete service {service_name(container_id)}", delete_service, not_found=_Gone
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace + _GONE_GRACE
        while await self._read_pod(container_id) is not None:
            if loop.time() > deadline:
                raise ContainerRuntimeError(
                    f"pod {container_id} was still there {grace + _GONE_GRACE:g} s after its "
                    "deletion"
                )
            await asyncio.sleep(self._poll_interval)

    async def _list_pods(self, labels: Mapping[str, str]) -> tuple[list[dict[str, Any]], str]:
        selector = label_selector(labels)
        ns = self.namespace

        async def listing(api: k8s.ApiClient) -> dict[str, Any]:
            pods = await k8s.CoreV1Api(api).list_namespaced_pod(ns, label_selector=selector)
            return await self._json(api, pods)

        result = await self._call("list pods", listing)
        version = (result.get("metadata") or {}).get("resourceVersion", "")
        return list(result.get("items") or []), str(version)

    async def find_containers(self, labels: Mapping[str, str]) -> list[FoundContainer]:
        pods, _ = await self._list_pods(labels)
        found: list[FoundContainer] = []
        for pod in pods:
            name = (pod.get("metadata") or {}).get("name", "")
            endpoint = None
            if PodView.of(pod).alive:
                override = self._settings.pod_settings(
                    original_labels(
                        (pod.get("metadata") or {}).get("labels"),
                        (pod.get("metadata") or {}).get("annotations"),
                    ).get(AVS_ADDRESS_LABEL, "")
                ).endpoint_override
                await self._close_forward(name)
                endpoint = await self._endpoint(name, override)
            found.append(found_container(pod, endpoint))
        return found

    async def list_containers(self, label_selector: Mapping[str, str]) -> list[str]:
        """Names of the pods with all the labels, for cleaning up after a crash."""
        if not label_selector:
            raise ValueError("listing containers needs at least one label")
        pods, _ = await self._list_pods(label_selector)
        return [(pod.get("metadata") or {}).get("name", "") for pod in pods]

    # --- events ---------------------------------------------------------------------------

    async def events(self, labels: Mapping[str, str]) -> AsyncGenerator[ContainerEvent, None]:
        """Pod deaths as `die` (and `oom`) events, from a watch that is reopened when it ends
        or breaks; a pod deleted while running dies once, as a removed container does."""
        self._event_streams += 1
        reported: set[str] = set()
        try:
            while True:
                try:
                    async for event in self._watch(labels, reported):
                        yield event
                except (
                    RuntimeUnavailable,
                    ApiException,
                    aiohttp.ClientError,
                    OSError,
                    TimeoutError,
                ) as exc:
                    if self._closed:
                        raise RuntimeUnavailable("the Kubernetes runtime was closed") from exc
                    log.info("pod watch broke (%r); reopening", exc)
                    await asyncio.sleep(_RECONNECT_DELAY)
        finally:
            self._event_streams -= 1

    async def _watch(
        self, labels: Mapping[str, str], reported: set[str]
    ) -> AsyncGenerator[ContainerEvent, None]:
        pods, version = await self._list_pods(labels)
        alive = set()
        for pod in pods:
            view = PodView.of(pod)
            if view.dead:
                reported.add(view.name)
            else:
                alive.add(view.name)
        api = await self._client()
        core = k8s.CoreV1Api(api)
        selector = label_selector(labels)
        while True:
            async with k8s_watch.Watch() as watch:
                stream = watch.stream(
                    core.list_namespaced_pod,
                    self.namespace,
                    label_selector=selector,
                    resource_version=version,
                    timeout_seconds=_WATCH_SECONDS,
                    allow_watch_bookmarks=True,
                )
                while (change := await self._next_change(stream)) is not None:
                    raw = change.get("raw_object") or {}
                    metadata = raw.get("metadata") or {}
                    version = metadata.get("resourceVersion", version)
                    kind = change.get("type")
                    if kind == "BOOKMARK":
                        continue
                    view = PodView.of(raw)
                    if kind == "DELETED":
                        if view.name not in reported:
                            reported.add(view.name)
                            events = death_events(view) or [
                                ContainerEvent(view.name, ContainerEventKind.DIED, None)
                            ]
                            for event in events:
                                yield event
                        reported.discard(view.name)
                        continue
                    if view.dead and view.name not in reported:
                        reported.add(view.name)
                        for event in death_events(view):
                            yield event

    async def _next_change(self, stream: k8s_watch.Watch) -> dict[str, Any] | None:
        """The watch's next change; None when it ends; RuntimeUnavailable once closed."""
        change = asyncio.ensure_future(anext(stream))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({change, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pending = [waiter for waiter in (change, closing) if not waiter.done()]
            for waiter in pending:
                waiter.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if not change.done() or change.cancelled():
            raise RuntimeUnavailable("the Kubernetes runtime was closed")
        try:
            result: dict[str, Any] = change.result()
        except StopAsyncIteration:
            return None
        return result

    async def aclose(self) -> None:
        """End the open event streams, close the port-forwards, then the client (if it is
        ours)."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        for name in list(self._forwards):
            await self._close_forward(name)
        if self._api_client is not None and self._owns_client:
            await self._api_client.close()


def _digest_of(image: PerformerImage, view: PodView) -> str:
    return image.digest or repo_digest(view.image_id)


class _Gone(ContainerRuntimeError):
    """The object is not there; private to this adapter, where deletions expect it."""


class _Taken(ContainerRuntimeError):
    """The name is taken; private to this adapter, where ensure_network expects it."""
