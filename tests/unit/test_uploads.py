"""Evidence is accepted by what it is, not by what it is called, and its name is only shown."""

import io
import struct
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
import weasyprint
from flask_babel import force_locale
from PIL import Image

from certify import storage
from certify.exceptions import ServiceError
from certify.uploads import (
    UploadRefused,
    check_upload,
    clean_filename,
    content_disposition,
    save_upload,
)

LIMIT = 1024 * 1024


# Small real files of each accepted kind, made here rather than kept as fixtures on disk.

def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png(*extra_chunks: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + b"".join(extra_chunks)
            + png_chunk(b"IDAT", zlib.compress(b"\x00\x00")) + png_chunk(b"IEND", b""))


def make_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(buffer, "JPEG")
    return buffer.getvalue()


def make_office(main_part: str, **extra_members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(main_part, '<?xml version="1.0"?><document/>')
        for name, data in extra_members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return weasyprint.HTML(string="<p>绿色工厂自评价报告</p>").write_pdf()


@pytest.fixture(scope="module")
def samples(pdf) -> dict[str, bytes]:
    return {
        "pdf": pdf,
        "png": make_png(),
        "jpeg": make_jpeg(),
        "xlsx": make_office("xl/workbook.xml"),
        "docx": make_office("word/document.xml"),
    }


def refusal(app, data: bytes, name: str | None, max_size: int = LIMIT) -> str:
    """The English message with which the upload is refused."""
    with app.app_context(), force_locale("en"):
        with pytest.raises(UploadRefused) as refused:
            check_upload(io.BytesIO(data), name, max_size=max_size)
        return str(refused.value.message)


MISMATCH = "The file's content does not match its name ({})."
NOT_ACCEPTED = "Only PDF, PNG, JPEG, XLSX and DOCX files are accepted."


@pytest.mark.parametrize("kind, name, content_type", [
    ("pdf", "自评价报告.pdf", "application/pdf"),
    ("png", "厂区照片.png", "image/png"),
    ("jpeg", "厂区照片.jpg", "image/jpeg"),
    ("jpeg", "IMG_0001.JPEG", "image/jpeg"),
    ("xlsx", "能耗数据.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("docx", "管理制度.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_each_accepted_kind_is_recognised_by_its_content(samples, kind, name, content_type):
    stream = io.BytesIO(samples[kind])

    checked = check_upload(stream, name, max_size=LIMIT)

    assert (checked.kind, checked.content_type, checked.display_name) == (kind, content_type, name)
    assert checked.size == len(samples[kind])
    assert stream.tell() == 0, "the stream is rewound for storing"


@pytest.mark.parametrize("kind, name", [
    ("png", "photo.pdf"),
    ("pdf", "report.png"),
    ("jpeg", "photo.png"),
    ("xlsx", "data.docx"),
    ("docx", "rules.xlsx"),
])
def test_a_file_whose_name_promises_another_kind_is_refused(app, samples, kind, name):
    assert refusal(app, samples[kind], name) == MISMATCH.format("." + name.rsplit(".")[-1])


@pytest.mark.parametrize("data, name", [
    (b"<html><body>not a report</body></html>", "report.pdf"),
    (b"MZ\x90\x00 an executable", "photo.jpg"),
    (b"just some text", "data.xlsx"),
])
def test_other_content_with_an_accepted_extension_is_refused(app, data, name):
    assert refusal(app, data, name) == MISMATCH.format("." + name.rsplit(".")[-1])


@pytest.mark.parametrize("name", ["setup.exe", "page.html", "drawing.svg", "README", None, ""])
def test_names_without_an_accepted_extension_are_refused(app, samples, name):
    assert refusal(app, samples["pdf"], name) == NOT_ACCEPTED


def test_an_empty_file_is_refused(app):
    assert refusal(app, b"", "report.pdf") == "This file is empty."


def test_a_file_over_the_limit_is_refused(app, samples):
    padded = samples["pdf"] + b"\n" * LIMIT

    assert refusal(app, padded, "report.pdf") == "The file is larger than the limit of 1 MB."


def test_the_limit_comes_from_the_settings(app, samples):
    previous = app.config.get("CERTIFY_MAX_UPLOAD_BYTES")
    app.config["CERTIFY_MAX_UPLOAD_BYTES"] = 100
    try:
        with app.app_context(), force_locale("en"):
            with pytest.raises(UploadRefused) as refused:
                check_upload(io.BytesIO(samples["pdf"]), "report.pdf")
    finally:
        app.config["CERTIFY_MAX_UPLOAD_BYTES"] = previous

    assert "larger than the limit" in str(refused.value.message)


def test_an_image_that_is_also_a_web_page_is_refused(app):
    polyglot = make_png(png_chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>"))

    assert refusal(app, polyglot, "photo.png") == (
        "This file contains web page code and cannot be accepted.")


def test_a_jpeg_carrying_html_in_its_first_bytes_is_refused(app):
    jpeg = make_jpeg()
    polyglot = jpeg[:2] + b"\xff\xfe\x00\x20<HTML><body>hi</body>\x00\x00\x00" + jpeg[2:]

    assert "web page code" in refusal(app, polyglot, "photo.jpg")


def test_a_pdf_with_something_before_its_header_is_refused(app, samples):
    polyglot = b"<html><!-- " + samples["pdf"]

    assert refusal(app, polyglot, "report.pdf") == MISMATCH.format(".pdf")


def test_a_truncated_pdf_is_refused(app, samples):
    assert refusal(app, samples["pdf"][:-2000], "report.pdf") == "The PDF is damaged or incomplete."


def test_a_png_with_data_appended_after_its_end_is_refused(app, samples):
    assert refusal(app, samples["png"] + b"PK\x03\x04 hidden zip", "photo.png") == (
        "The image is damaged or has data appended to it.")


def test_a_zip_without_the_parts_of_an_office_document_is_refused(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")  # no [Content_Types].xml

    assert refusal(app, buffer.getvalue(), "data.xlsx") == MISMATCH.format(".xlsx")


def test_a_damaged_zip_is_refused(app):
    assert refusal(app, b"PK\x03\x04" + b"\x00" * 200, "rules.docx") == (
        "The file is damaged and cannot be opened.")


ZIP_BOMB_MESSAGE = "The file unpacks to far more data than it holds and cannot be accepted."


def test_a_zip_bomb_is_refused(app):
    bomb = make_office("xl/workbook.xml", **{"xl/sharedStrings.xml": b"\x00" * (8 * 1024 * 1024)})

    assert len(bomb) < 100_000
    assert refusal(app, bomb, "data.xlsx") == ZIP_BOMB_MESSAGE


def test_a_document_of_too_many_parts_is_refused(app):
    parts = {f"word/media/image{number}.png": b"" for number in range(10_001)}

    assert refusal(app, make_office("word/document.xml", **parts), "rules.docx",
                   max_size=10 * LIMIT) == ZIP_BOMB_MESSAGE


def test_a_workbook_with_macros_is_refused(app):
    workbook = make_office("xl/workbook.xml", **{"xl/vbaProject.bin": b"macro"})

    assert refusal(app, workbook, "data.xlsx") == "Files with macros cannot be accepted."


@pytest.mark.parametrize("uploaded, shown", [
    ("绿色工厂自评价报告（2024年）.pdf", "绿色工厂自评价报告（2024年）.pdf"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\报告.pdf", "报告.pdf"),
    ("C:\\Users\\张三\\Desktop\\报告.pdf", "报告.pdf"),
    ("C:报告.pdf", "报告.pdf"),
    ("报告\r\nX-Injected: yes.pdf", "报告X-Injected_ yes.pdf"),
    ("报告\x00.exe.pdf", "报告.exe.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),   # shown as "invoiceexe.pdf" with the override
    ("zero\u200bwidth.pdf", "zerowidth.pdf"),
    ("  多余   空格 .pdf  ", "多余 空格.pdf"),
    ('a<b>c:d"e|f?g*.pdf', "a_b_c_d_e_f_g_.pdf"),
    (".pdf", "file.pdf"),
    ("../", "file.pdf"),
    ("\u202e\r\n", "file.pdf"),
    (None, "file.pdf"),
])
def test_the_shown_name_keeps_chinese_and_drops_folders_and_invisible_characters(uploaded, shown):
    assert clean_filename(uploaded, "pdf") == shown


def test_a_long_name_is_cut_to_200_characters_keeping_its_extension():
    shown = clean_filename("很长的文件名" * 100 + ".xlsx")

    assert len(shown) == 200
    assert shown.endswith("文件名.xlsx") or shown.endswith(".xlsx")


def test_a_bidi_override_cannot_disguise_the_kind_of_a_file(app, samples):
    # "photo\u202egnp.pdf" displays as "photofdp.png" in a browser; it is a PDF name for a PNG.
    assert refusal(app, samples["png"], "photo\u202egnp.pdf") == MISMATCH.format(".pdf")


def test_an_upload_refusal_is_a_service_error_about_the_file_field(app):
    with app.app_context(), pytest.raises(ServiceError) as refused:
        check_upload(io.BytesIO(b""), "report.pdf", max_size=LIMIT)

    assert refused.value.field == "file"


def test_the_refusal_is_in_the_users_language(app):
    with app.app_context(), force_locale("zh"), pytest.raises(UploadRefused) as refused:
        check_upload(io.BytesIO(b""), "report.pdf", max_size=LIMIT)

    assert str(refused.value.message)  # the catalogue may not have it yet; it must render


class OneWayStream(io.RawIOBase):
    """A stream that cannot seek, like some WSGI inputs."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


@pytest.fixture()
def fresh_storage(app, tmp_path):
    previous = app.config["CERTIFY_STORAGE_DIR"]
    app.config["CERTIFY_STORAGE_DIR"] = str(tmp_path / "storage")
    with app.app_context():
        yield Path(app.config["CERTIFY_STORAGE_DIR"])
    app.config["CERTIFY_STORAGE_DIR"] = previous


def test_an_accepted_upload_is_stored_under_its_sha256(fresh_storage, samples):
    saved = save_upload(OneWayStream(samples["docx"]), "管理制度.docx")

    assert storage.path_of(saved.sha256).read_bytes() == samples["docx"]
    assert saved.size == len(samples["docx"])
    assert saved.display_name == "管理制度.docx"
    assert saved.content_type.endswith("wordprocessingml.document")


def test_a_refused_upload_stores_nothing(fresh_storage, samples):
    with pytest.raises(UploadRefused):
        save_upload(io.BytesIO(samples["png"]), "photo.pdf")

    assert not fresh_storage.exists() or not any(fresh_storage.rglob("*"))


def test_a_download_keeps_its_chinese_name_with_an_ascii_fallback():
    header = content_disposition("绿色工厂 证书.pdf")

    assert header.startswith("attachment; filename=")
    assert f"filename*=UTF-8''{quote('绿色工厂 证书.pdf')}" in header
    assert header.isascii()


def test_a_download_name_cannot_break_the_header():
    header = content_disposition('报告"\r\nSet-Cookie: a=b.pdf', as_attachment=False)

    assert header.startswith("inline; ")
    assert "\r" not in header and "\n" not in header
    assert '"\r\n' not in header
