"""Copying a local storage folder into an S3-compatible bucket (``flask storage migrate``).

Every file of the folder is sent under its sha256 (the server refuses bytes that do not hash to
it), then read back from the bucket and hashed again. Files already in the bucket are not sent
again, only read back and checked, so the copy can be run again after an interruption, and once
more just before switching ``CERTIFY_STORAGE_URL`` to pick up what was stored meanwhile. An object
in the bucket that does not hash to its name is replaced from the folder. The folder is left as
it is.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from certify.storage import DamagedFile, StoredFile, sha256_of_stored
from certify.storage.local import LocalStorage
from certify.storage.s3 import S3Storage


@dataclass
class MigrationReport:
    """What a copy did: files sent, files found already there, and every file that failed."""

    copied: int = 0
    copied_bytes: int = 0
    already_there: int = 0
    verified: int = 0
    replaced: list[str] = field(default_factory=list)
    damaged_here: list[str] = field(default_factory=list)
    damaged_there: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.copied + self.already_there + len(self.damaged_here)

    @property
    def succeeded(self) -> bool:
        return not self.damaged_here and not self.damaged_there


def migrate(source: LocalStorage, target: S3Storage,
            progress: Callable[[MigrationReport], None] | None = None) -> MigrationReport:
    """Copy every file of ``source`` into ``target`` and check each copy by its sha256."""
    report = MigrationReport()
    for item in source.stored_files():
        try:
            _copy(source, target, item, report)
        except FileNotFoundError:  # deleted from the folder since it was listed
            continue
        if progress is not None:
            progress(report)
    return report


def _copy(source: LocalStorage, target: S3Storage, item: StoredFile, report: MigrationReport) -> None:
    path = source.path_of(item.sha256)
    try:
        sent = target.store_file(path, item.sha256)
    except DamagedFile:
        report.damaged_here.append(item.sha256)
        return
    if sent:
        report.copied += 1
        report.copied_bytes += item.size
    else:
        report.already_there += 1
    if sha256_of_stored(target, item.sha256) == item.sha256:
        report.verified += 1
        return
    # The bucket's copy is damaged and the folder's is sound (the server checked it on the way):
    # send it again over the damaged one.
    try:
        target.store_file(path, item.sha256, replace=True)
    except DamagedFile:
        report.damaged_here.append(item.sha256)
        return
    if sha256_of_stored(target, item.sha256) == item.sha256:
        report.verified += 1
        report.replaced.append(item.sha256)
    else:
        report.damaged_there.append(item.sha256)
