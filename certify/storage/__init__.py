"""The one storage interface for evidence files and PDFs: content-addressed by sha256.

A file's name is its sha256, fanned out in two levels (``ab/cd/abcd…``). Storing the same content
twice stores it once; a stored file never changes. Two implementations keep files this way:

* ``LocalStorage`` (``certify/storage/local.py``), the default: a folder, ``CERTIFY_STORAGE_DIR``
  (``instance/storage``), outside any static folder, or a volume every host mounts;
* ``S3Storage`` (``certify/storage/s3.py``): a bucket of an S3-compatible object store, chosen by
  ``CERTIFY_STORAGE_URL=s3://bucket/prefix``, so that several web and worker hosts share the files
  without a shared disk. Its endpoint, region and credentials come from the usual AWS variables
  (``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``, ``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``), which boto3 reads itself.

Neither hands a file out by URL: every download goes through a view that checks permissions and
then answers with ``send_stored(sha256, ...)``. The module-level functions use the current
application's storage.
"""

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol
from urllib.parse import urlsplit

from flask import Flask, Response, current_app

_EXTENSION_KEY = "certify.storage"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HASH_CHUNK = 1024 * 1024
# S3's rules for bucket names (lower case letters, digits, dots and hyphens, 3 to 63 characters).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class StoredFile(NamedTuple):
    """What the storage knows about one file: its content address and size in bytes."""

    sha256: str
    size: int


class StorageError(Exception):
    """A storage operation was refused or failed; the message is for the log, not for users."""


class InvalidDigest(StorageError, ValueError):
    """The argument is not a sha256 digest as the storage writes them (64 lowercase hex)."""


class FileTooLarge(StorageError):
    """``store_stream`` read more than ``max_size`` bytes; nothing was kept."""

    def __init__(self, max_size: int):
        super().__init__(f"the file is larger than {max_size} bytes")
        self.max_size = max_size


class DamagedFile(StorageError):
    """The bytes read or written do not hash to the name they are stored under."""


class StorageUnavailable(StorageError):
    """The store cannot be reached or refused the request (an object store down, wrong
    credentials): the user is told to try again later, and nothing of the request is saved."""


def check_digest(sha256: str) -> str:
    """Return ``sha256`` if it is 64 lowercase hex characters, else raise ``InvalidDigest``.

    Only digests reach the file system or the bucket, so no argument can name anything else.
    """
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InvalidDigest(f"not a sha256 digest: {sha256!r:.80}")
    return sha256


def relative_name(sha256: str) -> str:
    """Where a file lives inside the storage: ``ab/cd/abcd…`` (a path, or a key after the prefix)."""
    check_digest(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def parse_storage_url(url: str) -> tuple[str, str]:
    """The bucket and key prefix (empty, or ending in ``/``) of ``s3://bucket[/prefix]``;
    ``ValueError`` for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not _BUCKET.fullmatch(parts.netloc or "") or parts.query or parts.fragment:
        raise ValueError(f"not an s3://bucket/prefix address: {url!r}")
    prefix = parts.path.strip("/")
    if prefix and any(segment in ("", ".", "..") for segment in prefix.split("/")):
        raise ValueError(f"the prefix of {url!r} has an empty, . or .. segment")
    return parts.netloc, f"{prefix}/" if prefix else ""


class Storage(Protocol):
    """What both implementations offer (see ``LocalStorage`` for each method's promise)."""

    def store_bytes(self, data: bytes) -> StoredFile: ...
    def store_stream(self, fileobj: BinaryIO, max_size: int) -> StoredFile: ...
    def open_file(self, sha256: str) -> BinaryIO: ...
    def exists(self, sha256: str) -> bool: ...
    def delete(self, sha256: str) -> bool: ...
    def stored_files(self) -> Iterator[StoredFile]: ...
    def send(self, sha256: str, **options) -> Response: ...
    def adopt(self, path: Path, sha256: str) -> None: ...
    def staging_folder(self) -> Path | None: ...
    def describe(self) -> str: ...


def storage(app: Flask | None = None) -> Storage:
    """The application's storage: in the bucket ``CERTIFY_STORAGE_URL`` names when it is set,
    else in the folder ``CERTIFY_STORAGE_DIR``. Made once per setting."""
    from certify.storage.local import LocalStorage

    app = app or current_app._get_current_object()
    url = app.config.get("CERTIFY_STORAGE_URL")
    existing = app.extensions.get(_EXTENSION_KEY)
    # Tests may point the setting at a fresh folder; follow the setting, not the first value.
    if url:
        if existing is None or getattr(existing, "url", None) != url:
            from certify.storage.s3 import S3Storage

            existing = app.extensions[_EXTENSION_KEY] = S3Storage.from_url(url)
        return existing
    root = local_root(app)
    if not isinstance(existing, LocalStorage) or existing.root != root:
        existing = app.extensions[_EXTENSION_KEY] = LocalStorage(root)
    return existing


def local_root(app: Flask) -> Path:
    """The folder of the local storage (used when ``CERTIFY_STORAGE_URL`` is not set)."""
    return Path(app.config.get("CERTIFY_STORAGE_DIR") or Path(app.instance_path) / "storage")


def store_bytes(data: bytes) -> StoredFile:
    """Store ``data`` in the current application's storage (see ``LocalStorage.store_bytes``)."""
    return storage().store_bytes(data)


def store_stream(fileobj: BinaryIO, max_size: int) -> StoredFile:
    """Stream ``fileobj`` into the current application's storage, refusing more than ``max_size``
    bytes with ``FileTooLarge`` (see ``LocalStorage.store_stream``)."""
    return storage().store_stream(fileobj, max_size)


def open_file(sha256: str) -> BinaryIO:
    """Open a stored file for binary reading; ``FileNotFoundError`` if absent."""
    return storage().open_file(sha256)


def exists(sha256: str) -> bool:
    """Whether a file with this digest is stored."""
    return storage().exists(sha256)


def delete(sha256: str) -> bool:
    """Remove a stored file; return whether there was one."""
    return storage().delete(sha256)


def send_stored(sha256: str, **options) -> Response:
    """The response giving out a stored file, streamed; ``options`` as for ``flask.send_file``
    (``mimetype``, ``as_attachment``, ``download_name``, ``conditional``, ``etag``). Call it only
    after the permission check: it checks nothing."""
    return storage().send(sha256, **options)


def copy_hashed(fileobj: BinaryIO, out: BinaryIO, max_size: int, chunk_size: int = 64 * 1024) -> StoredFile:
    """Copy ``fileobj`` into ``out`` while hashing it; ``FileTooLarge`` as soon as more than
    ``max_size`` bytes have been read (the rest of the stream is left unread)."""
    digest, size = hashlib.sha256(), 0
    while chunk := fileobj.read(chunk_size):
        size += len(chunk)
        if size > max_size:
            raise FileTooLarge(max_size)
        digest.update(chunk)
        out.write(chunk)
    return StoredFile(digest.hexdigest(), size)


def sha256_of_stored(store: Storage, sha256: str) -> str:
    """The sha256 of the bytes stored under ``sha256``, read as a stream (equal to ``sha256``
    unless the file was damaged); ``FileNotFoundError`` if absent."""
    digest = hashlib.sha256()
    with store.open_file(sha256) as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def path_of(sha256: str) -> Path:
    """The path of a file in the local storage, for tools that need a file on disk; a
    ``StorageError`` with object storage, which has none (read with ``open_file`` instead)."""
    store = storage()
    if not hasattr(store, "path_of"):
        raise StorageError(f"{store.describe()} keeps no files on this host's disk")
    return store.path_of(sha256)


def storage_location_problem(app: Flask) -> str | None:
    """A message for ``flask doctor`` if the storage folder can be reached as static files.

    Returns ``None`` when the folder is safely outside every static folder, and for object
    storage, which no static folder can hold.
    """
    if app.config.get("CERTIFY_STORAGE_URL"):
        return None
    root = local_root(app).resolve()
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


from certify.storage.local import LocalStorage  # noqa: E402 - it builds on the names above

__all__ = ["DamagedFile", "FileTooLarge", "InvalidDigest", "LocalStorage", "Storage", "StorageError",
           "StorageUnavailable", "StoredFile", "check_digest", "delete", "exists", "open_file", "parse_storage_url",
           "path_of", "send_stored", "sha256_of_stored", "storage", "storage_location_problem", "store_bytes",
           "store_stream"]
