"""Content-addressed files in a local folder (``CERTIFY_STORAGE_DIR``, default ``instance/storage``).

The folder is outside any static folder, so the web server can never hand files out by URL.
Writes go to a temporary file in the same file system, hashed while written, and are moved into
place under their sha256 with ``os.replace``, so a reader never sees half a file, even when the
process dies mid-write.
"""

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import flask

from certify.storage import StoredFile, copy_hashed, relative_name

_STORED_PATH = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")


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
        with self._temporary_file() as (handle, temporary):
            sha256, size = copy_hashed(fileobj, handle, max_size)
            target = self._path(sha256)
            if not target.exists():
                self._move_into_place(handle, temporary, target)
        return StoredFile(sha256, size)

    def open_file(self, sha256: str) -> BinaryIO:
        """The stored file, opened for binary reading; ``FileNotFoundError`` if absent."""
        return self.path_of(sha256).open("rb")

    def path_of(self, sha256: str) -> Path:
        """The stored file's path; ``FileNotFoundError`` if absent."""
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

    def stored_files(self) -> Iterator[StoredFile]:
        """Every stored file, in the order of their digests. Anything else under the root
        (temporary ``.incoming-`` files, a restore's staging folder) is left out."""
        for relative, path in stored_paths(self.root).items():
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # deleted since it was listed
                continue
            yield StoredFile(relative.rsplit("/", 1)[1], size)

    def send(self, sha256: str, **options) -> flask.Response:
        """The stored file as a response, from its path: Werkzeug adds its size, modification
        time and range requests (``options`` as for ``flask.send_file``)."""
        return flask.send_file(self.path_of(sha256), **options)

    def adopt(self, path: Path, sha256: str) -> None:
        """Move the file at ``path``, whose content the caller has checked hashes to ``sha256``,
        into place (a restore: ``path`` is in the same file system, inside the root)."""
        target = self._path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)

    def staging_folder(self) -> Path:
        """Where a restore unpacks files: inside the root, so that they move without a copy."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def describe(self) -> str:
        return str(self.root)

    def _path(self, sha256: str) -> Path:
        return self.root / relative_name(sha256)

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


def stored_paths(root: Path) -> dict[str, Path]:
    """Every file under ``root`` laid out as ``ab/cd/<sha256>``, by that relative path."""
    if not root.is_dir():
        return {}
    found = {}
    for path in root.glob("??/??/*"):
        relative = path.relative_to(root).as_posix()
        if _STORED_PATH.fullmatch(relative) and path.is_file():
            found[relative] = path
    return dict(sorted(found.items()))
