"""The one storage interface for evidence files and PDFs: content-addressed by sha256.

Files live under ``CERTIFY_STORAGE_DIR`` (default ``instance/storage``), outside any static
folder, so the web server can never hand them out by URL: every download goes through a view
that checks permissions and then calls ``send_file(path_of(sha256), ...)``.

A file's name is its sha256, fanned out in two folder levels (``ab/cd/abcd…``) so that no folder
grows past a few thousand entries. Storing the same content twice stores it once. Writes go to a
temporary file in the same file system and are moved into place with ``os.replace``, so a reader
never sees half a file, even when the process dies mid-write.

The module-level functions use the current application's storage; ``LocalStorage`` is the
class behind them, so that an S3-compatible implementation can later take its place.
"""

import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple

from flask import Flask, current_app

_EXTENSION_KEY = "certify.storage"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 64 * 1024


class StoredFile(NamedTuple):
    """What the storage knows about one file: its content address and size in bytes."""

    sha256: str
    size: int


class StorageError(Exception):
    """A storage operation was refused; the message is for the log, not for users."""


class InvalidDigest(StorageError, ValueError):
    """The argument is not a sha256 digest as the storage writes them (64 lowercase hex)."""


class FileTooLarge(StorageError):
    """``store_stream`` read more than ``max_size`` bytes; nothing was kept."""

    def __init__(self, max_size: int):
        super().__init__(f"the file is larger than {max_size} bytes")
        self.max_size = max_size


def check_digest(sha256: str) -> str:
    """Return ``sha256`` if it is 64 lowercase hex characters, else raise ``InvalidDigest``.

    Only digests reach the file system, so no argument can name a path outside the storage.
    """
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InvalidDigest(f"not a sha256 digest: {sha256!r:.80}")
    return sha256


class LocalStorage:
    """Content-addressed files in a local folder (or a shared volume mounted on every host)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def store_bytes(self, data: bytes) -> StoredFile:
        """Store ``data`` once and return its address; storing it again changes nothing."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self._path(sha256)
        if not target.exists():
            with self._temporary_file() as (handle, temporary):
                handle.write(data)
                self._move_into_place(handle, temporary, target)
        return StoredFile(sha256, len(data))

    def store_stream(self, fileobj: BinaryIO, max_size: int) -> StoredFile:
        """Copy ``fileobj`` into the storage, hashing while writing.

        Raises ``FileTooLarge`` as soon as more than ``max_size`` bytes have been read; the
        partial copy is removed and the rest of the stream is left unread.
        """
        digest = hashlib.sha256()
        size = 0
        with self._temporary_file() as (handle, temporary):
            while chunk := fileobj.read(_CHUNK):
                size += len(chunk)
                if size > max_size:
                    raise FileTooLarge(max_size)
                digest.update(chunk)
                handle.write(chunk)
            sha256 = digest.hexdigest()
            target = self._path(sha256)
            if not target.exists():
                self._move_into_place(handle, temporary, target)
        return StoredFile(sha256, size)

    def open_file(self, sha256: str) -> BinaryIO:
        """The stored file, opened for binary reading; ``FileNotFoundError`` if absent."""
        return self.path_of(sha256).open("rb")

    def path_of(self, sha256: str) -> Path:
        """The stored file's path, for ``send_file``; ``FileNotFoundError`` if absent."""
        path = self._path(sha256)
        if not path.is_file():
            raise FileNotFoundError(f"no stored file {sha256}")
        return path

    def exists(self, sha256: str) -> bool:
        """Whether a file with this digest is stored."""
        return self._path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        """Remove the stored file; return whether there was one.

        Content addressing means several records may share one file: callers delete only
        when no record refers to the digest any more.
        """
        try:
            self._path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def _path(self, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    @contextmanager
    def _temporary_file(self):
        """A temporary file in the storage root: the same file system as its destination,
        which ``os.replace`` needs to be atomic. Removed on exit unless moved into place."""
        self.root.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                yield handle, temporary
        finally:
            temporary.unlink(missing_ok=True)

    @staticmethod
    def _move_into_place(handle: BinaryIO, temporary: Path, target: Path) -> None:
        handle.flush()
        # The data must be on disk before the name points at it, or a crash could leave a
        # complete-looking name over an empty file.
        os.fsync(handle.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, target)


def storage(app: Flask | None = None) -> LocalStorage:
    """The application's storage, made once from ``CERTIFY_STORAGE_DIR``."""
    app = app or current_app._get_current_object()
    root = Path(app.config.get("CERTIFY_STORAGE_DIR") or Path(app.instance_path) / "storage")
    existing = app.extensions.get(_EXTENSION_KEY)
    # Tests may point the setting at a fresh folder; follow the setting, not the first value.
    if existing is None or existing.root != root:
        existing = app.extensions[_EXTENSION_KEY] = LocalStorage(root)
    return existing


def store_bytes(data: bytes) -> StoredFile:
    """Store ``data`` in the current application's storage (see ``LocalStorage.store_bytes``)."""
    return storage().store_bytes(data)


def store_stream(fileobj: BinaryIO, max_size: int) -> StoredFile:
    """Stream ``fileobj`` into the current application's storage, refusing more than ``max_size``
    bytes with ``FileTooLarge`` (see ``LocalStorage.store_stream``)."""
    return storage().store_stream(fileobj, max_size)


def open_file(sha256: str) -> BinaryIO:
    """Open a stored file for binary reading."""
    return storage().open_file(sha256)


def path_of(sha256: str) -> Path:
    """The path of a stored file, for ``send_file``."""
    return storage().path_of(sha256)


def exists(sha256: str) -> bool:
    """Whether a file with this digest is stored."""
    return storage().exists(sha256)


def delete(sha256: str) -> bool:
    """Remove a stored file; return whether there was one."""
    return storage().delete(sha256)


def storage_location_problem(app: Flask) -> str | None:
    """A message for ``flask doctor`` if the storage folder can be reached as static files.

    Returns ``None`` when the folder is safely outside every static folder.
    """
    root = Path(app.config.get("CERTIFY_STORAGE_DIR") or Path(app.instance_path) / "storage")
    root = root.resolve()
    static_folders = [app.static_folder] + [bp.static_folder for bp in app.blueprints.values()]
    for folder in filter(None, static_folders):
        folder = Path(folder).resolve()
        if root == folder or folder in root.parents or root in folder.parents:
            return (
                f"The storage folder {root} overlaps the static folder {folder}, so stored "
                "evidence could be downloaded without a permission check. Set "
                "CERTIFY_STORAGE_DIR to a folder outside the application, e.g. instance/storage."
            )
    return None
