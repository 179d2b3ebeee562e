"""Who owns each stored file: recorded in the event store before the file appears.

Decision 003 (docs/decisions/003-file-owners.md): every process of a deployment shares
the event store, whichever file store it uses, so the owner is a `FileOwner`
aggregate there, saved before the first byte is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.files import FileExpiredError, FileNotYoursError, FileOwner, may_use
from service.files.storage import FileStorage, StoredFileNotFoundError, check_key

if TYPE_CHECKING:
    from collections.abc import Iterator

    from domain.users import UserRole
    from service.application import Jobstream
    from service.files.storage import FileReader, FileWriter, StoredFile

log = structlog.get_logger("files")


class FileOwners:
    """Records and checks owners; one read or one write of the event store each."""

    def __init__(self, app: Jobstream) -> None:
        self._app = app

    def owner_of(self, key: str) -> str | None:
        """The recorded owner, or None for a file stored before owners were recorded."""
        record = self._record_of(key)
        return None if record is None else record.owner

    def _record_of(self, key: str) -> FileOwner | None:
        try:
            record: object = self._app.repository.get(FileOwner.id_for(key))
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, FileOwner) else None

    def expire(self, key: str, retention_hours: float, actor: str) -> None:
        """Record that `key` was removed for its age (nothing for a file without owner)."""
        record = self._record_of(key)
        if record is None or not record.expire(retention_hours, actor):
            return
        try:
            self._app.save(record)
        except IntegrityError:  # another sweeper recorded it first
            return

    def missing(self, key: str) -> StoredFileNotFoundError | FileExpiredError:
        """The not-found error for a key with no file: why, if it was removed for its age."""
        record = self._record_of(key)
        if (
            record is None
            or record.expired_at is None
            or record.retention_hours is None
        ):
            return StoredFileNotFoundError(key)
        return FileExpiredError(key, record.expired_at, record.retention_hours)

    def record(self, key: str, owner: str, actor: str) -> None:
        """Make `owner` the key's owner; again for the same owner is a no-op (a retry).

        Two writers racing for one key collide on the record's id: the loser reads the
        winner and is refused unless it is the same owner.
        """
        try:
            self._app.save(FileOwner.record(key, owner, actor))
        except IntegrityError:
            current = self.owner_of(key)
            if current != owner:
                raise FileNotYoursError(key, current) from None
            return
        log.info("files.owner_recorded", file_key=key, owner=owner, actor=actor)

    def check(
        self,
        files: FileStorage,
        key: str,
        user_id: str,
        role: UserRole | None,
        *,
        before_reading: bool = False,
    ) -> bool:
        """Whether `user_id` may use `key`; raise `FileNotYoursError` if it may not.

        False: not the caller's, but no such file is stored, so the caller answers as
        for any missing key and leaves the key alone (it may still appear, if its
        owner's write is under way). `before_reading`: the caller reads the key next,
        so a key another user owns is refused even while its file is missing.
        """
        owner = self.owner_of(key)
        if may_use(owner, user_id, role):
            return True
        if not (before_reading and owner is not None) and not files.exists(key):
            return False
        log.info("files.use_refused", file_key=key, user_id=user_id, owner=owner)
        raise FileNotYoursError(key, owner)

    def writes_by(self, files: FileStorage, owner: str, actor: str) -> FileStorage:
        """`files`, where each file written is recorded as `owner`'s before it appears."""
        return OwnedWrites(files, self, owner, actor)


class OwnedWrites(FileStorage):
    """A file storage whose `open_writer` first records who owns the new file."""

    def __init__(
        self, files: FileStorage, owners: FileOwners, owner: str, actor: str
    ) -> None:
        self._files, self._owners = files, owners
        self.owner, self._actor = owner, actor

    def open_writer(self, key: str) -> FileWriter:
        self._owners.record(check_key(key), self.owner, self._actor)
        return self._files.open_writer(key)

    def open_reader(self, key: str) -> FileReader:
        return self._files.open_reader(key)

    def size(self, key: str) -> int:
        return self._files.size(key)

    def exists(self, key: str) -> bool:
        return self._files.exists(key)

    def delete(self, key: str) -> bool:
        return self._files.delete(key)

    def list_files(self) -> Iterator[StoredFile]:
        return self._files.list_files()

    def close(self) -> None:
        """The wrapped storage is closed by whoever built it."""
