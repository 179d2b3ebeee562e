"""Files in a NATS JetStream object store, behind the blocking FileStorage interface.

nats-py is asyncio; strategies and handlers are threads. The store runs its own event
loop on a daemon thread, and bytes cross between the two through bounded queues, so
neither a write nor a read ever holds more than a few chunks in memory.
An object becomes visible only when nats-py publishes its metadata after the last
chunk; a failed or aborted `put` purges the chunks it sent (if NATS is away at that
moment, the chunks stay behind, invisible, under a name nothing refers to).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import functools
import hashlib
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from nats.js import api
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import (
    OBJ_CHUNKS_PRE_TEMPLATE,
    OBJ_DIGEST_TYPE,
    OBJ_META_PRE_TEMPLATE,
    OBJ_STREAM_TEMPLATE,
    ObjectStore,
)

from service.files.bridge import (
    OPERATION_TIMEOUT,
    POLL_SECONDS,
    QUEUE_CHUNKS,
    LoopThread,
    Pipe,
    TransferAbortedError,
    hand_over,
)
from service.files.storage import (
    FileReader,
    FileStorage,
    FileWriter,
    StoredFile,
    StoredFileNotFoundError,
    check_key,
)
from service.nats_client import connect, create_or_get
from service.retry import (
    CALL_BACKOFF,
    TransientError,
    is_transient,
    retry_transient,
    retry_transient_async,
)

log = structlog.get_logger("files")
# A call fails within seconds while NATS is away (the caller decides whether to wait).
FIRST_CONNECT_SECONDS = 5.0

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterator
    from typing import Any, TypeVar

    from nats.aio.client import Client
    from nats.js import JetStreamContext

    T = TypeVar("T")


def _unanswered(error: TimeoutError) -> Exception:
    """A call the broker left unanswered is an outage (transient), not a bug."""
    if is_transient(error):
        return error
    return TransientError(f"NATS did not answer within {OPERATION_TIMEOUT:.0f} s")


class JetStreamFileWriter(FileWriter):
    def __init__(self, key: str, store: ObjectStore, loop: LoopThread) -> None:
        super().__init__(key)
        self._stopped = loop.stopped
        self._pipe = Pipe(loop.stopped)
        self._upload = loop.submit(store.put(key, self._pipe))  # type: ignore[arg-type]

    def _write_chunk(self, chunk: bytes) -> None:
        self._hand_over(chunk)

    def _commit(self) -> None:
        self._hand_over(None)
        self._upload_result()

    def _hand_over(self, chunk: bytes | None) -> None:
        try:
            hand_over(self._pipe.chunks, chunk, self._upload.done)
        except TransferAbortedError:
            # The upload ended early: report why (its own error, or the store closed).
            self._upload_result()
            raise

    def _upload_result(self) -> None:
        """The upload's outcome; a store closed under it says so, however it ended.

        Closing may cancel the upload or close its connection first (nats-py then
        raises ConnectionClosedError): the caller sees one error either way.
        """
        try:
            self._upload.result(OPERATION_TIMEOUT)
        except Exception as error:
            if self._upload.cancelled() or self._stopped.is_set():
                raise RuntimeError("the file storage is closed") from error
            if isinstance(error, TimeoutError):
                raise _unanswered(error) from error
            raise

    def _abort(self) -> None:
        self._pipe.aborted.set()  # put() raises, then purges the chunks it sent
        with contextlib.suppress(Exception):
            self._upload.result(OPERATION_TIMEOUT)


class JetStreamFileReader(FileReader):
    def __init__(self, chunks: queue.Queue[bytes | None], download: Download) -> None:
        super().__init__(self._receive(chunks, download))
        self._download = download

    @staticmethod
    def _receive(
        chunks: queue.Queue[bytes | None], download: Download
    ) -> Iterator[bytes]:
        while True:
            try:
                chunk = chunks.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if download.future.done() and chunks.empty():
                    download.future.result()  # raises the download's error
                    return
                continue
            if chunk is None:
                download.future.result(OPERATION_TIMEOUT)
                return
            yield chunk

    def _release(self) -> None:
        self._download.stop.set()


class Download:
    """One object's chunks, fetched one by one from the stream into a bounded queue.

    Each chunk is a `get_msg` (next by subject) answered by the stream's leader, not
    an ephemeral consumer: with a node of a cluster down, nats-server 2.9 may place a
    new consumer on that node and never answer. A fetch that meets an outage is tried
    again (CALL_BACKOFF); the digest check still covers the whole object.
    """

    def __init__(self, loop: LoopThread) -> None:
        self.stop = threading.Event()
        self.chunks: queue.Queue[bytes | None] = queue.Queue(QUEUE_CHUNKS)
        self._loop = loop
        self.future: concurrent.futures.Future[None] = concurrent.futures.Future()

    def start(self, js: JetStreamContext, bucket: str, info: api.ObjectInfo) -> None:
        self.future = self._loop.submit(self._run(js, bucket, info))

    def _gave_up(self) -> bool:
        """The reader was closed, or the storage is closing."""
        return self.stop.is_set() or self._loop.stopped.is_set()

    async def _run(
        self, js: JetStreamContext, bucket: str, info: api.ObjectInfo
    ) -> None:
        loop = asyncio.get_running_loop()
        stream = OBJ_STREAM_TEMPLATE.format(bucket=bucket)
        subject = OBJ_CHUNKS_PRE_TEMPLATE.format(bucket=bucket, obj=info.nuid)
        digest, received, size, sequence = hashlib.sha256(), 0, info.size or 0, 0
        while received < size and not self._gave_up():
            message = await retry_transient_async(
                functools.partial(
                    js.get_msg, stream, seq=sequence + 1, subject=subject, next=True
                ),
                what="files.read_chunk",
                backoff=CALL_BACKOFF,
            )
            data, sequence = message.data or b"", message.seq or sequence + 1
            digest.update(data)
            received += len(data)
            await loop.run_in_executor(
                None, hand_over, self.chunks, data, self._gave_up
            )
        expected = (info.digest or "").removeprefix(OBJ_DIGEST_TYPE)
        if base64.urlsafe_b64decode(expected) != digest.digest():
            raise OSError(f"object {info.name}: content does not match its digest")
        await loop.run_in_executor(None, hand_over, self.chunks, None, self._gave_up)


def object_stored_at(mtime: str | None) -> datetime | None:
    """An object's RFC 3339 `mtime` (nats-py writes microseconds, Go nanoseconds)."""
    if not mtime:
        return None
    text = mtime.replace("Z", "+00:00")
    whole, dot, rest = text.partition(".")
    if dot:  # at most 6 fraction digits for fromisoformat
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{whole}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Connection:
    nc: Client
    js: JetStreamContext
    store: ObjectStore


class JetStreamFileStorage(FileStorage):
    """Keys are object names in one bucket (created if missing).

    It connects on first use, not on construction: a process starts (and serves batch
    jobs) while NATS is away, and a failed connection is tried again on the next call.
    Once made, the connection reconnects for as long as the storage is open. A call
    that meets an outage is tried again for a few seconds (CALL_BACKOFF), then raises
    the transient error; a job's step is retried for longer (service.retry).
    """

    def __init__(self, servers: list[str], bucket: str, replicas: int = 1) -> None:
        self._loop = LoopThread("files-nats")
        self.bucket, self._servers, self._replicas = bucket, servers, replicas
        self._connection: _Connection | None = None
        self._lock = threading.Lock()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            return self._loop.run(coroutine)
        except TimeoutError as error:
            raise _unanswered(error) from error

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        return retry_transient(call, what=what, backoff=CALL_BACKOFF)

    def _connected(self) -> _Connection:
        return self._retrying("files.connect", self._connected_once)

    def _connected_once(self) -> _Connection:
        with self._lock:
            if self._connection is None or self._connection.nc.is_closed:
                self._connection = self._run(self._connect())
            return self._connection

    async def _connect(self) -> _Connection:
        nc = await connect(
            self._servers,
            "jobstream-files",
            first_connect_seconds=FIRST_CONNECT_SECONDS,
        )
        js = nc.jetstream()
        config = api.ObjectStoreConfig(
            bucket=self.bucket, storage=api.StorageType.FILE, replicas=self._replicas
        )
        try:
            # Workers starting together on a fresh deployment all create it: race-free.
            store = await create_or_get(
                lambda: js.object_store(self.bucket),
                lambda: js.create_object_store(self.bucket, config=config),
                missing=BucketNotFoundError,
                what=f"bucket {self.bucket}",
            )
        except BaseException:
            await nc.close()
            raise
        return _Connection(nc, js, store)

    def _info(self, key: str) -> api.ObjectInfo:
        check_key(key)
        try:
            return self._retrying(
                "files.info",
                lambda: self._run(self._connected_once().store.get_info(key)),
            )
        except ObjectNotFoundError:
            raise StoredFileNotFoundError(key) from None

    def open_writer(self, key: str) -> JetStreamFileWriter:
        check_key(key)
        return JetStreamFileWriter(key, self._connected().store, self._loop)

    def open_reader(self, key: str) -> JetStreamFileReader:
        info = self._info(key)
        download = Download(self._loop)
        download.start(self._connected().js, self.bucket, info)
        return JetStreamFileReader(download.chunks, download)

    def size(self, key: str) -> int:
        return self._info(key).size or 0

    def exists(self, key: str) -> bool:
        try:
            self._info(key)
        except StoredFileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> bool:
        check_key(key)
        try:
            self._retrying(
                "files.delete",
                lambda: self._run(self._delete(self._connected_once(), key)),
            )
        except ObjectNotFoundError:
            return False
        return True

    async def _delete(self, connection: _Connection, key: str) -> None:
        await connection.store.delete(key)  # purges the chunks, leaves a record
        name = base64.urlsafe_b64encode(key.encode()).decode()
        meta = OBJ_META_PRE_TEMPLATE.format(bucket=self.bucket, obj=name)
        stream = OBJ_STREAM_TEMPLATE.format(bucket=self.bucket)
        await connection.js.purge_stream(stream, subject=meta)  # and that record

    def list_files(self) -> Iterator[StoredFile]:
        """Every object of the bucket (an unfinished `put` has no metadata yet)."""
        infos = self._retrying(
            "files.list", lambda: self._run(self._list(self._connected_once()))
        )
        for info in infos:
            stored_at = object_stored_at(info.mtime)
            if info.name is None or stored_at is None:
                log.warning("files.unknown_age", file_key=info.name, mtime=info.mtime)
                continue  # kept: an age it cannot tell is never "old"
            yield StoredFile(info.name, info.size or 0, stored_at)

    async def _list(self, connection: _Connection) -> list[api.ObjectInfo]:
        try:
            return await connection.store.list(ignore_deletes=True)
        except NotFoundError:  # nats-py's answer for an empty bucket
            return []

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._loop.run(self._connection.nc.close(), timeout=10)
        self._loop.stop()

    def store_status(self) -> ObjectStore.ObjectStoreStatus:
        """The bucket's state (its size includes chunks of unfinished writes)."""
        return self._run(self._connected().store.status())
