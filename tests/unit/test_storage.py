"""The storage keeps each content once, under its sha256, outside the web root, and never lets
an argument name a path of its own."""

import hashlib
import io
from pathlib import Path

import pytest

from certify import storage
from certify.storage import FileTooLarge, InvalidDigest, LocalStorage, StoredFile

CONTENT = "四川省绿色工厂申报材料".encode() * 100


@pytest.fixture()
def local(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


def files_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_stored_content_is_addressed_by_its_sha256_in_fanned_out_folders(local):
    stored = local.store_bytes(CONTENT)

    digest = hashlib.sha256(CONTENT).hexdigest()
    assert stored == StoredFile(digest, len(CONTENT))
    assert local.path_of(digest) == local.root / digest[:2] / digest[2:4] / digest
    assert local.path_of(digest).read_bytes() == CONTENT


def test_the_same_content_is_stored_once(local):
    first = local.store_bytes(CONTENT)
    second = local.store_stream(io.BytesIO(CONTENT), max_size=len(CONTENT))

    assert first == second
    assert files_in(local.root) == [local.path_of(first.sha256)]


def test_a_stream_is_hashed_while_it_is_written(local):
    stored = local.store_stream(io.BytesIO(CONTENT), max_size=10 * len(CONTENT))

    assert stored == StoredFile(hashlib.sha256(CONTENT).hexdigest(), len(CONTENT))
    with local.open_file(stored.sha256) as handle:
        assert handle.read() == CONTENT


def test_a_stream_over_the_limit_is_refused_and_leaves_nothing_behind(local):
    stream = io.BytesIO(b"x" * 1_000_000)

    with pytest.raises(FileTooLarge) as refused:
        local.store_stream(stream, max_size=100_000)

    assert refused.value.max_size == 100_000
    assert files_in(local.root) == []
    assert stream.tell() < 1_000_000, "the rest of the stream should not have been read"


def test_a_stream_exactly_at_the_limit_is_accepted(local):
    stored = local.store_stream(io.BytesIO(b"x" * 1000), max_size=1000)

    assert stored.size == 1000


def test_an_empty_file_can_be_stored(local):
    stored = local.store_bytes(b"")

    assert stored == StoredFile(hashlib.sha256(b"").hexdigest(), 0)
    assert local.exists(stored.sha256)


def test_a_deleted_file_no_longer_exists(local):
    stored = local.store_bytes(CONTENT)

    assert local.delete(stored.sha256) is True
    assert local.exists(stored.sha256) is False
    assert local.delete(stored.sha256) is False
    with pytest.raises(FileNotFoundError):
        local.path_of(stored.sha256)
    with pytest.raises(FileNotFoundError):
        local.open_file(stored.sha256)


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
def test_anything_but_a_lowercase_sha256_is_refused_by_every_operation(local, argument):
    for operation in (local.path_of, local.open_file, local.exists, local.delete):
        with pytest.raises(InvalidDigest):
            operation(argument)


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


def test_the_default_storage_folder_is_outside_the_static_folder(make_app, tmp_path):
    application = make_app(CERTIFY_STORAGE_DIR=str(tmp_path / "instance" / "storage"))

    assert storage.storage_location_problem(application) is None


def test_a_storage_folder_inside_the_static_folder_is_reported_with_the_fix(make_app):
    probe = make_app()
    application = make_app(CERTIFY_STORAGE_DIR=str(Path(probe.static_folder) / "uploads"))

    problem = storage.storage_location_problem(application)

    assert problem is not None
    assert "CERTIFY_STORAGE_DIR" in problem
