"""PDFs show Chinese correctly in a small file, and a template can read nothing from the server's
disk or network."""

import base64
import http.server
import io
import re
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from certify.pdf import asset_url, html_to_pdf, pdf_health, prepare_fonts, render_pdf
from certify.pdf.fetcher import AssetFetcher, URLRefused
from certify.pdf.fonts import font_dir
from certify.pdf.render import PdfRenderer, renderer

CERTIFICATE_TEXT = (
    "绿色工厂证书 成都市青羊区绿色制造示范有限公司 统一社会信用代码 91510100MA0000001X "
    "经第三方评价机构评价、主管部门审核并公示，该企业被认定为四川省绿色工厂。"
    "有效期三年，期间接受动态管理。四川省经济和信息化厅 二〇二四年十二月"
)


def page(body: str, head: str = "") -> str:
    return (f"<!doctype html><html lang=zh><head><meta charset=utf-8>{head}</head>"
            f"<body>{body}</body></html>")


def text_of(pdf: bytes) -> str:
    """All the text of a PDF, without whitespace (letter-spaced titles come back spaced)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))


def without_whitespace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def embedded_fonts(pdf: bytes) -> list[tuple[str, list[str]]]:
    """(font name, font file keys) of every font used on every page."""
    fonts = []
    for reader_page in PdfReader(io.BytesIO(pdf)).pages:
        for font in reader_page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            files = [key for key in descriptor if key.startswith("/FontFile")]
            fonts.append((str(font["/BaseFont"]), files))
    return fonts


def image_count(pdf: bytes) -> int:
    """Images anywhere in the PDF, including inside patterns (CSS backgrounds)."""
    reader = PdfReader(io.BytesIO(pdf))
    count = 0
    for number in range(1, reader.trailer["/Size"]):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001,S112 - free object numbers have nothing to read
            continue
        if hasattr(obj, "get") and obj.get("/Subtype") == "/Image":
            count += 1
    return count


@pytest.fixture()
def pdf_app(app):
    with app.app_context():
        yield app


@pytest.fixture()
def refused(monkeypatch) -> list[str]:
    """The URLs the renderer's fetcher refuses during the test."""
    urls = []
    fetch = AssetFetcher.fetch

    def recording_fetch(self, url, headers=None):
        try:
            return fetch(self, url, headers)
        except URLRefused:
            urls.append(url)
            raise

    monkeypatch.setattr(AssetFetcher, "fetch", recording_fetch)
    return urls


def test_this_machine_has_what_pdfs_need():
    assert pdf_health() == []


def test_chinese_text_renders_and_reads_back(pdf_app):
    pdf = html_to_pdf(page(f"<h1 style='letter-spacing: 0.5em'>证书</h1><p>{CERTIFICATE_TEXT}</p>"))

    assert pdf.startswith(b"%PDF-")
    assert without_whitespace(CERTIFICATE_TEXT) in text_of(pdf)
    assert "证书" in text_of(pdf)


def test_the_prepared_truetype_font_is_embedded_and_keeps_a_chinese_page_small(pdf_app):
    body = "<h1>四川省绿色工厂证书</h1>" + f"<p>{CERTIFICATE_TEXT}</p>" * 6 + "<p><b>特此证明</b></p>"

    pdf = html_to_pdf(page(body))

    fonts = embedded_fonts(pdf)
    assert fonts and all(keys == ["/FontFile2"] for _, keys in fonts), fonts  # TrueType, embedded
    assert all("Certify-Sans" in name for name, _ in fonts), fonts
    assert len({name.split("+")[-1] for name, _ in fonts}) == 2, "regular and bold faces"
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert len(pdf) < 100_000


def test_a_template_is_rendered_with_its_context_escaped(pdf_app):
    template = pdf_app.jinja_env.from_string("<p>{{ organisation }}</p><p>{{ number }}</p>")

    pdf = render_pdf(template, organisation="<b>成都某某</b>有限公司", number="GF-2024-0001")

    assert "<b>成都某某</b>有限公司" in text_of(pdf)
    assert "GF-2024-0001" in text_of(pdf)


def test_generated_content_shows_in_the_text_so_the_leak_checks_below_can_see_it(pdf_app):
    pdf = html_to_pdf(page("<p>正文</p>", "<style>body::after { content: 'VISIBLE' }</style>"))

    assert "VISIBLE" in text_of(pdf)


@pytest.fixture()
def secret_files(tmp_path) -> dict[str, Path]:
    """Files a hostile template would like to read: a stylesheet that would print a marker and
    an image."""
    stylesheet = tmp_path / "evil.css"
    stylesheet.write_text("body::after { content: 'LEAKED' }", encoding="utf-8")
    image = tmp_path / "secret.png"
    image.write_bytes(base64.b64decode(TINY_PNG))
    return {"css": stylesheet, "png": image}


TINY_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJ"
            "RU5ErkJggg==")


@pytest.mark.parametrize("hostile", [
    "<img src='file:///etc/passwd' alt=''>",
    "<img src='{png_uri}' alt=''>",
    "<link rel=stylesheet href='{css_uri}'>",
    "<style>@import '{css_uri}';</style>",
    "<style>@import url({css_uri});</style>",
    "<div style='background: url({png_uri}); width: 10mm; height: 10mm'></div>",
    "<style>@font-face {{ font-family: Evil; src: url({css_uri}) }} "
    "p {{ font-family: Evil }}</style>",
    "<object data='{png_uri}'></object><embed src='{png_uri}'>",
    "<svg width=20 height=20><image href='{png_uri}' width=20 height=20 /></svg>",
    "<img src='certify-asset:../fetcher.py' alt=''><img src='certify-asset:/etc/passwd' alt=''>",
    "<link rel=stylesheet href='data:text/css,body::after{{content:\"LEAKED\"}}'>",
    "<img src='data:image/svg+xml,<svg xmlns=\"http://www.w3.org/2000/svg\">"
    "<image href=\"{png_uri}\" width=\"9\" height=\"9\"/></svg>' alt=''>",
])
def test_a_template_cannot_read_local_files(pdf_app, secret_files, hostile, refused):
    html = page("<p>正文</p>" + hostile.format(css_uri=secret_files["css"].as_uri(),
                                              png_uri=secret_files["png"].as_uri()))

    pdf = html_to_pdf(html)

    assert "正文" in text_of(pdf)
    assert "LEAKED" not in text_of(pdf)
    assert image_count(pdf) == 0
    assert refused, "the fetcher was asked and said no"


def test_a_template_cannot_attach_a_local_file_to_the_pdf(pdf_app, refused):
    pdf = html_to_pdf(page("<p>正文</p>", "<link rel=attachment href='file:///etc/passwd'>"))

    assert b"/EmbeddedFile" not in pdf
    assert b"root:" not in pdf
    assert refused == ["file:///etc/passwd"]


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        RecordingHandler.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body::after { content: 'LEAKED' }")

    def log_message(self, *args):
        pass


@pytest.fixture()
def listening_server():
    RecordingHandler.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_template_cannot_reach_the_network(pdf_app, listening_server, refused):
    base = f"http://{listening_server}"
    html = page(
        f"<p>正文</p><img src='{base}/image.png'><img src='https://{listening_server}/x.png'>"
        f"<div style='background: url({base}/bg.png)'>x</div>",
        f"<link rel=stylesheet href='{base}/x.css'>"
        "<link rel=stylesheet href='http://127.0.0.1:1/x.css'>"
        f"<style>@import url({base}/import.css); @font-face {{ font-family: Net; "
        f"src: url({base}/font.ttf) }}</style><link rel=attachment href='{base}/a.txt'>",
    )

    pdf = html_to_pdf(html)

    assert RecordingHandler.requests == []
    assert {f"{base}/x.css", "http://127.0.0.1:1/x.css", f"{base}/import.css", f"{base}/font.ttf",
            f"{base}/image.png", f"https://{listening_server}/x.png"} <= set(refused)
    assert "LEAKED" not in text_of(pdf)
    assert "正文" in text_of(pdf)


def test_image_data_urls_and_package_assets_are_allowed(pdf_app):
    html = page(f"<p>正文</p><img src='data:image/png;base64,{TINY_PNG}' style='width: 5mm'>",
                f"<link rel=stylesheet href='{asset_url('base.css')}'>")

    pdf = html_to_pdf(html)

    assert image_count(pdf) == 1
    assert "正文" in text_of(pdf)


def test_one_font_configuration_serves_every_document(pdf_app):
    assert renderer() is renderer()
    font_config = renderer().font_config

    html_to_pdf(page("<p>一</p>"))
    html_to_pdf(page("<p>二</p>"))

    assert renderer().font_config is font_config


def test_fonts_are_prepared_once(pdf_app):
    first = prepare_fonts()
    modified = {weight: path.stat().st_mtime_ns for weight, path in first.items()}

    again = prepare_fonts()

    assert again == first
    assert {weight: path.stat().st_mtime_ns for weight, path in again.items()} == modified
    assert all(path.parent == font_dir() for path in first.values())


def test_without_the_prepared_font_chinese_still_renders_from_the_system_font(pdf_app):
    pdf = PdfRenderer(fonts={}).render(page(f"<p>{CERTIFICATE_TEXT}</p>"))

    assert without_whitespace(CERTIFICATE_TEXT) in text_of(pdf)
    assert all("Noto-Sans-CJK-SC" in name for name, _ in embedded_fonts(pdf))


# Characters of Chinese running text whose glyphs come last in Noto Sans CJK SC (above 58,000).
RUNNING_PUNCTUATION = "，：；！？“”‘’（）"


@pytest.mark.parametrize("face", ["sans-regular", "sans-bold"])
def test_the_prepared_sans_faces_number_punctuation_first_and_keep_every_character(pdf_app, face):
    from fontTools.ttLib import TTCollection, TTFont

    from certify.pdf.fonts import SOURCE_FACES

    prepared = TTFont(prepare_fonts()[face], lazy=True)
    collection, postscript_name = SOURCE_FACES[face]
    source = next(font for font in TTCollection(collection, lazy=True).fonts
                  if font["name"].getDebugName(6) == postscript_name)
    cmap, source_cmap = prepared.getBestCmap(), source.getBestCmap()

    assert cmap.keys() == source_cmap.keys()
    assert prepared["maxp"].numGlyphs == source["maxp"].numGlyphs
    assert prepared.getGlyphOrder()[0] == ".notdef"
    front = {character: prepared.getGlyphID(cmap[ord(character)]) for character in RUNNING_PUNCTUATION}
    assert max(front.values()) < 400, front
    assert prepared.getGlyphID("uniFB01") < 400  # the fi ligature of English text
    # Ideographs keep their order (and so, near enough, their numbers).
    ideographs = [prepared.getGlyphID(cmap[ord(character)]) for character in "一川省绿造验龟"]
    assert ideographs == sorted(ideographs)
    assert "vmtx" not in prepared and "vhea" not in prepared


def test_a_chinese_page_with_punctuation_embeds_no_more_glyph_slots_than_its_characters_need(pdf_app):
    with_punctuation = html_to_pdf(page("<p>四川省绿色制造，“绿色工厂”：认定（2026）。</p>"))
    without = html_to_pdf(page("<p>四川省绿色制造绿色工厂认定2026</p>"))

    font_files = [PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"] for pdf in (with_punctuation, without)]
    sizes = [len(next(iter(fonts.values())).get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                 .get_object()["/FontFile2"].get_object().get_data()) for fonts in font_files]
    assert sizes[0] < sizes[1] * 1.1, sizes


def test_a_stylesheet_of_the_assets_applies_after_the_base_one_and_is_parsed_once(pdf_app):
    body = page("<p>横向 A4</p>")

    pdf = html_to_pdf(body, stylesheets=["certificate.css"])

    first_page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (round(float(first_page.mediabox.width)), round(float(first_page.mediabox.height))) == (842, 595)
    assert renderer()._asset_stylesheet("certificate.css") is renderer()._asset_stylesheet("certificate.css")
    portrait = PdfReader(io.BytesIO(html_to_pdf(body))).pages[0]
    assert round(float(portrait.mediabox.width)) == 595


def test_only_stylesheets_of_the_assets_can_be_named(pdf_app, secret_files):
    with pytest.raises(URLRefused):
        html_to_pdf(page("<p>正文</p>"), stylesheets=[secret_files["css"].as_uri()])
