"""The `ContainerRuntime` contract, written once and run against the fake, the Docker adapter and
the Kubernetes adapter.

Every test module here runs against every runtime: the `backend` fixture is parametrised
(`memory`, `docker`, `kubernetes`), and the fixtures below give each test the runtime, images and
capabilities of its backend, so no test carries its own skip.

Docker runs need an engine and the `hourglass-python-base:bookworm` image and skip, with the
reason, without them. Everything they create carries TEST_LABEL and this run's RUN_LABEL and is
removed by id: per test by its CASE_LABEL, and once more for the whole run when the session ends.
Images are tagged under a stand-in registry on loopback, so no pull can leave the machine and the
registry's request log shows whether the runtime pulled. The pull and event tests also use the
real registry of the `registry` session fixture (tests/registry_support.py), which holds the
example performer by digest, and skip without docker-registry.

What the engine reports, which the fake copies: a killed container dies with exit code 137; one
stopped by `remove_container` dies once more (137 here, as the stand-in image runs as PID 1 and
ignores SIGTERM until the grace ends; 0 for a performer that exits on SIGTERM, which is what the
fake reports); a container whose start failed dies before its id is returned; an OOM kill gives
``oom`` and then ``die`` with 137. A failed pull is 404 (unknown manifest) or 500 (registry
unreachable) from Docker 20.10, told apart by the message.

Kubernetes runs use the session's local cluster (tests/kubernetes_support.py) and a namespace per
test (kubernetes_backend.py); Docker builds and exports their images, so they need what Docker
runs need as well. What the node reports: a killed container terminates with 137, as on Docker;
containerd pulls without Docker's `GET /v2/` (it begins with `HEAD .../manifests/<ref>`); an
imported image has no repository digest, as an image built locally on Docker.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import uuid
from collections.abc import (
    AsyncIterator,
    Iterator,
    Mapping,
)
from http.server import ThreadingHTTPServer

import aiodocker
import pytest

from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.kubernetes import (
    ClusterSettings,
    KubernetesContainerRuntime,
    PerformerReach,
)
from executor_adapters.memory.container_runtime import InMemoryContainerRuntime
from executor_core.performers import ContainerHardening, ContainerSpec, PerformerImage
from tests.contract.container_runtime.kubernetes_backend import (
    KubeNamespace,
    KubernetesTestImages,
    prepare_images,
    remove_from_node,
)
from tests.contract.container_runtime.support import (
    BASE_IMAGE,
    CASE_LABEL,
    DIGEST,
    FAKE_DIGEST,
    FAKE_EXITING_IMAGE,
    FAKE_IMAGE,
    FAKE_PULLABLE_IMAGE,
    FAKE_TAGGED_IMAGE,
    FAKE_UNREACHABLE_REGISTRY,
    RELAY_IMAGE,
    RUN_ID,
    RUN_LABEL,
    TEST_LABEL,
    Crash,
    DockerTestImages,
    EventWatch,
    ListingRuntime,
    NoImagesHandler,
    Pulls,
    SpecFactory,
    StandInRegistry,
    Watch,
    build_test_images,
    engine_answers,
    purge,
)
from tests.kubernetes_support import LocalCluster
from tests.registry_support import LocalRegistry, PushedImage


@pytest.fixture(scope="session")
def stand_in_registry() -> Iterator[StandInRegistry]:
    requests: list[str] = []
    handler = type("Handler", (NoImagesHandler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield StandInRegistry(f"127.0.0.1:{server.server_address[1]}", requests)
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def docker_engine() -> None:
    try:
        asyncio.run(engine_answers())
    except Exception as exc:
        pytest.skip(f"no Docker engine answers ({exc!r}); start one with scripts/setup-env.sh")


@pytest.fixture(scope="session")
def docker_run(docker_engine: None) -> Iterator[None]:
    """Remove whatever this run labelled when the session ends, even after a failed test."""
    yield

    async def purge_run() -> None:
        async with aiodocker.Docker() as docker:
            await purge(docker, {RUN_LABEL: RUN_ID})

    asyncio.run(purge_run())


@pytest.fixture(scope="session")
def docker_test_images(docker_run: None, stand_in_registry: StandInRegistry) -> DockerTestImages:
    images = asyncio.run(build_test_images(stand_in_registry))
    if images is None:
        pytest.skip(f"{BASE_IMAGE} is missing; build it with scripts/build-base-image.sh")
    return images


@pytest.fixture(scope="session")
def kubernetes_test_images(
    kubernetes_cluster: LocalCluster,
    docker_test_images: DockerTestImages,
    stand_in_registry: StandInRegistry,
) -> KubernetesTestImages:
    return prepare_images(kubernetes_cluster, docker_test_images, stand_in_registry)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("docker", marks=pytest.mark.docker),
        pytest.param("kubernetes", marks=pytest.mark.kubernetes),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """Which runtime the test runs against."""
    return str(request.param)


@pytest.fixture
def docker_images(backend: str, request: pytest.FixtureRequest) -> DockerTestImages | None:
    """The Docker backend's test images (built once per run); None for the in-memory one."""
    if backend != "docker":
        return None
    images: DockerTestImages = request.getfixturevalue("docker_test_images")
    return images


@pytest.fixture
def kubernetes_images(backend: str, request: pytest.FixtureRequest) -> KubernetesTestImages | None:
    """The Kubernetes backend's test images (imported into the node once per run)."""
    if backend != "kubernetes":
        return None
    images: KubernetesTestImages = request.getfixturevalue("kubernetes_test_images")
    return images


@pytest.fixture
def kube(
    kubernetes_images: KubernetesTestImages | None, request: pytest.FixtureRequest, case_id: str
) -> Iterator[KubeNamespace | None]:
    """The Kubernetes backend's namespace for this test, and admin access to it; deleted after
    the test with all it holds. None for the other backends."""
    if kubernetes_images is None:
        yield None
        return
    cluster: LocalCluster = request.getfixturevalue("kubernetes_cluster")
    namespace = KubeNamespace.make(cluster, case_id)
    yield namespace
    namespace.delete()


@pytest.fixture
def backend_registry(
    backend: str, request: pytest.FixtureRequest, kube: KubeNamespace | None
) -> LocalRegistry | None:
    """The real registry of the engines' pull tests; None for the in-memory one."""
    if backend == "memory":
        return None
    registry: LocalRegistry = request.getfixturevalue("registry")
    if kube is not None:  # containerd asks a registry over HTTPS unless told
        kube.cluster.trust_registry(registry.url)
        kube.cluster.trust_registry(registry.unreachable_url)
    return registry


@pytest.fixture
async def engine(
    docker_images: DockerTestImages | None, labels: dict[str, str]
) -> AsyncIterator[aiodocker.Docker | None]:
    """A client of our own, to look at the engine without going through the adapter."""
    if docker_images is None:
        yield None
        return
    async with aiodocker.Docker() as docker:
        yield docker
        await purge(docker, labels)


@pytest.fixture
async def runtime(
    engine: aiodocker.Docker | None, kube: KubeNamespace | None
) -> AsyncIterator[ListingRuntime]:
    if kube is not None:
        settings = ClusterSettings(
            namespace=kube.name,
            kubeconfig_path=str(kube.cluster.kubeconfig),
            reach=PerformerReach.PORT_FORWARD,
        )
        kubernetes_runtime = KubernetesContainerRuntime(
            settings, start_timeout=60, poll_interval=0.2
        )
        yield kubernetes_runtime
        await kubernetes_runtime.aclose()
        return
    if engine is None:
        yield InMemoryContainerRuntime(
            available_images=[
                FAKE_IMAGE,
                FAKE_EXITING_IMAGE,
                FAKE_PULLABLE_IMAGE,
                FAKE_TAGGED_IMAGE,
            ],
            exiting_images=[FAKE_EXITING_IMAGE],
            unreachable_registries={FAKE_UNREACHABLE_REGISTRY},
            repo_digests={FAKE_TAGGED_IMAGE.reference: FAKE_DIGEST},
        )
        return
    docker_runtime = AiodockerContainerRuntime(
        start_timeout=20, poll_interval=0.1, relay_image=RELAY_IMAGE
    )
    yield docker_runtime
    await docker_runtime.aclose()


@pytest.fixture
def image(
    docker_images: DockerTestImages | None, kubernetes_images: KubernetesTestImages | None
) -> PerformerImage:
    """An image whose container keeps running and listens on the performer port (and, for a
    pod's readiness probe, answers grpc.health.v1 there)."""
    found = docker_images or kubernetes_images
    return FAKE_IMAGE if found is None else found.serving


@pytest.fixture
def exiting_image(
    docker_images: DockerTestImages | None, kubernetes_images: KubernetesTestImages | None
) -> PerformerImage:
    """An image whose process exits at once."""
    found = docker_images or kubernetes_images
    return FAKE_EXITING_IMAGE if found is None else found.exiting


@pytest.fixture
def missing_image(
    docker_images: DockerTestImages | None, kubernetes_images: KubernetesTestImages | None
) -> PerformerImage:
    """An image that exists neither locally nor in its registry."""
    found = docker_images or kubernetes_images
    if found is None:
        return PerformerImage("example.test/missing", tag="v1")
    return found.missing


@pytest.fixture
def crash(
    runtime: ListingRuntime, engine: aiodocker.Docker | None, kube: KubeNamespace | None
) -> Crash:
    """Make a container's process exit behind the runtime's back."""
    if kube is not None:
        return kube.crash
    if engine is None:
        assert isinstance(runtime, InMemoryContainerRuntime)
        memory = runtime

        async def crash_in_memory(container_id: str) -> None:
            memory.crash(container_id)

        return crash_in_memory
    docker = engine

    async def kill(container_id: str) -> None:
        container = docker.containers.container(container_id)
        await container.kill()
        await container.wait()

    return kill


@pytest.fixture
async def pullable_image(
    backend_registry: LocalRegistry | None,
    engine: aiodocker.Docker | None,
    kube: KubeNamespace | None,
) -> PerformerImage:
    """An image by digest in a reachable registry, not present locally when the test begins."""
    if backend_registry is None:
        return FAKE_PULLABLE_IMAGE
    if kube is not None:
        remove_from_node(kube.cluster, _node_names(backend_registry.v1))
    if engine is not None:
        await _absent(engine, backend_registry.v1.reference)
    return backend_registry.v1.image


@pytest.fixture
async def tagged_image(
    backend_registry: LocalRegistry | None,
    engine: aiodocker.Docker | None,
    kube: KubeNamespace | None,
) -> AsyncIterator[tuple[PerformerImage, str]]:
    """An image by tag in a reachable registry, not present locally, and the digest the
    registry serves for it; the local tag is removed again after the test."""
    if backend_registry is None:
        yield FAKE_TAGGED_IMAGE, FAKE_DIGEST
        return
    pushed = backend_registry.v1
    image = PerformerImage(pushed.repository, tag=pushed.tag)
    if kube is not None:
        remove_from_node(kube.cluster, _node_names(pushed))
    if engine is not None:
        await _absent(engine, image.reference)
    yield image, pushed.digest
    if kube is not None:
        remove_from_node(kube.cluster, _node_names(pushed))
    if engine is not None:
        await _absent(engine, image.reference)


def _node_names(pushed: PushedImage) -> list[str]:
    """Every name containerd's CRI gives a pulled image: by tag, by digest, by image id."""
    return [f"{pushed.repository}:{pushed.tag}", pushed.reference, pushed.image_id]


async def _absent(engine: aiodocker.Docker, reference: str) -> None:
    """Make sure the engine does not have `reference`. An earlier test may have pulled it, and
    the engine may still be letting go of that test's containers (it answers 409 until then)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        try:
            await engine.images.delete(reference)
        except aiodocker.DockerError as exc:
            if exc.status == 404:
                return
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture
def pulls(
    runtime: ListingRuntime,
    backend: str,
    backend_registry: LocalRegistry | None,
    pullable_image: PerformerImage,
) -> Pulls:
    """Count the pulls of `pullable_image` since the test began."""
    if backend_registry is None:
        assert isinstance(runtime, InMemoryContainerRuntime)
        memory = runtime
        return lambda: memory.pulled_images.count(FAKE_PULLABLE_IMAGE.reference)
    registry = backend_registry
    before = len(registry.requests())
    if backend == "kubernetes":

        def count_resolves() -> int:
            # containerd sends no GET /v2/: each of its pulls begins with resolving the
            # reference, HEAD /v2/<repository>/manifests/<tag or digest>.
            asked = registry.requests()[before:]
            return len([r for r in asked if r.method == "HEAD" and "/manifests/" in r.path])

        return count_resolves

    def count() -> int:
        # Every pull begins with the engine's GET /v2/; what follows differs, as an engine
        # that once had the image fetches blobs by digest without asking for the manifest.
        asked = registry.requests()[before:]
        return len([r for r in asked if r.method == "GET" and r.path.rstrip("/") == "/v2"])

    return count


@pytest.fixture
def unreachable_image(backend_registry: LocalRegistry | None) -> PerformerImage:
    """An image by digest whose registry refuses connections."""
    if backend_registry is None:
        return PerformerImage(f"{FAKE_UNREACHABLE_REGISTRY}/example-performer", digest=FAKE_DIGEST)
    return PerformerImage(f"{backend_registry.unreachable_url}/example-performer", digest=DIGEST)


@pytest.fixture
def unknown_digest_image(backend_registry: LocalRegistry | None) -> PerformerImage:
    """A digest the registry does not have, in a repository it has."""
    if backend_registry is None:
        return PerformerImage(FAKE_PULLABLE_IMAGE.repository, digest="sha256:" + "ab" * 32)
    return PerformerImage(backend_registry.v1.repository, digest=DIGEST)


@pytest.fixture
def unknown_repository_image(backend_registry: LocalRegistry | None) -> PerformerImage:
    """A repository the registry does not have."""
    if backend_registry is None:
        return PerformerImage("127.0.0.1:5000/no-such-performer", digest=FAKE_DIGEST)
    registry = backend_registry
    return PerformerImage(f"{registry.url}/no-such-performer", digest=registry.v1.digest)


@pytest.fixture
def endpoint_accepts_connections(backend: str) -> bool:
    """Capability: something really listens at the endpoints the runtime returns."""
    return backend in ("docker", "kubernetes")


@pytest.fixture
def ensure_image_pulls(backend: str) -> bool:
    """Capability: `ensure_image` itself pulls, and so reports what a pull would. False for
    Kubernetes, where the node's kubelet pulls when the pod starts and `ensure_image` has
    nothing to do; its pull failures are reported by `start_container`."""
    return backend != "kubernetes"


@pytest.fixture
async def watch(runtime: ListingRuntime) -> AsyncIterator[Watch]:
    """Start consuming events of containers with some labels; stopped after the test."""
    watches: list[EventWatch] = []

    async def start(labels: Mapping[str, str]) -> EventWatch:
        watching = EventWatch(runtime, labels)
        watches.append(watching)
        # Let the iterator begin: that is when it subscribes, or notes the time it asks the
        # engine to replay events from.
        await asyncio.sleep(0)
        return watching

    yield start
    for watching in watches:
        await watching.stop()


@pytest.fixture
def case_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
def labels(case_id: str) -> dict[str, str]:
    return {TEST_LABEL: "1", RUN_LABEL: RUN_ID, CASE_LABEL: case_id}


@pytest.fixture
def network_name(case_id: str) -> str:
    return f"executor-test-{case_id}"


@pytest.fixture
def make_spec(image: PerformerImage, labels: dict[str, str], case_id: str) -> SpecFactory:
    counter = itertools.count(1)
    default_image = image

    def make(
        *,
        image: PerformerImage | None = None,
        network: str | None = None,
        extra_labels: Mapping[str, str] | None = None,
        hardening: ContainerHardening | None = None,
    ) -> ContainerSpec:
        return ContainerSpec(
            image=image or default_image,
            name=f"executor-test-{case_id}-{next(counter)}",
            labels={**labels, **(extra_labels or {})},
            network=network,
            hardening=hardening or ContainerHardening(),
        )

    return make
