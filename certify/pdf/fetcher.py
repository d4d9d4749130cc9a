"""The only way a PDF template can reach anything outside itself.

WeasyPrint fetches whatever a document names: ``<img src>``, stylesheets, ``@import``,
``url(...)``, fonts, ``<link rel=attachment>`` (which would embed the file in the PDF). A
template that shows user-supplied text must never turn into a way of reading the server's files
or reaching its network. So every fetch is refused except:

- ``certify-asset:<path>``: a file of the package's ``assets/`` folder, or a prepared font,
  looked up in an exact list made when the fetcher is built (no path is ever joined);
- ``data:`` URLs of PNG, JPEG and SVG images (e.g. a QR code made in Python).

A refused URL raises inside WeasyPrint, which logs it and renders the page without it.
"""

import base64
import binascii
import logging
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote_to_bytes

from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

SCHEME = "certify-asset:"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
DATA_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/svg+xml"})
_CONTENT_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf"}


class URLRefused(ValueError):
    """A document named something outside the allowed assets."""


def asset_url(relative_path: str) -> str:
    """The URL by which templates name a file of ``certify/pdf/assets/``."""
    return SCHEME + relative_path


def package_assets() -> dict[str, Path]:
    """Every file of the assets folder, by its URL."""
    return {asset_url(path.relative_to(ASSETS_DIR).as_posix()): path
            for path in sorted(ASSETS_DIR.rglob("*")) if path.is_file()}


class AssetFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves an exact list of files and image ``data:`` URLs,
    and refuses everything else (``file:``, ``http(s):``, other ``data:``, any other scheme)."""

    def __init__(self, files: Mapping[str, Path]):
        # No protocol is allowed to the parent class: its own fetching is never used.
        super().__init__(allowed_protocols=(), allow_redirects=False)
        self._files = dict(files)

    def fetch(self, url, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return _data_response(url)
        path = self._files.get(url)
        if path is None:
            raise _refuse(url)
        content_type = _CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        return URLFetcherResponse(url, path.read_bytes(),
                                  {"Content-Type": content_type or "application/octet-stream"})


def _data_response(url: str) -> URLFetcherResponse:
    header, comma, payload = url[len("data:"):].partition(",")
    parameters = [part.strip().lower() for part in header.split(";")]
    if not comma or parameters[0] not in DATA_IMAGE_TYPES:
        raise _refuse(url)
    try:
        if "base64" in parameters[1:]:
            body = base64.b64decode(unquote_to_bytes(payload), validate=True)
        else:
            body = unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise _refuse(url) from exc
    return URLFetcherResponse(url, body, {"Content-Type": parameters[0]})


def _refuse(url: str) -> URLRefused:
    shown = url if len(url) <= 120 else url[:120] + "…"
    log.warning("PDF rendering refused to fetch %s", shown)
    return URLRefused(f"not an allowed PDF asset: {shown}")
