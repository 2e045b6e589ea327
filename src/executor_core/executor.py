"""The executor's use cases: run performers for the configured AVSs and route tasks to them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar

import attrs

from executor_core.addresses import AvsAddress
from executor_core.avs_performer import AvsPerformer
from executor_core.errors import (
    AvsNotFound,
    ChainUnavailable,
    ExecutorError,
    InvalidArgument,
    ManagementRefused,
    PerformerNotFound,
    PerformerTimeout,
    ShuttingDown,
    TaskAlreadyRunning,
    TooManyAvs,
)
from executor_core.events import (
    AggregatorCheckDisabled,
    CleanupFailed,
    DeploymentRestored,
    DuplicateTaskAnswered,
    EventListener,
    ShutdownStarted,
    StoredDeploymentDropped,
    TaskCompleted,
    TaskFailed,
    TaskReadAtLatestBlock,
)
from executor_core.g2_rules import G2Admission, G2Rules
from executor_core.live_performer import PerformerDeps
from executor_core.management_auth import ManagementAuthenticator
from executor_core.node_status import ServiceStatus, service_statuses
from executor_core.performer_env import (
    RequestedEnv,
    merged_with_references,
    references,
    resolve,
)
from executor_core.performers import PerformerId, PerformerImage, PerformerView, Release
from executor_core.ports import DeploymentStore, ResultSigner
from executor_core.reconciler import Reconciler
from executor_core.settings import AvsSettings, ManagementPolicy
from executor_core.shared_runtime import SharedRuntime
from executor_core.task_auth import TaskAuthenticator
from executor_core.task_dedupe import TaskDeduplicator
from executor_core.tasks import Task, TaskId, TaskResult
from executor_core.text import shown

__all__ = ["SIGNING_RESERVE", "Deployment", "Executor", "NewAvsPolicy"]

T = TypeVar("T")

NewAvsPolicy = Callable[[AvsAddress, PerformerImage], tuple[AvsSettings, ResultSigner]]
"""Settings and result signer for an AVS that DeployArtifact names but the config does not."""

SIGNING_RESERVE = 0.05
"""Seconds of the caller's deadline kept back for signing after the performer answers."""


@attrs.frozen
class Deployment:
    """A completed deployment."""

    deployment_id: str
    performer_id: PerformerId


class Executor:
    """Routes each task to its AVS's performer, signs the output and reports performers."""

    def __init__(
        self,
        *,
        operator_address: str,
        avs_settings: Sequence[AvsSettings],
        signers: Mapping[AvsAddress, ResultSigner],
        deps: PerformerDeps,
        authenticator: TaskAuthenticator | None = None,
        default_task_timeout: float = 60.0,
        new_avs: NewAvsPolicy | None = None,
        g2: G2Rules | None = None,
        dedupe: TaskDeduplicator | None = None,
        management: ManagementPolicy | None = None,
        environment: Mapping[str, str] | None = None,
        management_auth: ManagementAuthenticator | None = None,
        deployments: DeploymentStore | None = None,
    ) -> None:
        missing = [s.avs_address.value for s in avs_settings if s.avs_address not in signers]
        if missing:
            raise ValueError(f"no result signer for AVS {', '.join(missing)}")
        if authenticator is None and any(s.verify_aggregator_signature for s in avs_settings):
            raise ValueError("an AVS checks aggregator signatures but no authenticator is given")
        self._authenticator = authenticator
        self._operator_address = operator_address
        self._deps = deps
        self._signers = dict(signers)
        self._store = deployments
        self._performers = {
            s.avs_address: AvsPerformer(s, deps, store=deployments) for s in avs_settings
        }
        self._default_task_timeout = default_task_timeout
        self._in_flight: dict[tuple[AvsAddress, TaskId], Task] = {}
        self._submitted = 0
        """`submit_task` calls not yet answered, from their arrival: what a shutdown waits for."""
        self._none_submitted = asyncio.Event()
        self._none_submitted.set()
        self._accepting = False
        self._new_avs = new_avs
        self._shared = SharedRuntime(deps, self._performers.values)
        if (g2 is None) != (dedupe is None):
            raise ValueError("second-generation tasks need both their rules and a dedupe store")
        self._g2 = g2
        self._dedupe = dedupe
        self._management = management or ManagementPolicy()
        self._environment: Mapping[str, str] = (
            MappingProxyType({}) if environment is None else environment
        )
        """The executor process's variables, which a deployment's `value_from_env` may copy."""
        self._management_auth = management_auth
        self._listed = frozenset(self._performers)

    @property
    def executor_name(self) -> str:
        """The identity its containers and networks are labelled with (`instanceName`)."""
        return self._deps.executor_name

    @property
    def management_auth(self) -> ManagementAuthenticator | None:
        """What management calls must be signed for; None when authentication is off."""
        return self._management_auth

    @property
    def accepts_g2(self) -> bool:
        """Whether second-generation (version 1) tasks are served (the config names a chain)."""
        return self._g2 is not None

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Receive every domain event; returns a function that unsubscribes."""
        return self._deps.events.subscribe(listener)

    @property
    def accepting(self) -> bool:
        """Whether tasks are taken: started, and not shutting down."""
        return self._accepting

    def load(self) -> dict[AvsAddress, tuple[int, int]]:
        """Per AVS, tasks running on a worker and tasks queued for one."""
        return {avs: performer.load for avs, performer in self._performers.items()}

    def serves(self, avs_address: AvsAddress) -> bool:
        """Whether the AVS has a performer slot here (configured or deployed)."""
        return avs_address in self._performers

    def services(self) -> list[ServiceStatus]:
        """Each AVS's performer as the node API reports it."""
        views = {avs: performer.views() for avs, performer in self._performers.items()}
        return service_statuses(views, accepting=self._accepting)

    @property
    def in_flight(self) -> int:
        """Tasks accepted and not yet answered."""
        return len(self._in_flight)

    async def start(self) -> None:
        """Start every AVS's performer; if any fails, stop the others and raise."""
        for performer in self._performers.values():
            if not performer.settings.verify_aggregator_signature:
                self._deps.events.emit(AggregatorCheckDisabled(performer.settings.avs_address))
        await self._shared.open()
        try:
            wanted = await self._wanted_releases()
            health = {avs: p.settings.health for avs, p in self._performers.items()}
            adopted = await Reconciler(self._deps).reconcile(wanted, health)
        except BaseException:
            await self._shared.stop_events()
            await self._shared.close()
            raise
        results = await asyncio.gather(
            *(
                performer.start(wanted[avs], adopted.get(avs))
                for avs, performer in self._performers.items()
            ),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self._stop_performers()
            raise failures[0]
        self._accepting = True

    async def _wanted_releases(self) -> dict[AvsAddress, Release]:
        """What each AVS should run: the stored deployment, unless the config's image changed
        since it was stored (then the config's); AVSs added by DeployArtifact come back too."""
        stored = {d.avs: d for d in await self._store.load()} if self._store else {}
        wanted = {}
        for avs, record in stored.items():
            if avs in self._performers or record.configured_image is not None:
                continue
            try:
                self._add_unlisted(avs, record.release.image)
            except ExecutorError as exc:
                self._deps.events.emit(StoredDeploymentDropped(avs, str(exc)))
                continue
        for avs, performer in self._performers.items():
            kept = stored.get(avs)
            configured = performer.settings.image if avs in self._listed else None
            if kept is None:
                wanted[avs] = performer.configured_release
            elif kept.configured_image == configured:
                wanted[avs] = kept.release
                self._deps.events.emit(DeploymentRestored(avs, kept.release.image))
            else:
                wanted[avs] = performer.configured_release
                reason = "the config's image changed since it was deployed"
                self._deps.events.emit(StoredDeploymentDropped(avs, reason))
        return wanted

    async def submit_task(self, task: Task, *, timeout: float | None) -> TaskResult:
        """Run the task on its AVS's performer and return the signed result.

        `timeout` is what is left of the caller's deadline; the executor's default applies when
        the caller set none, so a hung performer never holds a task forever.
        """
        clock = self._deps.clock
        started = clock.monotonic()
        self._submitted += 1
        self._none_submitted.clear()
        try:
            return await self._run(task, started, timeout)
        except ExecutorError as exc:
            self._deps.events.emit(
                TaskFailed(
                    task.avs_address,
                    task.task_id.value,
                    str(exc),
                    type(exc).__name__,
                    round((clock.monotonic() - started) * 1000, 2),
                    version=0 if task.envelope is None else 1,
                )
            )
            raise
        finally:
            self._submitted -= 1
            if not self._submitted:
                self._none_submitted.set()

    async def _run(self, task: Task, started: float, timeout: float | None) -> TaskResult:
        if not self._accepting:
            raise ShuttingDown("the executor is not accepting tasks")
        deadline = started + (self._default_task_timeout if timeout is None else timeout)
        performer = self._performers.get(task.avs_address)
        if performer is None:
            raise AvsNotFound(f"no performer serves AVS {task.avs_address}")
        if task.envelope is not None:
            return await self._run_g2(performer, task, started, deadline)
        if not performer.settings.accepts_g1:
            raise InvalidArgument(
                "version",
                f"0 (a first-generation task) is not accepted for AVS {task.avs_address}, "
                "which takes version 1 only; its aggregator signature could be replayed "
                "(set avsPerformers[].acceptG1Tasks to accept them)",
            )
        if performer.settings.verify_aggregator_signature:
            assert self._authenticator is not None  # checked in __init__
            await self._authenticator.authenticate(task)
        key = (task.avs_address, task.task_id)
        if key in self._in_flight:
            raise TaskAlreadyRunning(
                f"task {shown(task.task_id.value)} is already running for AVS {task.avs_address}"
            )
        verified = self._deps.clock.monotonic()
        output, performer_id, executed = await self._execute_tracked(
            performer, task, deadline - verified
        )
        signature = await self._signers[task.avs_address].sign_result(output)
        result = TaskResult(
            task_id=task.task_id,
            avs_address=task.avs_address_as_sent or task.avs_address.value,
            operator_address=self._operator_address,
            output=output,
            signature=signature,
        )
        curve = performer.settings.signing_curve
        self._completed(task, result, performer_id, started, verified, executed, curve)
        return result

    async def _run_g2(
        self, performer: AvsPerformer, task: Task, started: float, deadline: float
    ) -> TaskResult:
        if self._g2 is None or self._dedupe is None:
            raise InvalidArgument(
                "version", "1 (a second-generation task) needs l1Chain in the executor's config"
            )
        g2 = self._g2
        signed_message = g2.submission_message(task)
        if task.envelope is not None and task.envelope.task_block_number == 0:
            self._deps.events.emit(TaskReadAtLatestBlock(task.avs_address, task.task_id.value))

        async def work() -> TaskResult:
            admission: G2Admission = await self._reading_chain(
                g2.admit(task, signed_message), deadline
            )
            verified = self._deps.clock.monotonic()
            output, performer_id, executed = await self._execute_tracked(
                performer, task, deadline - verified
            )
            result = await g2.sign(task, admission, output)
            curve = admission.signer.curve.name.lower()
            self._completed(task, result, performer_id, started, verified, executed, curve)
            return result

        fingerprint = signed_message + task.aggregator_signature
        result, repeated = await self._dedupe.run_once(
            task.avs_address, task.task_id.value, fingerprint, work
        )
        if repeated:
            self._deps.events.emit(DuplicateTaskAnswered(task.avs_address, task.task_id.value))
        return result

    async def _reading_chain(self, step: Awaitable[T], deadline: float) -> T:
        """Run a step that reads the chain within the task's deadline: a slow endpoint is
        reported as unavailable, never waited on past the deadline."""
        budget = max(deadline - self._deps.clock.monotonic(), 0.0)
        try:
            async with asyncio.timeout(budget):
                return await step
        except TimeoutError:
            raise ChainUnavailable(
                f"the chain endpoint did not answer within the task's deadline ({budget:.3g} s)"
            ) from None

    async def _execute_tracked(
        self, performer: AvsPerformer, task: Task, budget: float
    ) -> tuple[bytes, PerformerId, float]:
        key = (task.avs_address, task.task_id)
        self._in_flight[key] = task
        try:
            output, performer_id = await self._execute(performer, task, budget)
        finally:
            del self._in_flight[key]
        return output, performer_id, self._deps.clock.monotonic()

    def _completed(
        self,
        task: Task,
        result: TaskResult,
        performer_id: PerformerId,
        started: float,
        verified: float,
        executed: float,
        curve: str,
    ) -> None:
        signed = self._deps.clock.monotonic()
        self._deps.events.emit(
            TaskCompleted(
                task.avs_address,
                task.task_id.value,
                performer_id,
                duration_ms=round((signed - started) * 1000, 2),
                verify_ms=round((verified - started) * 1000, 2),
                performer_ms=round((executed - verified) * 1000, 2),
                sign_ms=round((signed - executed) * 1000, 2),
                output_bytes=len(result.output),
                version=result.version,
                curve=curve,
            )
        )

    async def _execute(
        self, performer: AvsPerformer, task: Task, budget: float
    ) -> tuple[bytes, PerformerId]:
        deadline = self._deps.clock.monotonic() + budget
        try:
            async with asyncio.timeout(max(budget, 0.0)):
                return await performer.run_task(
                    task.task_id.value.encode("utf-8"),
                    task.payload,
                    timeout=max(deadline - self._deps.clock.monotonic() - SIGNING_RESERVE, 0.001),
                )
        except TimeoutError:
            raise PerformerTimeout(
                f"task {shown(task.task_id.value)} did not finish within {budget:.3g} s"
            ) from None

    async def deploy_artifact(
        self,
        avs_address: AvsAddress,
        image: PerformerImage,
        *,
        env: Sequence[RequestedEnv] = (),
    ) -> Deployment:
        """Deploy an image blue-green for the AVS; an AVS not served yet gets a new slot.

        The new performer gets the AVS's configured variables, those `env` names replaced by
        its values, and the other `env` variables after them (`performer_env.merged`; in
        Kubernetes mode, with the Secret and ConfigMap references among them); it keeps
        them when its container is recreated, and a rollback to the performer it replaces
        brings back that performer's variables.
        """
        if not self._accepting:
            raise ShuttingDown("the executor is not accepting deployments")
        if not self._management.allows(image.repository):
            raise ManagementRefused(
                f"registry_url: {shown(image.repository)} is not in management.allowedRegistries"
            )
        requested = resolve(
            env,
            allowed=self._management.allowed_value_from_env,
            environment=self._environment,
        )
        performer = self._performers.get(avs_address)
        created = performer is None
        if performer is None:
            performer = self._add_unlisted(avs_address, image)
        deployment_id = f"deployment-{avs_address.value}-{self._deps.ids.new_id()}"
        env_values, env_references = merged_with_references(
            performer.settings.env,
            performer.settings.env_references,
            requested,
            references(env),
        )
        try:
            release = Release(image, env_values, env_references)
            performer_id = await performer.deploy(release, deployment_id)
        except BaseException:
            if created and performer.empty:
                self._performers.pop(avs_address, None)
                self._signers.pop(avs_address, None)
            raise
        return Deployment(deployment_id=deployment_id, performer_id=performer_id)

    def _add_unlisted(self, avs_address: AvsAddress, image: PerformerImage) -> AvsPerformer:
        """A slot for an AVS the config does not name, within management.maxUnlistedAvs."""
        if self._new_avs is None:
            raise AvsNotFound(f"no performer serves AVS {avs_address}")
        unlisted = len(self._performers.keys() - self._listed)
        if unlisted >= self._management.max_unlisted_avs:
            raise TooManyAvs(
                f"avs_address: AVS {avs_address} is not in the config, and the executor "
                f"already serves {unlisted} such AVS (management.maxUnlistedAvs)"
            )
        settings, signer = self._new_avs(avs_address, image)
        if settings.verify_aggregator_signature and self._authenticator is None:
            raise ValueError("the new AVS checks signatures but there is no authenticator")
        performer = AvsPerformer(settings, self._deps, store=self._store, listed=False)
        self._performers[avs_address] = performer
        self._signers[avs_address] = signer
        return performer

    async def remove_performer(self, performer_id: PerformerId) -> None:
        """Remove a staged performer, or drain and remove an in-service one."""
        for performer in tuple(self._performers.values()):
            if performer.holds(performer_id):
                await performer.remove(performer_id)
                return
        raise PerformerNotFound(f"performer with ID {shown(performer_id.value)} not found")

    def list_performers(self, avs_address: AvsAddress | None = None) -> list[PerformerView]:
        """Every performer, or those of one AVS."""
        return [
            view
            for avs, performer in self._performers.items()
            if avs_address is None or avs == avs_address
            for view in performer.views()
        ]

    async def shutdown(self, grace: float) -> None:
        """Refuse new tasks, let running ones finish within `grace` s, then remove containers."""
        self._accepting = False
        if self._submitted:
            # Every accepted task, also those still waiting for a worker or being verified: the
            # performers' own idle flags go up between two queued tasks.
            self._deps.events.emit(ShutdownStarted(self._submitted, grace))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self._none_submitted.wait()
                    await asyncio.gather(*(p.wait_idle() for p in self._performers.values()))
        await self._stop_performers()

    async def _stop_performers(self) -> None:
        await self._shared.stop_events()
        results = await asyncio.gather(
            *(p.stop() for p in self._performers.values()), return_exceptions=True
        )
        for avs, result in zip(self._performers, results, strict=True):
            if isinstance(result, BaseException):
                self._deps.events.emit(CleanupFailed("its performers", str(result), avs))
        await self._shared.close()
