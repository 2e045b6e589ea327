"""The executor's durable state in one SQLite database: deployments and processed G2 tasks.

SQLite comes with Python, needs no server, and in WAL mode keeps every committed transaction
when the process is killed at any moment (SIGKILL, OOM): a write is acknowledged only once it is
committed. `synchronous=NORMAL` skips the fsync per commit, so a power cut may lose the last
commits (not corrupt the file); `StateDatabase.open(synchronous="FULL")` trades speed for that.
Every statement runs on one worker thread that owns the connection, so writes happen in the
order they were asked for and the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from executor_core.addresses import AvsAddress
from executor_core.performers import (
    EnvReference,
    EnvSource,
    PerformerId,
    PerformerImage,
    Release,
)
from executor_core.ports import Clock, ProcessedTask, StoredDeployment
from executor_core.tasks import TaskId, TaskResult

__all__ = [
    "DATABASE_FILE",
    "SqliteDeploymentStore",
    "SqliteProcessedTasks",
    "StateDatabase",
    "StateDatabaseError",
]

DATABASE_FILE = "executor-state.sqlite3"
SCHEMA_VERSION = 1
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deployments (
    avs TEXT PRIMARY KEY,
    release TEXT NOT NULL,
    performer_id TEXT NOT NULL,
    configured_image TEXT
);
CREATE TABLE IF NOT EXISTS processed_tasks (
    avs TEXT NOT NULL,
    task_id TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    result TEXT NOT NULL,
    processed_at REAL NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (avs, task_id)
);
CREATE INDEX IF NOT EXISTS processed_tasks_age ON processed_tasks (processed_at);
"""


class StateDatabaseError(Exception):
    """The database cannot be opened, or was written by a newer executor."""


class StateDatabase:
    """One connection to `<directory>/executor-state.sqlite3`, used from one thread."""

    def __init__(self, path: Path, connection: sqlite3.Connection, worker: ThreadPoolExecutor):
        self.path = path
        self._connection = connection
        self._worker = worker

    @classmethod
    async def open(cls, directory: str | Path, *, synchronous: str = "NORMAL") -> StateDatabase:
        """Open (creating it and its directory, mode 0700, if needed) and check the schema."""
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous is NORMAL or FULL")
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-db")
        path = Path(directory) / DATABASE_FILE
        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(worker, _connect, path, synchronous)
        except BaseException:
            worker.shutdown(wait=False)
            raise
        return cls(path, connection, worker)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the database thread, inside one transaction."""

        def transaction() -> T:
            with self._connection:
                return work(self._connection)

        return await asyncio.get_running_loop().run_in_executor(self._worker, transaction)

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._worker, self._connection.close)
        self._worker.shutdown(wait=True)


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fresh = not path.exists()
        connection = sqlite3.connect(path, isolation_level="DEFERRED", check_same_thread=False)
        if fresh:
            os.chmod(path, 0o600)  # it holds the performers' environments, secrets included
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={synchronous}")
        connection.execute("PRAGMA busy_timeout=5000")
        with connection:
            connection.executescript(_SCHEMA)
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StateDatabaseError(
                    f"{path} was written by a newer executor (schema {row[0]}); "
                    f"this one reads schema {SCHEMA_VERSION}"
                )
        connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as exc:
        raise StateDatabaseError(f"cannot open {path}: {exc}") from exc
    return connection


def _image_text(image: PerformerImage) -> str:
    return json.dumps([image.repository, image.tag, image.digest])


def _image(text: str) -> PerformerImage:
    repository, tag, digest = json.loads(text)
    return PerformerImage(repository, tag=tag, digest=digest)


class SqliteDeploymentStore:
    """Implements `executor_core.ports.DeploymentStore` in the `deployments` table."""

    def __init__(self, database: StateDatabase) -> None:
        self._db = database

    async def load(self) -> Sequence[StoredDeployment]:
        rows = await self._db.run(
            lambda c: c.execute(
                "SELECT avs, release, performer_id, configured_image FROM deployments"
            ).fetchall()
        )
        return [_deployment(*row) for row in rows]

    async def save(self, deployment: StoredDeployment) -> None:
        release = json.dumps(
            {
                "image": json.loads(_image_text(deployment.release.image)),
                "env": [list(pair) for pair in deployment.release.env],
                "env_references": [
                    [ref.name, ref.source.value, ref.object_name, ref.key]
                    for ref in deployment.release.env_references
                ],
            }
        )
        configured = (
            None
            if deployment.configured_image is None
            else _image_text(deployment.configured_image)
        )
        row = (deployment.avs.value, release, deployment.performer_id.value, configured)
        await self._db.run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO deployments "
                "(avs, release, performer_id, configured_image) VALUES (?, ?, ?, ?)",
                row,
            )
        )

    async def forget(self, avs: AvsAddress) -> None:
        await self._db.run(
            lambda c: c.execute("DELETE FROM deployments WHERE avs = ?", (avs.value,))
        )


def _deployment(
    avs: str, release: str, performer_id: str, configured_image: str | None
) -> StoredDeployment:
    data = json.loads(release)
    repository, tag, digest = data["image"]
    return StoredDeployment(
        avs=AvsAddress(avs),
        release=Release(
            PerformerImage(repository, tag=tag, digest=digest),
            tuple((str(name), str(value)) for name, value in data["env"]),
            tuple(
                EnvReference(str(name), EnvSource(source), str(object_name), str(key))
                for name, source, object_name, key in data.get("env_references", ())
            ),
        ),
        performer_id=PerformerId(performer_id),
        configured_image=None if configured_image is None else _image(configured_image),
    )


def _result_text(result: TaskResult) -> str:
    return json.dumps(
        {
            "task_id": result.task_id.value,
            "avs_address": result.avs_address,
            "operator_address": result.operator_address,
            "output": result.output.hex(),
            "signature": result.signature.hex(),
            "operator_set_id": result.operator_set_id,
            "auth_signature": result.auth_signature.hex(),
            "version": result.version,
        }
    )


def _result(text: str) -> TaskResult:
    data: dict[str, Any] = json.loads(text)
    return TaskResult(
        task_id=TaskId(data["task_id"]),
        avs_address=data["avs_address"],
        operator_address=data["operator_address"],
        output=bytes.fromhex(data["output"]),
        signature=bytes.fromhex(data["signature"]),
        operator_set_id=int(data["operator_set_id"]),
        auth_signature=bytes.fromhex(data["auth_signature"]),
        version=int(data["version"]),
    )


class SqliteProcessedTasks:
    """Implements `executor_core.ports.ProcessedTasks` in the `processed_tasks` table, with the
    bounds of the in-memory store: `retention` seconds (wall clock, which survives restarts),
    `max_entries` results and `max_bytes` of them; the oldest go first."""

    def __init__(
        self,
        database: StateDatabase,
        clock: Clock,
        *,
        retention: float,
        max_entries: int,
        max_bytes: int,
    ) -> None:
        if retention <= 0 or max_entries < 1 or max_bytes < 1:
            raise ValueError("retention, max_entries and max_bytes must be positive")
        self._db = database
        self._clock = clock
        self._retention = retention
        self._max_entries = max_entries
        self._max_bytes = max_bytes

    async def get(self, avs: AvsAddress, task_id: str) -> ProcessedTask | None:
        horizon = self._clock.now().timestamp() - self._retention
        row = await self._db.run(
            lambda c: c.execute(
                "SELECT fingerprint, result FROM processed_tasks "
                "WHERE avs = ? AND task_id = ? AND processed_at > ?",
                (avs.value, task_id, horizon),
            ).fetchone()
        )
        if row is None:
            return None
        return ProcessedTask(bytes(row[0]), _result(row[1]))

    async def put(self, avs: AvsAddress, task_id: str, entry: ProcessedTask) -> None:
        result = _result_text(entry.result)
        size = len(result) + len(entry.fingerprint) + len(task_id) + 64
        if size > self._max_bytes:
            return
        now = self._clock.now().timestamp()
        row = (avs.value, task_id, entry.fingerprint, result, now, size)

        def write(c: sqlite3.Connection) -> None:
            c.execute(
                "INSERT OR REPLACE INTO processed_tasks "
                "(avs, task_id, fingerprint, result, processed_at, size) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
            c.execute(
                "DELETE FROM processed_tasks WHERE processed_at <= ?", (now - self._retention,)
            )
            count, total = c.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM processed_tasks"
            ).fetchone()
            while count > self._max_entries or total > self._max_bytes:
                oldest = c.execute(
                    "SELECT rowid, size FROM processed_tasks ORDER BY processed_at, rowid LIMIT 1"
                ).fetchone()
                c.execute("DELETE FROM processed_tasks WHERE rowid = ?", (oldest[0],))
                count, total = count - 1, total - oldest[1]

        await self._db.run(write)
