"""Checking uploaded evidence before it is stored.

A file is accepted by what it *is*, never by what it is called: PDF, PNG and JPEG by their
leading bytes, XLSX and DOCX by being a readable zip with the members of an Office document.
The name's extension must then agree with the content, so that a file always opens in the
program its name promises. Files that try to be two things at once (an image that is also a web
page, a PDF with something before its header) and zip bombs are refused.

The original name is kept for display and download only; storage uses the sha256. Every refusal
is one ``UploadRefused`` whose message is shown to the user in their language.

Giving evidence out goes through one place too (``servable_evidence``, ``send_evidence``): a file
the applicant removed is served to no one, unless a submission listed it before its removal — it
is then part of that submission's record.
"""

import io
import re
import tempfile
import unicodedata
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.utils import send_file

from certify import storage
from certify.applications.models import Evidence, Submission
from certify.exceptions import ServiceError
from certify.extensions import db

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_NAME_LENGTH = 200

# Office documents: what a well-formed file unpacks to is small; more is an attack.
MAX_ZIP_MEMBERS = 10_000
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Below this, even a high ratio cannot hurt (a short, repetitive XML part compresses well).
RATIO_FLOOR_BYTES = 1024 * 1024

# Browsers sniff the first bytes of a response; markup there can turn a file into a web page.
_SNIFFED_BYTES = 1024
_MARKUP = (b"<script", b"<html", b"<!doctype html", b"<body", b"<iframe", b"<?php")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"

NOT_ACCEPTED = _l("Only PDF, PNG, JPEG, XLSX and DOCX files are accepted.")
ZIP_BOMB = _l("The file unpacks to far more data than it holds and cannot be accepted.")


@dataclass(frozen=True)
class FileType:
    mimetype: str
    extensions: tuple[str, ...]  # the first is the one used for a name that had none


FILE_TYPES = {
    "pdf": FileType("application/pdf", ("pdf",)),
    "png": FileType("image/png", ("png",)),
    "jpeg": FileType("image/jpeg", ("jpg", "jpeg")),
    "xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     ("xlsx",)),
    "docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     ("docx",)),
}
_KIND_BY_EXTENSION = {extension: kind for kind, file_type in FILE_TYPES.items()
                      for extension in file_type.extensions}


class UploadRefused(ServiceError):
    """The uploaded file cannot be accepted; ``message`` says why, in the user's language."""

    def __init__(self, message, *, field: str | None = "file"):
        super().__init__(message, field=field)


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: what it is, and the name to show for it."""

    kind: str
    content_type: str
    display_name: str
    size: int


class SavedUpload(NamedTuple):
    """An accepted upload after storing: what an evidence record keeps."""

    sha256: str
    size: int
    content_type: str
    display_name: str


def max_upload_bytes() -> int:
    """The largest file accepted: ``CERTIFY_MAX_UPLOAD_BYTES``, else 20 MB."""
    return current_app.config.get("CERTIFY_MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_BYTES


class UploadLimit(NamedTuple):
    """The largest file accepted, in bytes and as people write it (``20 MB``), for the forms."""

    bytes: int
    label: str


def upload_limit() -> UploadLimit:
    limit = max_upload_bytes()
    return UploadLimit(limit, megabytes(limit))


def file_input_attributes() -> dict:
    """A file input's limit for the browser to check before sending (``static/js/forms.js``)."""
    limit = upload_limit()
    return {"data-max-bytes": limit.bytes,
            "data-too-large": gettext("This file is larger than %(limit)s and was not attached: "
                                      "choose a smaller one.", limit=limit.label)}


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def save_upload(fileobj: BinaryIO, filename: str | None) -> SavedUpload:
    """Check an uploaded file and store it; raise ``UploadRefused`` and store nothing if it
    is not acceptable. ``fileobj`` is e.g. ``form.file.data.stream``."""
    limit = max_upload_bytes()
    with _seekable(fileobj, limit) as seekable:
        checked = check_upload(seekable, filename, max_size=limit)
        stored = storage.store_stream(seekable, max_size=limit)
    return SavedUpload(stored.sha256, stored.size, checked.content_type, checked.display_name)


def check_upload(fileobj: BinaryIO, filename: str | None,
                 max_size: int | None = None) -> CheckedUpload:
    """Decide whether a file may be accepted, by its content and then its name.

    ``fileobj`` must be seekable; it is left at the start. Raises ``UploadRefused``.
    """
    limit = max_size or max_upload_bytes()
    size = _size_within(fileobj, limit)
    head = _read(fileobj, 0, _SNIFFED_BYTES)
    tail = _read(fileobj, max(size - _SNIFFED_BYTES, 0), _SNIFFED_BYTES)

    name = clean_filename(filename)
    extension = _extension(name)
    if extension not in _KIND_BY_EXTENSION:
        raise UploadRefused(NOT_ACCEPTED)
    kind = _kind_by_content(fileobj, head)
    if kind != _KIND_BY_EXTENSION[extension]:
        raise UploadRefused(_l("The file's content does not match its name (%(extension)s).",
                               extension="." + extension))
    _refuse_markup(head)
    _INTEGRITY_CHECKS[kind](fileobj, size, tail)
    fileobj.seek(0)
    return CheckedUpload(kind, FILE_TYPES[kind].mimetype, name, size)


def clean_filename(name: str | None, extension: str = "") -> str:
    """The uploaded name made safe to show and to offer as a download name.

    Keeps Chinese and other letters; drops folders, drive letters, control and invisible
    formatting characters (line breaks, NUL, bidi overrides that disguise ``exe.pdf`` as
    ``fdp.exe``), and characters that Windows refuses in names. At most 200 characters, keeping
    the extension. A name with nothing left becomes ``file.<extension>``.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(char for char in name if not _is_invisible(char))
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip().rstrip(".")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    stem, suffix = stem.strip(" ."), suffix.strip()
    if not stem and not suffix:
        return f"file.{extension}" if extension else "file"
    suffix = "." + suffix if suffix else ""
    stem = stem[:max(MAX_NAME_LENGTH - len(suffix), 0)].rstrip(" .") or "file"
    return (stem + suffix)[:MAX_NAME_LENGTH]


def servable_evidence(application_id: int, evidence_id: int) -> Evidence | None:
    """The evidence file ``evidence_id`` of the application, when it may be given out (the
    caller has checked that the user may see the application): a file still attached, or one
    removed since that a submission listed (part of that submission's record). ``None`` for a
    file removed before any submission listed it, or another application's file. Whether its bytes
    are still in storage is learnt by sending them (``send_evidence``): one request to an object
    store, not two."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.application_id != application_id:
        return None
    if evidence.deleted_at is not None and not _listed_by_a_submission(evidence):
        return None
    return evidence


def _listed_by_a_submission(evidence: Evidence) -> bool:
    listings = db.session.execute(
        select(Submission.evidence).where(Submission.application_id == evidence.application_id)).scalars()
    return any(isinstance(entry, dict) and entry.get("id") == evidence.id
               for listing in listings for entry in listing or ())


def send_evidence(evidence: Evidence, *, inline: bool = False):
    """The response giving out ``evidence``: downloaded under its original name (Werkzeug
    writes an RFC 5987 name, so Chinese names survive), or with ``inline`` shown in the browser
    — sandboxed, so that nothing in it runs as a page of this site."""
    try:
        response = storage.send_stored(evidence.sha256, mimetype=evidence.content_type,
                                       as_attachment=not inline, download_name=evidence.original_name,
                                       conditional=True, etag=evidence.sha256)
    except FileNotFoundError:  # lost from storage (``flask doctor`` reports it): not found here
        raise NotFound() from None
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
    return response


def content_disposition(filename: str, as_attachment: bool = True) -> str:
    """The ``Content-Disposition`` header for a download named ``filename`` (RFC 6266): an
    ASCII ``filename`` for old clients and ``filename*=UTF-8''…`` for the real, Chinese name.

    Prefer ``send_file(..., download_name=name)``, which writes exactly this header; use this
    only for responses that are not made by ``send_file``.
    """
    # Werkzeug already encodes names correctly; borrow its header rather than write another.
    response = send_file(io.BytesIO(), environ={}, download_name=clean_filename(filename),
                         as_attachment=as_attachment, mimetype="application/octet-stream",
                         conditional=False, etag=False)
    response.close()
    return response.headers["Content-Disposition"]


def _is_invisible(char: str) -> bool:
    # Cc: controls (NUL, CR, LF, TAB); Cf: formatting (bidi overrides, zero-width spaces);
    # Zl/Zp: line and paragraph separators; Cs/Co: surrogates and private use.
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def _extension(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    return suffix.lower() if dot and stem else ""


def _seekable(fileobj: BinaryIO, limit: int):
    """A context giving ``fileobj`` itself if it can seek, else a copy of at most ``limit + 1``
    bytes (enough to tell that it is too large)."""
    if fileobj.seekable():
        return nullcontext(fileobj)
    copy = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    copy.write(fileobj.read(limit + 1))
    copy.seek(0)
    return copy


def _size_within(fileobj: BinaryIO, limit: int) -> int:
    size = fileobj.seek(0, io.SEEK_END)
    fileobj.seek(0)
    if size == 0:
        raise UploadRefused(_l("This file is empty."))
    if size > limit:
        raise UploadRefused(_l("The file is larger than the limit of %(limit)s.", limit=megabytes(limit)))
    return size


def _read(fileobj: BinaryIO, offset: int, length: int) -> bytes:
    fileobj.seek(offset)
    return fileobj.read(length)


def _kind_by_content(fileobj: BinaryIO, head: bytes) -> str | None:
    # Only a header at the very start counts: readers that look further (PDF allows 1024
    # bytes) would also let something else occupy the start, the shape of a polyglot.
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(fileobj)
    return None


def _office_kind(fileobj: BinaryIO) -> str | None:
    with _open_zip(fileobj) as archive:
        names = set(archive.namelist())
    if "[Content_Types].xml" not in names:
        return None
    kinds = [kind for kind, part in (("xlsx", "xl/workbook.xml"), ("docx", "word/document.xml"))
             if part in names]
    return kinds[0] if len(kinds) == 1 else None


def _open_zip(fileobj: BinaryIO) -> zipfile.ZipFile:
    fileobj.seek(0)
    try:
        return zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise UploadRefused(_l("The file is damaged and cannot be opened.")) from exc


def _refuse_markup(head: bytes) -> None:
    lowered = head.lower()
    if any(marker in lowered for marker in _MARKUP):
        raise UploadRefused(_l("This file contains web page code and cannot be accepted."))


def _check_pdf(fileobj: BinaryIO, size: int, tail: bytes) -> None:
    # Every complete PDF ends with %%EOF (perhaps followed by a line break); a missing one
    # means a truncated upload or something appended.
    if b"%%EOF" not in tail:
        raise UploadRefused(_l("The PDF is damaged or incomplete."))


def _check_png(fileobj: BinaryIO, size: int, tail: bytes) -> None:
    # Data after the IEND chunk is invisible in viewers and the usual hiding place of a
    # second file.
    if not tail.endswith(_PNG_END):
        raise UploadRefused(_l("The image is damaged or has data appended to it."))


def _check_jpeg(fileobj: BinaryIO, size: int, tail: bytes) -> None:
    # Phones append their own data after the end-of-image marker, so the tail proves nothing.
    return


def _check_office(fileobj: BinaryIO, size: int, tail: bytes) -> None:
    with _open_zip(fileobj) as archive:
        members = archive.infolist()
    unzipped = sum(member.file_size for member in members)
    too_dense = any(member.file_size > RATIO_FLOOR_BYTES
                    and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
                    for member in members)
    if (len(members) > MAX_ZIP_MEMBERS or unzipped > MAX_UNZIPPED_BYTES or too_dense
            or (unzipped > RATIO_FLOOR_BYTES and unzipped > MAX_COMPRESSION_RATIO * size)):
        raise UploadRefused(ZIP_BOMB)
    if any(member.filename.lower().endswith("vbaproject.bin") for member in members):
        raise UploadRefused(_l("Files with macros cannot be accepted."))


_INTEGRITY_CHECKS = {
    "pdf": _check_pdf,
    "png": _check_png,
    "jpeg": _check_jpeg,
    "xlsx": _check_office,
    "docx": _check_office,
}
