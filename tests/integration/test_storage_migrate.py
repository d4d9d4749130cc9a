"""`flask storage migrate --to s3://…` copies the local storage folder into the object store (a real
SeaweedFS) and checks every copy by its sha256; run again it copies nothing twice; a damaged file
is named, never copied or served. `flask storage verify` reads every stored file back."""

import hashlib

import pytest

from certify.extensions import db as _db
from certify.storage import open_file, path_of, storage, store_bytes
from tests.conftest import S3_BUCKET

FILES = [f"证据文件 {number}\n".encode() * (number * 300 + 1) for number in range(8)]


def invoke(application, *arguments):
    with application.app_context():
        result = application.test_cli_runner().invoke(args=list(arguments))
        _db.session.remove()
        return result


@pytest.fixture()
def folder_app(make_app, s3_settings):
    """An application on its local folder, holding ``FILES``, with the AWS variables of the test
    object store set; ``.target`` is an address in the bucket of its own."""
    application = make_app()
    with application.app_context():
        application.stored = sorted(store_bytes(data) for data in FILES)
    application.target = s3_settings["CERTIFY_STORAGE_URL"]
    return application


def test_the_folder_is_copied_into_the_bucket_and_the_application_then_reads_it_from_there(folder_app, make_app):
    result = invoke(folder_app, "storage", "migrate", "--to", folder_app.target)

    assert result.exit_code == 0, result.output
    size = sum(len(data) for data in FILES)
    assert f"8 files in {folder_app.config['CERTIFY_STORAGE_DIR']}: 8 copied ({size} bytes), 0 already there; " \
           "8 verified by sha256 in the bucket." in result.output
    assert f"CERTIFY_STORAGE_URL={folder_app.target}" in result.output
    switched = make_app(CERTIFY_STORAGE_URL=folder_app.target)
    with switched.app_context():
        assert list(storage().stored_files()) == folder_app.stored
        for item in folder_app.stored:
            with open_file(item.sha256) as handle:
                assert hashlib.sha256(handle.read()).hexdigest() == item.sha256


def test_running_it_again_copies_only_what_was_stored_in_between(folder_app):
    assert invoke(folder_app, "storage", "migrate", "--to", folder_app.target).exit_code == 0
    with folder_app.app_context():
        store_bytes("一份新材料".encode())

    result = invoke(folder_app, "storage", "migrate", "--to", folder_app.target)

    assert result.exit_code == 0, result.output
    assert "9 files in" in result.output and ": 1 copied (15 bytes), 8 already there; 9 verified" in result.output


def test_a_file_damaged_in_the_folder_is_named_and_not_copied(folder_app, make_app):
    damaged = folder_app.stored[3].sha256
    with folder_app.app_context():
        path_of(damaged).write_bytes(b"changed on the disk")

    result = invoke(folder_app, "storage", "migrate", "--to", folder_app.target)

    assert result.exit_code == 1
    assert "7 copied" in result.output and f"1 file(s) of the folder do not hash to their names, not copied: {damaged}" \
        in result.output
    with make_app(CERTIFY_STORAGE_URL=folder_app.target).app_context():
        assert not storage().exists(damaged)


def test_an_object_damaged_in_the_bucket_is_replaced_from_the_folder(folder_app, make_app):
    assert invoke(folder_app, "storage", "migrate", "--to", folder_app.target).exit_code == 0
    damaged = folder_app.stored[5].sha256
    bucket = make_app(CERTIFY_STORAGE_URL=folder_app.target)
    with bucket.app_context():
        store = storage()
        store.client.put_object(Bucket=S3_BUCKET, Key=store._key(damaged), Body=b"bit rot")
        assert invoke(bucket, "storage", "verify").exit_code == 1

    result = invoke(folder_app, "storage", "migrate", "--to", folder_app.target)

    assert result.exit_code == 0, result.output
    assert f"Replaced 1 damaged object(s) in the bucket from the folder: {damaged}" in result.output
    verified = invoke(bucket, "storage", "verify")
    assert verified.exit_code == 0 and "8 stored files checked" in verified.output


def test_a_target_that_is_not_a_bucket_address_is_refused(folder_app):
    result = invoke(folder_app, "storage", "migrate", "--to", "/srv/other-folder")

    assert result.exit_code != 0 and "s3://bucket/prefix" in result.output


def test_verify_names_each_local_file_that_no_longer_hashes_to_its_name(folder_app):
    damaged = folder_app.stored[0].sha256
    with folder_app.app_context():
        path_of(damaged).write_bytes(b"changed on the disk")

    result = invoke(folder_app, "storage", "verify")

    assert result.exit_code == 1
    assert "8 stored files checked" in result.output and f"PROBLEM: 1 do not: {damaged}" in result.output
