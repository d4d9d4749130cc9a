"""Content-addressed files in an S3-compatible object store (``CERTIFY_STORAGE_URL=s3://bucket/prefix``).

Every web and worker host reads and writes the same bucket, so none needs a shared disk. Keys are
laid out as in the local folder, after the prefix: ``prefix/ab/cd/abcd…``. The endpoint, region and
credentials are boto3's own: ``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``),
``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, or any other source boto3
reads (its config files, an instance role). With an endpoint other than Amazon's (SeaweedFS, MinIO,
Ceph), boto3 addresses buckets by path (``http://host:port/bucket/key``), which such servers accept
without wildcard DNS.

Writing: the key is the content's sha256, which is known only once the whole stream has been read.
An upload is therefore spooled to an anonymous temporary file on local disk while it is hashed
(never held in memory whole), and then sent in one PUT to its final key, carrying its sha256 in
``x-amz-checksum-sha256``: the server recomputes it and refuses the upload (``DamagedFile``) if a
byte changed on the way, so a stored object always holds what its name promises. Content already
stored is not sent again. The other way, uploading to a temporary key and copying it to the final
one, would write every object twice in the store, leave orphans in the bucket when a process dies
between the two steps, and need a multipart copy past 5 GB; the spool costs only local disk for the
file in flight. One PUT carries at most 5 GB (S3's limit), far above any upload certify accepts.

Reading: ``open_file`` streams the object's body for certify's own use (rendering, backups,
re-hashing) and boto3 checks it against the sha256 stored with it as it is read to the end.
``send``, the downloads, streams the body to the client as it arrives: the view's permission check
has passed first, then a GET signed by boto3 for this one request (valid five minutes, never shown
to anyone) is sent by urllib3, the HTTP client under botocore, and its body is passed on a megabyte
at a time. This skips botocore's request machinery and the checksum on a path where every byte only
passes through: a download is checked as the local folder's downloads are, by ``flask doctor`` and
``flask storage verify`` re-hashing what is stored, and TCP's own checks on the way. No object is
ever made public, and no address of the store is handed out.
"""

import base64
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import boto3
import flask
import urllib3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.httpsession import get_cert_path

from certify.storage import (
    DamagedFile,
    StorageUnavailable,
    StoredFile,
    check_digest,
    copy_hashed,
    parse_storage_url,
    relative_name,
)

_SEND_CHUNK = 1024 * 1024
_STORED_KEY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")
_MISSING = {"404", "NoSuchKey", "NotFound"}
# Bodies are checked only where ``open_file`` asks for it (``ChecksumMode``); see the docstring.
# Requests and the downloads' signed GETs alike are signed with Signature Version 4 (boto3 would
# sign the GETs with version 2, which newer stores refuse).
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard"}, signature_version="s3v4",
                        response_checksum_validation="when_required")
# A download's signed GET is used at once by the process that signed it; five minutes leave room
# for a store whose clock runs behind.
_SIGNED_FOR_SECONDS = 300
# Written by ``flask doctor`` to prove it may write, and removed at once; outside the layout of
# stored files, so that nothing ever lists it as one.
_PROBE_NAME = ".certify-doctor-probe"


class _LargeReads:
    """A download's body read in pieces of ``_SEND_CHUNK``, whatever size is asked: the WSGI file
    wrappers ask 8 KB at a time, and each read of a network stream is a round through urllib3 in
    Python, as dear for 8 KB as for a megabyte. Closing it gives the connection back to the pool
    (or drops it, when the body was not read to the end)."""

    def __init__(self, body: urllib3.BaseHTTPResponse):
        self.body = body
        self.read_to_the_end = False

    def read(self, size: int = -1) -> bytes:
        # As it came (nothing is asked compressed): urllib3 then hands over the bytes it read
        # rather than copying them through its decoding buffer.
        chunk = self.body.read(_SEND_CHUNK, decode_content=False)
        self.read_to_the_end = not chunk
        return chunk

    def close(self) -> None:
        if self.read_to_the_end:
            self.body.release_conn()
        else:  # the client went away: the rest of the body is not read, and the connection not reused
            self.body.close()


def make_client(**options):
    """An S3 client configured as boto3 finds it (``options`` override, e.g. in tests)."""
    return boto3.session.Session().client("s3", config=_CLIENT_CONFIG, **options)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3Storage:
    """Content-addressed files in one bucket of an S3-compatible object store, under a prefix."""

    def __init__(self, client, bucket: str, prefix: str = "", *, url: str | None = None):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.url = url or f"s3://{bucket}/{prefix}"
        # The downloads' connections, trusting what boto3 trusts (``AWS_CA_BUNDLE``, else certifi's).
        self._downloads = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=60), retries=urllib3.Retry(total=2, redirect=False),
            ca_certs=os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True))

    @classmethod
    def from_url(cls, url: str, **client_options) -> "S3Storage":
        """The storage at ``s3://bucket/prefix``, with a client as ``make_client`` makes it."""
        bucket, prefix = parse_storage_url(url)
        return cls(make_client(**client_options), bucket, prefix, url=url)

    def store_bytes(self, data: bytes) -> StoredFile:
        """Store ``data`` once and return its address; storing it again sends nothing."""
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256):
            self._put(io.BytesIO(data), sha256, len(data))
        return StoredFile(sha256, len(data))

    def store_stream(self, fileobj: BinaryIO, max_size: int) -> StoredFile:
        """Copy ``fileobj`` into the bucket: spooled to local disk while hashed, then sent to its
        final key (see the module's docstring).

        Raises ``FileTooLarge`` as soon as more than ``max_size`` bytes have been read; nothing is
        sent and the rest of the stream is left unread.
        """
        with tempfile.TemporaryFile(prefix="certify-upload-") as spool:
            sha256, size = copy_hashed(fileobj, spool, max_size)
            if not self.exists(sha256):
                spool.seek(0)
                self._put(spool, sha256, size)
        return StoredFile(sha256, size)

    def open_file(self, sha256: str) -> BinaryIO:
        """The object's body, streamed as it is read and checked against the sha256 stored with
        it; ``FileNotFoundError`` if absent."""
        return self._get(sha256)["Body"]

    def exists(self, sha256: str) -> bool:
        """Whether an object with this digest is stored."""
        with self._reaching("look for", sha256):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
            except ClientError as error:
                if _error_code(error) in _MISSING:
                    return False
                raise
        return True

    def delete(self, sha256: str) -> bool:
        """Remove the object; return whether there was one (as ``LocalStorage.delete``)."""
        if not self.exists(sha256):
            return False
        with self._reaching("delete", sha256):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256))
        return True

    def stored_files(self) -> Iterator[StoredFile]:
        """Every stored object, in the order of their digests (S3 lists keys in order); other
        keys under the prefix are left out."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                relative = item["Key"][len(self.prefix):]
                if _STORED_KEY.fullmatch(relative):
                    yield StoredFile(relative.rsplit("/", 1)[1], int(item["Size"]))

    def send(self, sha256: str, **options) -> flask.Response:
        """The object as a streamed response (``options`` as for ``flask.send_file``); its sha256
        is its ETag. Range requests are answered with the whole file. ``FileNotFoundError`` if
        absent, ``StorageUnavailable`` if the store refuses or cannot be reached."""
        signed = self.client.generate_presigned_url("get_object", ExpiresIn=_SIGNED_FOR_SECONDS,
                                                    Params={"Bucket": self.bucket, "Key": self._key(sha256)})
        try:
            found = self._downloads.request("GET", signed, preload_content=False, decode_content=False)
        except urllib3.exceptions.HTTPError as error:
            raise StorageUnavailable(f"cannot read {sha256} from {self.describe()}: {error}") from error
        if found.status != 200:
            found.drain_conn()
            found.release_conn()
            if found.status == 404:
                raise FileNotFoundError(f"no stored file {sha256}")
            raise StorageUnavailable(f"{self.describe()} answered {found.status} for {sha256}")
        if options.get("etag", True) is True:
            options["etag"] = sha256
        response = flask.send_file(_LargeReads(found), **options)
        if response.status_code == 200:
            response.content_length = int(found.headers["Content-Length"])
        return response

    def store_file(self, path: Path, sha256: str, *, replace: bool = False) -> bool:
        """Upload the local file at ``path`` under ``sha256`` unless that object is stored
        already (with ``replace``, over it); return whether it was sent. ``DamagedFile`` if its
        bytes do not hash to ``sha256`` (the server checks them), and then nothing is stored."""
        if not replace and self.exists(sha256):
            return False
        with path.open("rb") as handle:
            self._put(handle, sha256, os.fstat(handle.fileno()).st_size)
        return True

    def adopt(self, path: Path, sha256: str) -> None:
        """Upload the file at ``path``, whose content the caller has checked hashes to
        ``sha256``, and remove it (a restore)."""
        self.store_file(path, sha256)
        path.unlink()

    def staging_folder(self) -> None:
        """A restore unpacks into the system's temporary folder (``None``)."""
        return None

    def describe(self) -> str:
        return f"{self.url} at {self.client.meta.endpoint_url}"

    def access_problem(self) -> str | None:
        """Why this host cannot use the bucket (unreachable, refused, not writable), or ``None``
        after a small object was written, read back and removed."""
        probe = f"{self.prefix}{_PROBE_NAME}"
        try:
            self.client.head_bucket(Bucket=self.bucket)
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"certify")
            read = self.client.get_object(Bucket=self.bucket, Key=probe)["Body"].read()
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except ClientError as error:
            return f"{self.describe()} refused access: {_error_code(error)} {error}"
        except BotoCoreError as error:
            return f"{self.describe()} cannot be reached: {error}"
        if read != b"certify":
            return f"{self.describe()} gave back other bytes than were written"
        return None

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}{relative_name(sha256)}"

    def _get(self, sha256: str) -> dict:
        with self._reaching("read", sha256):
            try:
                return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256), ChecksumMode="ENABLED")
            except ClientError as error:
                if _error_code(error) in _MISSING:
                    raise FileNotFoundError(f"no stored file {sha256}") from None
                raise

    @contextmanager
    def _reaching(self, action: str, sha256: str) -> Iterator[None]:
        """Turn the client's failures (the store unreachable, the request refused) into
        ``StorageUnavailable``, which the views answer with a page saying to try again later."""
        try:
            yield
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable(f"cannot {action} {sha256} in {self.describe()}: {error}") from error

    def _put(self, body: BinaryIO, sha256: str, size: int) -> None:
        check_digest(sha256)
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=body, ContentLength=size,
                                   ContentType="application/octet-stream", ChecksumSHA256=checksum)
        except ClientError as error:
            if _error_code(error) in {"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch"}:
                raise DamagedFile(f"{self.bucket} refused {sha256}: its bytes do not hash to it") from error
            raise StorageUnavailable(f"cannot store {sha256} in {self.describe()}: {error}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"cannot store {sha256} in {self.describe()}: {error}") from error
