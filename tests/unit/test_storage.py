"""The storage keeps each content once, under its sha256, outside the web root, and never lets
an argument name a path or key of its own: in a local folder and in an S3-compatible bucket alike
(a real SeaweedFS server, never a mock)."""

import hashlib
import io
import tracemalloc
import uuid
from pathlib import Path

import pytest

from certify import storage
from certify.config import SettingError, load_settings
from certify.storage import DamagedFile, FileTooLarge, InvalidDigest, LocalStorage, StoredFile
from tests.conftest import S3_BUCKET

CONTENT = "四川省绿色工厂申报材料".encode() * 100


@pytest.fixture()
def local(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture()
def s3(seaweedfs):
    """A storage in a prefix of its own in the test bucket, reached with the deployment's AWS
    variables given to the client."""
    from certify.storage.s3 import S3Storage, make_client

    client = make_client(endpoint_url=seaweedfs["AWS_ENDPOINT_URL_S3"], region_name=seaweedfs["AWS_DEFAULT_REGION"],
                         aws_access_key_id=seaweedfs["AWS_ACCESS_KEY_ID"],
                         aws_secret_access_key=seaweedfs["AWS_SECRET_ACCESS_KEY"])
    return S3Storage(client, S3_BUCKET, f"test-{uuid.uuid4().hex[:12]}/")


@pytest.fixture(params=["local", "s3"])
def store(request):
    """Each test of the interface runs on both implementations."""
    return request.getfixturevalue(request.param)


def files_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def read(store, sha256: str) -> bytes:
    with store.open_file(sha256) as handle:
        return handle.read()


def test_stored_content_is_addressed_by_its_sha256(store):
    stored = store.store_bytes(CONTENT)

    digest = hashlib.sha256(CONTENT).hexdigest()
    assert stored == StoredFile(digest, len(CONTENT))
    assert read(store, digest) == CONTENT
    assert list(store.stored_files()) == [stored]


def test_local_files_are_fanned_out_in_two_folder_levels(local):
    stored = local.store_bytes(CONTENT)

    digest = stored.sha256
    assert local.path_of(digest) == local.root / digest[:2] / digest[2:4] / digest
    assert local.path_of(digest).read_bytes() == CONTENT


def test_objects_are_keyed_as_the_local_files_under_the_prefix(s3):
    stored = s3.store_bytes(CONTENT)

    digest = stored.sha256
    listed = s3.client.list_objects_v2(Bucket=s3.bucket, Prefix=s3.prefix)["Contents"]
    assert [item["Key"] for item in listed] == [f"{s3.prefix}{digest[:2]}/{digest[2:4]}/{digest}"]


def test_the_same_content_is_stored_once(store):
    first = store.store_bytes(CONTENT)
    second = store.store_stream(io.BytesIO(CONTENT), max_size=len(CONTENT))

    assert first == second
    assert list(store.stored_files()) == [first]


def test_a_stream_is_hashed_while_it_is_written(store):
    stored = store.store_stream(io.BytesIO(CONTENT), max_size=10 * len(CONTENT))

    assert stored == StoredFile(hashlib.sha256(CONTENT).hexdigest(), len(CONTENT))
    assert read(store, stored.sha256) == CONTENT


def test_a_stream_over_the_limit_is_refused_and_leaves_nothing_behind(store, tmp_path):
    stream = io.BytesIO(b"x" * 1_000_000)

    with pytest.raises(FileTooLarge) as refused:
        store.store_stream(stream, max_size=100_000)

    assert refused.value.max_size == 100_000
    assert list(store.stored_files()) == []
    if isinstance(store, LocalStorage):
        assert files_in(store.root) == []
    assert stream.tell() < 1_000_000, "the rest of the stream should not have been read"


def test_a_stream_exactly_at_the_limit_is_accepted(store):
    stored = store.store_stream(io.BytesIO(b"x" * 1000), max_size=1000)

    assert stored.size == 1000
    assert store.exists(stored.sha256)


def test_an_empty_file_can_be_stored(store):
    stored = store.store_bytes(b"")

    assert stored == StoredFile(hashlib.sha256(b"").hexdigest(), 0)
    assert store.exists(stored.sha256)
    assert read(store, stored.sha256) == b""


def test_a_deleted_file_no_longer_exists(store):
    stored = store.store_bytes(CONTENT)

    assert store.delete(stored.sha256) is True
    assert store.exists(stored.sha256) is False
    assert store.delete(stored.sha256) is False
    with pytest.raises(FileNotFoundError):
        store.open_file(stored.sha256)
    assert list(store.stored_files()) == []


def test_only_stored_files_are_listed_in_the_order_of_their_digests(store):
    stored = sorted(store.store_bytes(f"file {number}".encode()) for number in range(5))
    if isinstance(store, LocalStorage):
        (store.root / ".incoming-left-over").write_bytes(b"half a file")
        (store.root / "notes.txt").write_bytes(b"not a stored file")
    else:
        store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}notes.txt", Body=b"not a stored file")

    assert list(store.stored_files()) == stored


@pytest.mark.parametrize("argument", [
    "../../../../etc/passwd",
    "/etc/passwd",
    "A" * 64,                       # upper case is not how the storage writes digests
    "a" * 63,
    "a" * 65,
    "a" * 64 + "\n",
    "a" * 62 + "/.",
    "ab/cd/" + "a" * 58,
    "g" * 64,
    "",
    None,
    b"a" * 64,
])
def test_anything_but_a_lowercase_sha256_is_refused_by_every_operation(store, argument):
    for operation in (store.open_file, store.exists, store.delete, store.send):
        with pytest.raises(InvalidDigest):
            operation(argument)


def test_a_download_streams_the_stored_bytes_with_their_size_and_sha256_as_etag(store, app):
    stored = store.store_bytes(CONTENT)

    with app.test_request_context():
        response = store.send(stored.sha256, mimetype="application/pdf", as_attachment=True,
                              download_name="报告.pdf", conditional=True, etag=stored.sha256)
        response.direct_passthrough = False
        assert response.status_code == 200
        assert response.get_data() == CONTENT
        assert response.content_length == len(CONTENT)
        assert response.get_etag() == (stored.sha256, False)
        assert "attachment" in response.headers["Content-Disposition"]
        response.close()


def test_a_download_of_a_missing_file_is_refused(store, app):
    with app.test_request_context(), pytest.raises(FileNotFoundError):
        store.send(hashlib.sha256(b"never stored").hexdigest(), mimetype="application/pdf")


def test_the_object_store_refuses_bytes_that_do_not_hash_to_their_name(s3):
    named = hashlib.sha256(CONTENT).hexdigest()
    altered = CONTENT[:-1] + b"!"

    with pytest.raises(DamagedFile):
        s3._put(io.BytesIO(altered), named, len(altered))

    assert not s3.exists(named)


def test_an_upload_to_the_object_store_is_never_held_in_memory_whole(s3):
    size = 24 * 1024 * 1024
    chunk = b"0123456789abcdef" * 4096

    class Upload(io.RawIOBase):
        """24 MB produced as they are read, as a request's body is."""

        def __init__(self):
            self.left = size

        def readable(self):
            return True

        def readinto(self, buffer):
            count = min(len(buffer), len(chunk), self.left)
            buffer[:count] = chunk[:count]
            self.left -= count
            return count

    tracemalloc.start()
    try:
        stored = s3.store_stream(io.BufferedReader(Upload(), 64 * 1024), max_size=size)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.size == size
    assert peak < size / 4, f"{peak} bytes held at once for a {size}-byte upload"


def test_the_module_functions_use_the_applications_storage_folder(app, tmp_path):
    previous = app.config["CERTIFY_STORAGE_DIR"]
    app.config["CERTIFY_STORAGE_DIR"] = str(tmp_path / "fresh")
    try:
        with app.app_context():
            stored = storage.store_bytes(CONTENT)
            again = storage.store_stream(io.BytesIO(CONTENT), max_size=len(CONTENT))
            path = storage.path_of(stored.sha256)
            assert again == stored
            assert storage.exists(stored.sha256)
            with storage.open_file(stored.sha256) as handle:
                assert handle.read() == CONTENT
            assert storage.delete(stored.sha256)
    finally:
        app.config["CERTIFY_STORAGE_DIR"] = previous

    assert path.is_relative_to(tmp_path / "fresh")


def test_with_a_storage_url_the_module_functions_use_the_bucket_and_write_nothing_on_disk(make_app, s3_settings,
                                                                                          tmp_path):
    application = make_app(**s3_settings)

    with application.app_context():
        stored = storage.store_stream(io.BytesIO(CONTENT), max_size=len(CONTENT))
        assert storage.exists(stored.sha256)
        with storage.open_file(stored.sha256) as handle:
            assert handle.read() == CONTENT
        assert storage.storage().describe().startswith(s3_settings["CERTIFY_STORAGE_URL"])
        with pytest.raises(storage.StorageError):
            storage.path_of(stored.sha256)
        assert storage.delete(stored.sha256)

    assert not (tmp_path / "storage").exists()


@pytest.mark.parametrize("url", ["s3://", "s3://Bucket/x", "s3://ab", "http://bucket/prefix", "s3://bucket/a//b",
                                 "s3://bucket/../b", "s3://bucket/p?versionId=1", "bucket/prefix"])
def test_a_storage_url_that_is_not_a_bucket_address_is_refused_at_start(url):
    with pytest.raises(SettingError, match="CERTIFY_STORAGE_URL"):
        load_settings({"CERTIFY_STORAGE_URL": url}, environ={})


def test_a_storage_url_names_a_bucket_and_a_prefix():
    assert storage.parse_storage_url("s3://certify-files/sichuan/") == ("certify-files", "sichuan/")
    assert storage.parse_storage_url("s3://certify-files") == ("certify-files", "")
    assert load_settings({}, environ={}).certify_storage_url is None


def test_the_default_storage_folder_is_outside_the_static_folder(make_app, tmp_path):
    application = make_app(CERTIFY_STORAGE_DIR=str(tmp_path / "instance" / "storage"))

    assert storage.storage_location_problem(application) is None


def test_a_storage_folder_inside_the_static_folder_is_reported_with_the_fix(make_app):
    probe = make_app()
    application = make_app(CERTIFY_STORAGE_DIR=str(Path(probe.static_folder) / "uploads"))

    problem = storage.storage_location_problem(application)

    assert problem is not None
    assert "CERTIFY_STORAGE_DIR" in problem


def test_a_download_left_half_read_does_not_spoil_the_next_one(s3, app):
    first, second = s3.store_bytes(b"a" * 3_000_000), s3.store_bytes(b"b" * 3_000_000)
    with app.test_request_context():
        abandoned = s3.send(first.sha256, mimetype="application/octet-stream")
        next(iter(abandoned.response))  # a client that went away after the first megabyte
        abandoned.close()
        for _ in range(3):  # the pool's connections serve whole, right files afterwards
            for stored, byte in ((second, b"b"), (first, b"a")):
                response = s3.send(stored.sha256, mimetype="application/octet-stream")
                body = b"".join(response.response)
                response.close()
                assert body == byte * 3_000_000
